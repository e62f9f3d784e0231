"""Mutations of protocol values for fuzzing: odd values and one random change at a time.
Shared by the real-server fuzzer (bench/fuzz.py) and the in-process hub fuzz test."""

from __future__ import annotations

import math
import random

import msgpack

WEIRD: list[object] = [
    None, True, False, 0, -1, 1, 2**31, 2**32, 2**64 - 1, -(2**63), 0.5, -0.0, 5e-324, 1e200, -1e308,
    float("inf"), float("-inf"), float("nan"), "", " ", "\t\n", "x" * 5000, "y" * 15000, "a:", "g:x", "a:" + "z" * 300,
    "#zzzzzz", "#12345", "me", "lobby", "lobby#1", "lobby#999999", "../../etc/passwd", "<svg/onload=alert(1)>",
    "\u202e\u0000", "\ud7ff\ue000\U0010ffff", "名前" * 40, b"", b"\x00\xff", b"\x00" * 3000, [], [1] * 7, [None] * 7,
    [[0.0] * 7] * 3, list(range(300)), {}, {1: "int key"}, {"k": [[[[[]]]]]}, {f"k{i}": i for i in range(70)},
    {"user": 1, "ids": "me", "muted": "yes", "text": 5, "reason": None, "duration_s": -1},
    {"ids": ["me"] * 200, "text": "p" * 4000, "muted": 1, "user": "g:" + "q" * 500, "duration_s": 1e200},
    msgpack.ExtType(5, b"xx"), msgpack.ExtType(127, b"\x00" * 8), msgpack.Timestamp(0, 0),
]  # fmt: skip
EXTRA_KEYS = ["user", "ids", "muted", "text", "x", "v", "token", "invite", "instance", "color", "reason", "duration_s"]


def weird(rng: random.Random) -> object:
    if rng.random() < 0.1:
        return [weird(rng) for _ in range(rng.randrange(0, 9))]
    return rng.choice(WEIRD)


def mutate(rng: random.Random, value: object, depth: int = 0) -> object:
    """One random change somewhere in ``value`` (a copy): replace, delete, insert, retype."""
    if isinstance(value, list) and value and (depth == 0 or (rng.random() < 0.8 and depth < 4)):
        out = list(value)
        # the message itself stays an array with its type (other mutations break that)
        i = rng.randrange(1, len(out)) if depth == 0 and len(out) > 1 else rng.randrange(len(out))
        op = rng.random()
        if op < 0.55:
            out[i] = mutate(rng, out[i], depth + 1)
        elif op < 0.7:
            del out[i]
        elif op < 0.85:
            out.insert(i, weird(rng))
        elif op < 0.92:
            out.append(weird(rng))
        else:
            out[i] = weird(rng)
        return out
    if isinstance(value, dict) and value and rng.random() < 0.8 and depth < 4:
        out_d = dict(value)
        k = rng.choice(list(out_d))
        op = rng.random()
        if op < 0.6:
            out_d[k] = mutate(rng, out_d[k], depth + 1)
        elif op < 0.75:
            del out_d[k]
        else:
            out_d[rng.choice(EXTRA_KEYS)] = weird(rng)
        return out_d
    if isinstance(value, int | float) and not isinstance(value, bool) and rng.random() < 0.5:
        return rng.choice(
            [value * 1e300, -value, value + 0.5, math.nextafter(float(value), math.inf), float("nan"), 2**63, 1e6 + 1]
        )
    if isinstance(value, str) and rng.random() < 0.3:
        return rng.choice([value * 400, value.upper(), value + "\x00", " " + value + " ", value[:1], "\u0301" * 600])
    return weird(rng)
