"""A bounded fuzz run against a real server on loopback: mutated WebSocket frames, hostile HTTP
requests, and an honest observer that measures whether anyone else noticed.

    python bench/fuzz.py                          # one seed (0): 12,000 frames, 2,000 HTTP requests
    python bench/fuzz.py --seeds 0,1,2            # one fresh server per seed
    python bench/fuzz.py --frames 1500 --http 300 --url http://127.0.0.1:8080 --log data/server.log

Without ``--url`` it starts ``python -m server.cli serve --port P --data D`` exactly as a user
does (default settings otherwise: MiniLM recommender, world placeholders generated) on a free
loopback port with a temporary data directory, in which it first makes the accounts that the
shipped world files give roles to (as ``plaza admin create-account`` does): the lobby's owner
is the observer, its moderator drives half of the fuzzing sockets (so moderation and hosting
frames reach their deepest code paths), the others are guests. It waits (up to 120 s) for
``/api/health`` and for start-up work to end (every world's generated placeholders), so the
observer measures the fuzzing, not model loads. With ``--url`` it fuzzes a
server that is already running (``--data`` names its data directory when the accounts were
made there with ``prepare_accounts``; without them everyone is a guest).

Per seed:

1. ``--frames`` mutated WebSocket frames from ``--connections`` concurrent sockets: valid
   frames of every client message type made from the WELCOME (own spawn, objects, roster, an
   event), mutated (wrong types, NaN/inf/1e200/huge ints, ~1000-deep nesting, long strings,
   truncated msgpack, flipped bytes, random bytes, float32, ext types, oversized frames, text
   frames, missing and extra fields, frames before HELLO, bad HELLOs, short floods). A socket
   the server closes reconnects (bounded).
2. ``--http`` requests: every route of ``/api/openapi.json`` with junk path parameters, random
   methods, bad bodies, content types, query strings and Authorization headers; static paths
   (traversal, bad percent-encoding, long names) and malformed requests on a raw socket.
3. An honest observer (the lobby's owner, in its own process) with a mover next to it, so that
   STATE flows every tick: the largest gap between STATEs and the largest PING round trip.
4. The server's log is searched for tracebacks; a server this run started is stopped with
   SIGINT and must exit cleanly (status 0, within 30 s).

Prints one JSON line per seed; exits 1 when any seed had an HTTP 5xx, a server traceback, an
ERROR INTERNAL or a 1011 close, a leaked file, an observer stall over 500 ms, or an unclean
exit. Every loop is bounded in count and in time; only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import secrets
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
from yarl import URL

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.mutation import mutate  # noqa: E402  (shared with the in-process hub fuzz test)

HOST = "127.0.0.1"  # the only address this program ever talks to
MAX_FRAME = 16 * 1024
STALL_LIMIT_MS = 500.0
IDENT = [0.0, 0.0, 0.0, 1.0]

# Accounts made in a fresh data directory (names the shipped world files give roles to).
OBSERVER_ACCOUNT = "plaza-team"  # owns the lobby: no moderator can kick, ban or mute it
FUZZ_ACCOUNT = "kofi"  # a lobby moderator
HTTP_ACCOUNT = "dj-sol"  # owns concert-hall: creates events and invites over HTTP
SPARE_ACCOUNT = "fuzz-spare"  # an ordinary account whose password the HTTP fuzzer may send
ACCOUNTS = (OBSERVER_ACCOUNT, FUZZ_ACCOUNT, HTTP_ACCOUNT, SPARE_ACCOUNT)

# Message types (docs/protocol.md)
HELLO, POSE, GRAB, OBJECT_MOVE, RELEASE, CHAT, PING, TELEPORT, TRAVEL, MODERATE, REPORT, HOST_T, RSVP = range(1, 14)
WELCOME, STATE, PONG, ERROR, TELEPORTED = 64, 65, 69, 70, 71
ERROR_INTERNAL = 99

_pack = msgpack.Packer(use_bin_type=True).pack
_pack32 = msgpack.Packer(use_bin_type=True, use_single_float=True).pack


def packb(obj: object, single_float: bool = False) -> bytes:
    return (_pack32 if single_float else _pack)(obj)


def unpackb(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# ===== frame mutation =========================================================================
def nested_array(depth: int) -> bytes:
    """msgpack for [[[...[]...]]] ``depth`` arrays deep (msgpack.packb refuses to nest this far)."""
    return b"\x91" * (depth - 1) + b"\x90"


def nested_map(depth: int) -> bytes:
    """msgpack for {"k": {"k": ... {}}} ``depth`` maps deep."""
    return b"\x81\xa1k" * (depth - 1) + b"\x80"


def deep_frame(rng: random.Random, base: list) -> bytes:
    depth = rng.randrange(200, 1200)
    inner = nested_array(depth) if rng.random() < 0.6 else nested_map(depth)
    n = len(base)
    if n < 2:
        return b"\x92" + packb(base[0]) + inner
    i = rng.randrange(1, n)  # replace element i of the message by the nested value
    return bytes((0x90 | n,)) + b"".join(inner if j == i else packb(base[j]) for j in range(n))


@dataclass(slots=True)
class Frame:
    data: bytes | str
    kind: str  # what the mutation was (counted)


def long_chat(rng: random.Random, size: int) -> bytes:
    """A CHAT frame of exactly ``size`` bytes (str 32 header: 5 bytes; the array and type: 2)."""
    text = "w" * (size - 7)
    return b"\x92\x06\xdb" + struct.pack(">I", len(text)) + text.encode()


def fuzz_frame(rng: random.Random, valid: list[list]) -> Frame:
    """One hostile (or, 15% of the time, honest) frame made from the ``valid`` frames."""
    roll = rng.random()
    base = rng.choice(valid)
    if roll < 0.004:
        return Frame(rng.choice(["hello", json.dumps(base, default=str), "\x00" * 10, "é" * 300]), "text")
    if roll < 0.008:
        size = rng.randrange(MAX_FRAME + 1, 3 * MAX_FRAME)
        return Frame(long_chat(rng, size) if rng.random() < 0.5 else rng.randbytes(size), "oversized")
    if roll < 0.012:
        return Frame(long_chat(rng, rng.choice([MAX_FRAME, MAX_FRAME - 1, 600])), "at_limit")
    if roll < 0.05:
        return Frame(rng.randbytes(rng.randrange(0, 96)), "random_bytes")
    if roll < 0.1:
        return Frame(deep_frame(rng, base), "deep")
    if roll < 0.15:
        frame = packb(base)
        return Frame(frame[: rng.randrange(len(frame))], "truncated")
    if roll < 0.23:
        buf = bytearray(packb(base))
        for _ in range(rng.randrange(1, 4)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        return Frame(bytes(buf), "byte_flip")
    if roll < 0.27:
        t = rng.choice([0, 14, 63, 64, 65, 70, 75, 127, 128, 255, 2**32, -1, 1.5, "2", True, None, [1]])
        return Frame(packb([t, *base[1:]]), "wrong_type")
    if roll < 0.29:
        return Frame(packb(base, single_float=True), "float32")
    if roll < 0.31:  # a lone value, a map, an empty array: not a message at all
        return Frame(packb(rng.choice([[], {}, 7, "x", None, {"1": 2}, [[]]])), "not_array")
    if roll > 0.85:  # honest frames too: they move the state (held objects, live events) on
        return Frame(packb(base), "honest")
    msg: object = base
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        msg = mutate(rng, msg)
    try:
        return Frame(packb(msg, single_float=rng.random() < 0.1), "mutated")
    except (ValueError, OverflowError, TypeError):
        return Frame(packb(base), "honest")


def valid_frames(rng: random.Random, welcome: dict, event_key: str, worlds: list[str]) -> list[list]:
    """One valid frame of every client message type, made from a WELCOME."""
    x, y, z, _ = welcome.get("spawn") or [0.0, 0.0, 0.0, 0.0]
    me = int(welcome.get("id") or 1)
    objects = [int(e) for e in (welcome.get("objects") or {}).values()] or [me + 1]
    others = [int(r[0]) for r in welcome.get("roster") or [] if r and r[0] != me] or [me]
    obj, other = rng.choice(objects), rng.choice(others)
    hx, hz = x + rng.uniform(-0.5, 0.5), z + rng.uniform(-0.5, 0.5)
    head = [hx, y + 1.6, hz, *IDENT]
    hand = [hx + 0.3, y + 1.2, hz - 0.3, *IDENT]
    held = [hx, y + 1.0, hz - 0.6, *IDENT]
    world = welcome.get("world", "lobby")
    frames: list[list] = [
        [HELLO, {"v": [1], "name": "Fuzz", "world": world, "color": "#123456", "instance": f"{world}#1"}],
        [POSE, rng.randrange(2**32), head, hand, hand],
        [GRAB, obj],
        [OBJECT_MOVE, obj, held],
        [RELEASE, obj, held, [0.0, 2.0, -3.0]],
        [RELEASE, obj, held, [0.0, 0.0, 0.0]],
        [CHAT, "hello"],
        [CHAT, "/generate a small red cube"],
        [CHAT, "/generate"],
        [PING, rng.uniform(0, 1e9)],
        [PING, 123],
        [TELEPORT, [x + rng.uniform(-3, 3), y, z + rng.uniform(-3, 3)]],
        [TRAVEL, rng.choice(worlds)],
        [TRAVEL, rng.choice(worlds), "default"],
        [REPORT, other, "spam"],
        [RSVP, event_key, True],
        [RSVP, event_key, False],
    ]
    for action in ("kick", "mute", "unmute", "ban", "remove_object"):
        target = obj if action == "remove_object" else other
        frames.append([MODERATE, action, target, {"reason": "fuzz", "duration_s": 5}])
    for action in ("allow", "unban", "lock", "unlock"):
        frames.append([MODERATE, action, 0, {"user": rng.choice(["g:someone", "a:nobody", "a:kofi"])}])
    for action, args in (
        ("start", {}),
        ("end", {}),
        ("spotlight", {"ids": ["me", next(iter(welcome.get("objects") or {"crate": 0}))]}),
        ("spotlight", {"ids": []}),
        ("gather", {}),
        ("mute_chat", {"muted": True}),
        ("mute_chat", {"muted": False}),
        ("pin", {"text": "hi"}),
        ("pin", {"text": None}),
    ):
        frames.append([HOST_T, event_key, action, args])
    frames.append([STATE, 1, 2, [], [], []])  # a server->client type
    return frames


def hello_msg(world: str, token: str | None, instance: str | None, name: str) -> list:
    body: dict[str, object] = {"v": [1], "name": name, "world": world}
    if token:
        body["token"] = token
    if instance:
        body["instance"] = instance
    return [HELLO, body]


# ===== WebSocket fuzzing ========================================================================
@dataclass
class Shared:
    """What the fuzzing tasks count and share."""

    seed: int
    frames_target: int
    deadline: float
    ws_url: str
    worlds: list[str]
    event_key: str
    mod_token: str | None
    observer_instance: str | None
    mod_login: tuple[str, str] | None = None  # to sign in again when the token stops working
    base: str = ""
    ws_done: bool = False
    token_refreshes: int = 0
    _refreshed_at: float = 0.0
    frames_sent: int = 0
    frame_kinds: Counter[str] = field(default_factory=Counter)
    connects: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    close_reasons: Counter[str] = field(default_factory=Counter)
    internal: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)  # X-Plaza-Session ids for the HTTP fuzzer

    def more(self) -> bool:
        return self.frames_sent < self.frames_target and time.monotonic() < self.deadline

    async def refresh_mod_token(self, http: aiohttp.ClientSession) -> None:
        """The moderator's token was refused (4010), e.g. a fuzzed request signed the account out
        everywhere: sign in again, at most once a second."""
        if self.mod_login is None or time.monotonic() - self._refreshed_at < 1.0:
            return
        self._refreshed_at = time.monotonic()
        token = await sign_in(http, self.base, *self.mod_login)
        if token:
            self.mod_token = token
            self.token_refreshes += 1


class FuzzSocket:
    """One connection's reader: counts what comes back, keeps the latest WELCOME."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, shared: Shared, share_session: bool) -> None:
        self.ws, self.shared = ws, shared
        self.share_session = share_session  # guests' session ids go to the HTTP fuzzer
        self.welcome: dict | None = None
        self.welcomed = asyncio.Event()
        self.generation = 0  # bumps with each WELCOME (TRAVEL)
        self.task = asyncio.create_task(self._read())
        self.by_us = False
        self.close_code: int | None = None
        self.last_kind = ""

    async def _read(self) -> None:
        ws, sh = self.ws, self.shared
        code: int | None = None  # the code in the server's close frame (ws.close_code may be our reply's fate)
        while True:
            try:
                msg = await ws.receive(timeout=30)
            except (TimeoutError, asyncio.CancelledError):
                return
            except Exception:  # a broken transport ends the reader
                break
            if msg.type != aiohttp.WSMsgType.BINARY:
                if msg.type == aiohttp.WSMsgType.CLOSE:
                    code = int(msg.data)
                    sh.close_reasons[f"{code} {str(msg.extra or '')[:70]}"] += 1
                break
            data: bytes = msg.data
            t = data[1] if len(data) > 1 and data[0] & 0xF0 == 0x90 else None
            if t == WELCOME:
                self.welcome = unpackb(data)[1]
                self.generation += 1
                if self.share_session and self.welcome.get("session"):
                    sh.sessions.append(self.welcome["session"])
                    del sh.sessions[:-32]
                self.welcomed.set()
            elif t == ERROR:
                m = unpackb(data)
                sh.errors[str(m[1])] += 1
                if m[1] == ERROR_INTERNAL:
                    sh.internal.append(repr(m)[:300])
        self.close_code = code if code is not None else ws.close_code
        if not self.by_us:
            sh.closes[str(self.close_code)] += 1
            if code is None:  # no close frame from the server: what did we send last?
                sh.close_reasons[f"{self.close_code} without a close frame, after {self.last_kind}"] += 1

    async def close(self) -> None:
        self.by_us = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 2.0)
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task


async def fuzz_connection(idx: int, http: aiohttp.ClientSession, sh: Shared, max_connects: int) -> None:
    rng = random.Random(f"{sh.seed}/{idx}")
    moderator = idx % 2 == 0
    instance = sh.observer_instance if idx % 4 < 2 else None
    rate = 100.0  # frames a second on average, under the server's per-client limit (120/s)
    connects = 0
    world = "lobby"
    while sh.more() and connects < max_connects:
        connects += 1
        try:
            ws = await http.ws_connect(sh.ws_url, autoping=True, heartbeat=None, max_msg_size=8 * 2**20)
        except aiohttp.WSServerHandshakeError as e:
            sh.refused[str(e.status)] += 1
            await asyncio.sleep(0.3)
            continue
        except (aiohttp.ClientError, OSError) as e:
            sh.refused[type(e).__name__] += 1
            await asyncio.sleep(0.3)
            continue
        sh.connects += 1
        token = sh.mod_token if moderator else None
        # Not the moderator's sessions: with one, POST /api/me/signout-everywhere signs the
        # account out (the sign-in limiter may then refuse a new token for a minute).
        sock = FuzzSocket(ws, sh, share_session=token is None)
        try:
            await _drive(rng, ws, sock, sh, token, world, instance if world == "lobby" else None, rate)
        except (ConnectionError, RuntimeError, aiohttp.ClientError):
            pass
        finally:
            if not ws.closed:
                await sock.close()
            else:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(sock.task, 2.0)
        if token and sock.close_code == 4010:
            await sh.refresh_mod_token(http)
        # Refused (a moderator locked the lobby, or banned this guest): go somewhere else a while.
        world = rng.choice(sh.worlds) if sock.close_code == 4011 else "lobby" if rng.random() < 0.3 else world


async def _send(ws: aiohttp.ClientWebSocketResponse, sock: FuzzSocket, f: Frame) -> None:
    sh = sock.shared
    sock.last_kind = f.kind
    if isinstance(f.data, str):
        await ws.send_str(f.data)
    else:
        await ws.send_bytes(f.data)
    sh.frames_sent += 1
    sh.frame_kinds[f.kind] += 1


async def _drive(
    rng: random.Random,
    ws: aiohttp.ClientWebSocketResponse,
    sock: FuzzSocket,
    sh: Shared,
    token: str | None,
    world: str,
    instance: str | None,
    rate: float,
) -> None:
    fake_welcome = {"spawn": [0, 0, 6, 0], "id": 1, "objects": {"x": 2}, "world": "lobby"}
    if rng.random() < 0.25:  # frames before HELLO: NOT_JOINED (or MALFORMED), never a crash
        pre = valid_frames(rng, fake_welcome, sh.event_key, sh.worlds)[1:]
        for _ in range(rng.randrange(1, 5)):
            await _send(
                ws, sock, fuzz_frame(rng, pre) if rng.random() < 0.5 else Frame(packb(rng.choice(pre)), "pre_hello")
            )
    hello = hello_msg(world, token, instance, f"fz{rng.randrange(10**6)}")
    if rng.random() < 0.12:  # a hostile HELLO: usually refused with a close (4000/4002/4003/4010)
        await _send(ws, sock, Frame(packb(mutate(rng, hello)), "bad_hello"))
    else:
        await _send(ws, sock, Frame(packb(hello), "hello"))
    welcomed = asyncio.create_task(sock.welcomed.wait())
    await asyncio.wait([welcomed, sock.task], timeout=5.0, return_when=asyncio.FIRST_COMPLETED)
    if not welcomed.done():  # refused (the reader saw the close) or no answer
        welcomed.cancel()
        return
    gen, valid = -1, []
    while sh.more() and not ws.closed:
        if sock.generation != gen or rng.random() < 0.05:  # a fresh WELCOME (TRAVEL), new targets
            gen = sock.generation
            valid = valid_frames(rng, sock.welcome or fake_welcome, sh.event_key, sh.worlds)
        if rng.random() < 0.002:  # a short flood: RATE_LIMITED (dropped, never counted invalid)
            burst = rng.randrange(100, 300)
            for _ in range(burst):
                if ws.closed or not sh.more():
                    break
                await _send(ws, sock, Frame(packb(rng.choice(valid)), "flood"))
            await asyncio.sleep(1.2)
            continue
        n = rng.randrange(1, 9)
        for _ in range(n):
            if ws.closed:
                return
            await _send(ws, sock, fuzz_frame(rng, valid))
        await asyncio.sleep(n / rate)


# ===== HTTP fuzzing ============================================================================
PATH_JUNK = [
    "x", "a" * 300, "é" * 100, "..%2f..%2fetc%2fpasswd", "..%2F..%2F..%2Fplaza.sqlite3", "%2e%2e", "..", ".",
    "%00", "%ff%fe", "%E0%A4%A", "%", "名前", "%F0%9F%98%80", "lobby%00", "<script>", "'%20OR%201=1--", "-1",
    "0", "99999999999999999999", "1e309", "NaN", "null", "true", "%20", "a%2Fb", "lobby%23999", "lobby#1",
]  # fmt: skip
QUERY_JUNK = [
    "limit=-1", "limit=0", "limit=51", "limit=abc", "limit=1e309", "limit=NaN", "limit=" + "9" * 400, "limit=1&limit=2",
    "world=" + "w" * 300, "world=%00", "world=%E0%A4%A", "invite=" + "i" * 500, "invite=", "=", "&&&", "%ZZ=1",
    "a[b]=c", "x=" + "é" * 200, "world=lobby&extra=1", "limit=%20", "limit=1.5", "limit=true", "limit=[1]",
]  # fmt: skip
KEEP_OUT = ("/api/me/signout-everywhere", "/api/me/password", "/api/me/data")  # never with the owner's token
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
JSON_WEIRD: list[object] = [
    None, True, 0, -1, 2**64, 1.5, 1e308, "", "x" * 3000, [], {}, [1, 2], {"a": 1}, "a:" + "z" * 200, -0.0,
    ["tag"] * 50, "\u0000", "名前", {"$ref": "#"}, [[[[[]]]]],
]  # fmt: skip
STATIC_PATHS = [
    "/assets/" + "a" * 300, "/assets/" + "%C3%A9" * 120, "/w/%E0%A4%A", "/sdk/../../etc/passwd",
    "/sdk/%2e%2e/%2e%2e/etc/passwd", "/sdk/..%2f..%2f..%2fetc%2fpasswd", "/assets/..%2f..%2fserver%2fconfig.py",
    "/assets/%2e%2e/%2e%2e/pyproject.toml", "/assets/gen/" + "0" * 32 + ".glb", "/assets/gen/..%2f..%2fsecret.key.glb",
    "/assets/gen/%2e%2e%2fplaza.sqlite3", "/assets/gen/.glb", "/w/" + "w" * 300, "/w/%00", "/%00", "/", "/w/lobby",
    "/index.html", "//etc/passwd", "/js/../../server/config.py", "/js/%2e%2e/%2e%2e/server/config.py", "/api/%ff",
    "/api/worlds/%c0%ae%c0%ae", "/metrics", "/ws", "/sdk/client.js", "/sdk/", "/assets/", "/assets",
    "/assets/%5c..%5c..%5cetc%5cpasswd", "/api/" + "p" * 5000, "/" + "q" * 9000, "/api/worlds/lobby/..", "/api/../etc",
    "/api/worlds/?", "/api/worlds#frag", "/api/health/", "/API/HEALTH", "/api//worlds", "/assets/gen/%00.glb",
]  # fmt: skip
LEAK_MARKERS = (b"root:x:0:0", b"SQLite format 3", b"[project]", b"from __future__", b"BEGIN PRIVATE KEY")
RAW_REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    b"FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    b"G\x00T / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    b"GET /api/health HTTP/9.9\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    b"GET /api/health HTTP/1.0\r\n\r\n",
    b"GET http://evil.example/api/health HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"h" * 20000 + b"\r\nConnection: close\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColonHeader\r\nConnection: close\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: other\r\nConnection: close\r\n\r\n",
    b"POST /api/guest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
    b"POST /api/guest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
    b"POST /api/guest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: -1\r\n"
    b"Connection: close\r\n\r\n",
    b"POST /api/guest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 99999999999999999999\r\nConnection: close\r\n\r\n",
    b"POST /api/guest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"Content-Encoding: gzip\r\nConnection: close\r\n\r\n{}",
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: not-base64!\r\nSec-WebSocket-Version: 13\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: https://evil.example\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: null\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    b"GET /api/worlds HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 1.2.3.4, ::ffff:1\r\n"
    b'Forwarded: for="[::1";host=a\r\nConnection: close\r\n\r\n',
    b"GET /api/recommendations HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Plaza-Session: \xff\xfe\r\nConnection: close\r\n\r\n",
    b"GET /api/me/export HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \xc3\x28\xa0\xa1\r\n"
    b"Connection: close\r\n\r\n",
]


@dataclass
class HttpShared:
    seed: int
    target: int
    deadline: float
    base: str
    tokens: dict[str, str]  # label -> token
    passwords: dict[str, str]  # label -> password (only accounts the fuzzer may lose)
    ids: dict[str, list[str]]  # kind -> valid-looking ids
    sessions: list[str]
    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    fivexx: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    documented_503: int = 0
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (user, password)
    client_errors: list[str] = field(default_factory=list)  # requests the client could not complete
    finished: float = 0.0

    def more(self) -> bool:
        return self.sent < self.target and time.monotonic() < self.deadline


@dataclass(frozen=True)
class Op:
    path: str  # OpenAPI template, e.g. /api/worlds/{world}/events
    method: str
    body: dict[str, Any] | None  # resolved JSON schema of the body
    query: list[str]  # query parameter names
    params: list[str]  # path parameter names


def operations(doc: dict[str, Any]) -> list[Op]:
    schemas = doc.get("components", {}).get("schemas", {})
    out = []
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            body = None
            ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            if ref:
                body = schemas.get(ref.rsplit("/", 1)[-1])
            params = op.get("parameters", [])
            out.append(
                Op(
                    path,
                    method.upper(),
                    body,
                    [p["name"] for p in params if p.get("in") == "query"],
                    [p["name"] for p in params if p.get("in") == "path"],
                )
            )
    return out


def _plausible(name: str, schema: dict[str, Any], rng: random.Random, sh: HttpShared) -> object:
    """A value that passes the field's schema, judged by its name and type."""
    typ = schema.get("type")
    if typ is None:
        for alt in schema.get("anyOf", []):
            if alt.get("type") != "null":
                return _plausible(name, alt, rng, sh)
    soon = datetime.now(UTC) + timedelta(minutes=rng.randrange(5, 600))
    by_name: dict[str, Callable[[], object]] = {
        "user": lambda: rng.choice([SPARE_ACCOUNT, "nobody", f"fz{rng.randrange(10**5)}", "0livia", "Fuzz-Spare"]),
        "password": lambda: rng.choice([sh.passwords.get("spare", "x"), "wrong password", "short"]),
        "old_password": lambda: rng.choice([sh.passwords.get("spare", "x"), "wrong password"]),
        "new_password": lambda: rng.choice(["a much better password", "short"]),
        "setup_token": lambda: secrets.token_urlsafe(24),
        "name": lambda: rng.choice(["Bo", "Ada", OBSERVER_ACCOUNT, "fz1", " "]),
        "item": lambda: rng.choice(sh.ids.get("world", ["lobby"]) + sh.ids.get("event", [])),
        "tags": lambda: rng.sample(["music", "art", "social", "games", "talk"], rng.randrange(0, 4)),
        "title": lambda: "Fuzz gig",
        "start": lambda: soon.isoformat(),
        "duration_minutes": lambda: rng.choice([30, 60, 90.5]),
        "description": lambda: "a fuzz event",
        "capacity": lambda: rng.choice([None, 1, 50]),
        "stage": lambda: rng.choice(["main", "default", "stage"]),
        "role": lambda: rng.choice(["member", "moderator", None]),
        "hours": lambda: rng.choice([1, 24, 0.5]),
        "prompt": lambda: rng.choice(["a small red cube", "a mossy boulder"]),
        "seed": lambda: rng.randrange(100),
    }
    if name in by_name:
        return by_name[name]()
    return {"string": "x", "integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}.get(str(typ), "x")


def deep_json(depth: int, kind: str = "[") -> str:
    return ("[" * depth + "]" * depth) if kind == "[" else ('{"a":' * depth + "1" + "}" * depth)


def fuzz_body(rng: random.Random, op: Op, sh: HttpShared) -> tuple[bytes | None, str | None]:
    """(body bytes, content type) for a request to ``op``: valid, mutated, or nonsense."""
    props: dict[str, Any] = (op.body or {}).get("properties", {})
    required = (op.body or {}).get("required", [])
    obj: dict[str, object] = {
        k: _plausible(k, s, rng, sh) for k, s in props.items() if k in required or rng.random() < 0.6
    }
    ctype: str | None = "application/json"
    roll = rng.random()
    if op.body is None and rng.random() < 0.7:
        return None, None
    raw: bytes | None = None
    if roll < 0.25:
        pass  # valid
    elif roll < 0.45 and obj:  # wrong types
        for _ in range(rng.randrange(1, 3)):
            obj[rng.choice(list(obj))] = rng.choice(JSON_WEIRD)
    elif roll < 0.5:
        obj.pop(rng.choice(list(obj)), None) if obj else None
        obj[rng.choice(["extra", "__proto__", "user", "x" * 100, ""])] = rng.choice(JSON_WEIRD)
    elif roll < 0.55 and props:  # a huge field: within the 64 KiB body limit, or just past it
        obj[rng.choice(list(props))] = "h" * rng.choice([5000, 60000, 70000])
    elif roll < 0.6:  # deep nesting in a field or as the whole body
        d = rng.choice([200, 900, 990, 1500, 5000, 20000])
        inner = deep_json(d, rng.choice("[{"))
        key = rng.choice(list(props) or ["x"])
        raw = (f'{{"{key}": {inner}}}' if rng.random() < 0.6 else inner).encode()
    elif roll < 0.68:
        raw = rng.choice(
            [b"{", b"{]", b"not json", b"\xff\xfe\x00{", b'{"a":1,}', b"[1,2", b"NaN", b"Infinity", b"-Infinity",
             b'{"hours": NaN}', b'{"hours": Infinity}', b'{"duration_minutes": 1e999}', b'{"limit": -1e999}',
             b"\xef\xbb\xbf{}", b'{"a": "\\ud800"}', b'{"user": "\\u0000"}', b"null", b"[]", b"123", b'"str"',
             b'{"user": "a", "user": "b"}', json.dumps(obj).encode("utf-16"), b"\x00" * 100, b" " * 1000]
        )  # fmt: skip
    elif roll < 0.78:  # wrong content types (415 before the body is read)
        ctype = rng.choice(
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
             "application/json; charset=latin-1", "application/JSON", "application/json-patch+json", "", "*/*",
             "application/json; boundary=" + "b" * 2000]
        )  # fmt: skip
    elif roll < 0.82:
        ctype = None
    elif roll < 0.9 and props:  # boundary numbers everywhere
        for k, s in props.items():
            if s.get("type") in ("integer", "number") or any(
                a.get("type") in ("integer", "number") for a in s.get("anyOf", [])
            ):
                obj[k] = rng.choice([0, -1, 2**31, 2**63, 2**64, 1e308, -1e308, 1e-320, 0.1, 10**30])
    else:  # every field a weird value
        obj = {k: rng.choice(JSON_WEIRD) for k in props} or {"x": rng.choice(JSON_WEIRD)}
    if raw is None:
        try:
            raw = json.dumps(obj, allow_nan=True).encode()
        except (TypeError, ValueError):
            raw = b"{}"
    return raw, ctype


def fill_path(rng: random.Random, op: Op, sh: HttpShared) -> str:
    path = op.path
    for name in op.params:
        pool = {"world": "world", "key": "event", "id": "invite" if "invites" in path else "job"}.get(name, "world")
        valid = sh.ids.get(pool, [])
        if name == "key" and "/assets/gen/" in path:
            valid = sh.ids.get("asset", [])
        value = rng.choice(valid) if valid and rng.random() < 0.45 else rng.choice(PATH_JUNK)
        path = path.replace("{" + name + "}", value if "%" in value else urllib.parse.quote(value, safe=":#"))
    return path


def auth_headers(rng: random.Random, sh: HttpShared) -> dict[str, str]:
    h: dict[str, str] = {}
    roll = rng.random()
    if roll < 0.3:
        pass
    elif roll < 0.6 and sh.tokens:
        h["Authorization"] = "Bearer " + rng.choice(list(sh.tokens.values()))
    else:
        tok = rng.choice(list(sh.tokens.values()) or ["t"])
        h["Authorization"] = rng.choice(
            ["Bearer", "Bearer ", "Bearer  ", "bearer " + tok, "Basic dXNlcjpwYXNz", "Bearer " + "A" * 4000,
             "Bearer " + tok[:-1] + ("A" if tok[-1:] != "A" else "B"), "Bearer " + tok + ".x", "Bearer a.b.c",
             "Bearer g." + secrets.token_urlsafe(30), "Bearer a." + secrets.token_urlsafe(30), "Bearer ../../x",
             "Bearer " + tok + " " + tok, "Token " + tok, "Bearer null", "Bearer %00", "Bearer é"]
        )  # fmt: skip
    r2 = rng.random()
    if r2 < 0.15 and sh.sessions:
        h["X-Plaza-Session"] = rng.choice(sh.sessions)
    elif r2 < 0.25:
        h["X-Plaza-Session"] = rng.choice(["", "x", "0", "s" * 500, "null"])
    if rng.random() < 0.05:
        h["Origin"] = rng.choice(["https://evil.example", "null", "http://127.0.0.1"])
    if rng.random() < 0.05:
        h["X-Forwarded-For"] = rng.choice(["1.2.3.4", "unknown", "::1, 10.0.0.1", "x" * 300])
    return h


async def raw_request(port: int, request: bytes, sh: HttpShared, label: str) -> None:
    """Send bytes on a fresh socket; record the status line's code (or what happened)."""
    status = "no_response"
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 5)
        try:
            writer.write(request)
            await writer.drain()
            head = await asyncio.wait_for(reader.read(65536), 5)
            if head.startswith(b"HTTP/"):
                status = head.split(b" ", 2)[1].decode("ascii", "replace")
                body = head.split(b"\r\n\r\n", 1)[-1]
                if status.startswith("2") and any(m in body for m in LEAK_MARKERS):
                    sh.leaks.append(f"{label}: {body[:120]!r}")
            elif not head:
                status = "closed"
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2)
    except TimeoutError:
        status = "timeout"
    except OSError as e:
        status = type(e).__name__
    record(sh, status, label)


def record(sh: HttpShared, status: str, label: str, body: bytes = b"") -> None:
    sh.sent += 1
    sh.statuses[status] += 1
    if status.isdigit() and int(status) >= 500:
        if status == "503" and b'"unavailable"' in body and "/api/assets" in label:
            sh.documented_503 += 1  # generation without the [gen] extra: documented, not a fault
            return
        sh.fivexx.append(f"{status} {label} {body[:200]!r}")


async def http_worker(
    idx: int, http: aiohttp.ClientSession, ops: list[Op], sh: HttpShared, port: int, ws: Shared | None = None
) -> None:
    rng = random.Random(f"http/{sh.seed}/{idx}")
    while sh.more():
        # Spread the requests over the WebSocket fuzzing (the observer sees both at once).
        while (
            ws is not None
            and not ws.ws_done
            and ws.more()
            and sh.sent / sh.target > ws.frames_sent / ws.frames_target + 0.02
        ):
            await asyncio.sleep(0.05)
        roll = rng.random()
        if roll < 0.1:
            path = rng.choice(STATIC_PATHS)
            await raw_request(
                port, f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode(), sh, path
            )
            continue
        if roll < 0.13:
            i = rng.randrange(len(RAW_REQUESTS))
            await raw_request(port, RAW_REQUESTS[i], sh, f"raw#{i}")
            continue
        op = rng.choice(ops)
        method = op.method if rng.random() < 0.7 else rng.choice(METHODS)
        path = fill_path(rng, op, sh)
        if rng.random() < 0.35:
            qs = "&".join(rng.sample(QUERY_JUNK, rng.randrange(1, 3)))
            path += "?" + qs
        elif op.query and rng.random() < 0.5:
            path += "?" + "&".join(f"{q}={rng.choice(['1', '10', '50', 'lobby', 'concert-hall'])}" for q in op.query)
        body, ctype = fuzz_body(rng, op, sh)
        headers = auth_headers(rng, sh)
        if op.path in KEEP_OUT and headers.get("Authorization") == f"Bearer {sh.tokens.get('http')}":
            headers["Authorization"] = f"Bearer {sh.tokens.get('spare', 'x')}"  # the expendable account
        if ctype is not None and body is not None:
            headers["Content-Type"] = ctype
        label = f"{method} {path[:160]}"
        try:
            async with http.request(
                method,
                URL(sh.base + path, encoded=True),
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=15),
                allow_redirects=False,
            ) as r:
                data = await r.read()
                status = str(r.status)
                if r.status < 300 and any(m in data for m in LEAK_MARKERS):
                    sh.leaks.append(f"{label}: {data[:120]!r}")
                if r.status == 200 and method == "POST" and op.path == "/api/me/signout-everywhere":
                    await refresh_tokens(http, sh)  # keep the HTTP fuzzer's own tokens alive
        except TimeoutError:
            status, data = "timeout", b""
        except (aiohttp.ClientError, OSError, ValueError) as e:
            status, data = type(e).__name__, b""
            sh.client_errors.append(f"{label}: {type(e).__name__}: {e}"[:300])
        record(sh, status, label, data)


async def refresh_tokens(http: aiohttp.ClientSession, sh: HttpShared) -> None:
    for label, (user, pw) in list(sh.logins.items()):
        tok = await sign_in(http, sh.base, user, pw)
        if tok:
            sh.tokens[label] = tok


# ===== the honest observer (its own process) ===================================================
async def observer_main(cfg: dict[str, Any]) -> dict[str, Any]:
    """Join the lobby as an honest client plus a mover beside it; report STATE gaps and PING RTTs
    from 'ready' until 'stop' arrives on stdin (or ``max_s`` passes)."""
    url, token, max_s = cfg["ws_url"], cfg.get("token"), float(cfg.get("max_s", 300))
    res: dict[str, Any] = {
        "max_gap_ms": 0.0, "max_rtt_ms": 0.0, "states": 0, "pongs": 0, "pings": 0, "closed": [],
        "gaps_over_100ms": 0, "gaps_over_250ms": 0,
    }  # fmt: skip
    async with aiohttp.ClientSession() as http:
        obs = await http.ws_connect(url, heartbeat=None)
        await obs.send_bytes(packb(hello_msg("lobby", token, None, "observer")))
        welcome = await _await_welcome(obs)
        inst = welcome["instance"]
        mov = await http.ws_connect(url, heartbeat=None)
        await mov.send_bytes(packb(hello_msg("lobby", token, inst, "mover")))
        mwel = await _await_welcome(mov)
        base = {"obs": list(welcome["spawn"][:3]), "mov": list(mwel["spawn"][:3])}
        stop = asyncio.Event()
        pending: dict[int, float] = {}
        last_state: list[float] = []

        async def read(ws: aiohttp.ClientWebSocketResponse, who: str) -> None:
            while not stop.is_set():
                try:
                    msg = await ws.receive(timeout=0.5)
                except TimeoutError:
                    continue
                if msg.type != aiohttp.WSMsgType.BINARY:
                    if not stop.is_set():
                        res["closed"].append(f"{who}:{ws.close_code}")
                    return
                t = msg.data[1] if len(msg.data) > 1 else None
                now = time.monotonic()
                if who == "obs" and t == STATE:
                    if last_state:
                        gap = (now - last_state[0]) * 1000
                        res["max_gap_ms"] = max(res["max_gap_ms"], gap)
                        res["gaps_over_100ms"] += gap > 100
                        res["gaps_over_250ms"] += gap > 250
                        last_state[0] = now
                    else:
                        last_state.append(now)
                    res["states"] += 1
                elif t == PONG and who == "obs":
                    m = unpackb(msg.data)
                    sent = pending.pop(int(m[1]), None)
                    if sent is not None:
                        res["max_rtt_ms"] = max(res["max_rtt_ms"], (now - sent) * 1000)
                        res["pongs"] += 1
                elif t == TELEPORTED:  # a host gathered everyone: stand where we were put
                    base[who] = list(unpackb(msg.data)[1])

        async def walk(ws: aiohttp.ClientWebSocketResponse, who: str, amplitude: float) -> None:
            k = 0
            while not stop.is_set():
                k += 1
                x, y, z = base[who]
                hx = x + amplitude * math.sin(k / 20)
                head, hand = [hx, y + 1.6, z, *IDENT], [hx + 0.3, y + 1.2, z - 0.3, *IDENT]
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_bytes(packb([POSE, k, head, hand, hand]))
                if who == "obs" and k % 4 == 0:
                    n = res["pings"]
                    pending[n] = time.monotonic()
                    res["pings"] += 1
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await ws.send_bytes(packb([PING, n]))
                await asyncio.sleep(0.025)  # twice per tick: every tick has something to send

        tasks = [
            asyncio.create_task(c)
            for c in (read(obs, "obs"), read(mov, "mov"), walk(obs, "obs", 0.0), walk(mov, "mov", 0.5))
        ]
        await asyncio.sleep(0.5)
        print(json.dumps({"ready": True, "instance": inst, "session": welcome.get("session")}), flush=True)
        loop = asyncio.get_running_loop()
        line = loop.run_in_executor(None, sys.stdin.readline)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(line, max_s)
        now = time.monotonic()
        if last_state:  # a stall that is still going on counts too
            res["max_gap_ms"] = max(res["max_gap_ms"], (now - last_state[0]) * 1000)
        else:
            res["max_gap_ms"] = float("inf")
        for sent in pending.values():
            res["max_rtt_ms"] = max(res["max_rtt_ms"], (now - sent) * 1000)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ws in (obs, mov):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)
    res["max_gap_ms"] = round(res["max_gap_ms"], 1)
    res["max_rtt_ms"] = round(res["max_rtt_ms"], 1)
    return res


async def _await_welcome(ws: aiohttp.ClientWebSocketResponse) -> dict:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        msg = await ws.receive(timeout=15)
        if msg.type != aiohttp.WSMsgType.BINARY:
            raise RuntimeError(f"closed before WELCOME: {ws.close_code}")
        m = unpackb(msg.data)
        if m[0] == WELCOME:
            return m[1]
        if m[0] == ERROR:
            raise RuntimeError(f"refused: {m}")
    raise RuntimeError("no WELCOME")


class Observer:
    """The observer process: started before the fuzz, stopped (and read) after it."""

    def __init__(self, ws_url: str, token: str | None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--observe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"ws_url": ws_url, "token": token, "max_s": 300}) + "\n")
        self.proc.stdin.flush()
        ready = self._line(30)
        if not ready.get("ready"):
            self._end(0)
            raise RuntimeError(f"observer did not join: {ready}")
        self.instance: str = ready["instance"]

    def _line(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return {}
        line = self.proc.stdout.readline()
        try:
            return dict(json.loads(line)) if line.strip() else {}
        except ValueError:
            return {}

    def _end(self, wait_s: float) -> None:
        try:
            self.proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close() if pipe is not None else None

    def stop(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
        res = self._line(20)
        self._end(10)
        return res or {"max_gap_ms": float("inf"), "max_rtt_ms": float("inf"), "closed": ["observer-lost"]}


# ===== the server, its accounts and its log ====================================================
def prepare_accounts(data_dir: Path, worlds_dir: Path = REPO / "worlds") -> dict[str, str]:
    """Make the fuzz accounts in a data directory before the server starts (as
    ``plaza admin create-account`` does); returns name -> password. Written to
    ``data_dir/fuzz-accounts.json`` so a later ``--url``/``--data`` run finds them."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from server.hosting.admin import create_account

    pw = {name: "fuzz-" + secrets.token_hex(12) for name in ACCOUNTS}
    for name, password in pw.items():
        create_account(data_dir, worlds_dir, name, password)
    (data_dir / "fuzz-accounts.json").write_text(json.dumps(pw))
    return pw


def start_server(port: int, data: Path, timeout: float = 120.0) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--data", str(data)]
    with open(data / "server.log", "ab") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(data / 'server.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/api/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not answer /api/health in time")


def wait_settled(base: str, deadline: float) -> float:
    """Wait (until ``deadline``) for start-up work to end: every world's ``generate = "..."``
    placeholder generated (or failed). Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        busy = False
        try:
            with urllib.request.urlopen(base + "/api/worlds", timeout=5) as r:
                worlds = [w["id"] for w in json.loads(r.read())]
            for w in worlds:
                with urllib.request.urlopen(f"{base}/api/worlds/{w}", timeout=5) as r:
                    objects = json.loads(r.read()).get("world_info", {}).get("objects", [])
                gens = [o["generate"] for o in objects if isinstance(o.get("generate"), dict)]
                busy = busy or any(g.get("status") in ("pending", "queued", "running") for g in gens)
        except (OSError, ValueError, KeyError):
            busy = True
        if not busy:
            break
        time.sleep(0.5)
    time.sleep(1.0)  # the last model load's aftermath (first encodes, garbage)
    return time.monotonic() - t0


def proc_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used so far (Linux /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def stop_server(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int | None:
    """SIGINT and wait; the exit status, or None when it had to be killed."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def scan_log(text: str) -> tuple[int, int, list[str]]:
    """(tracebacks, ERROR lines, samples) in a server log: JSON lines (an ``exc``/``exc_info``/
    ``traceback``/``stack`` key, or ERROR/CRITICAL records) or text (``Traceback (most recent
    call last)`` blocks and ``ERROR`` lines)."""
    tracebacks = errors = 0
    samples: list[str] = []
    for line in text.splitlines():
        rec: Any = None
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                rec = json.loads(line)
        if isinstance(rec, dict):
            level = str(rec.get("level", rec.get("levelname", ""))).upper()
            tb = next((rec[k] for k in ("exc", "exc_info", "traceback", "stack") if rec.get(k)), None)
            if tb is None and "Traceback (most recent call last)" in str(rec.get("msg", "")):
                tb = rec["msg"]
            if level in ("ERROR", "CRITICAL"):
                errors += 1
            if tb is not None:
                tracebacks += 1
                samples.append(f"{rec.get('msg', '')}\n{str(tb)[-1500:]}")
            elif level in ("ERROR", "CRITICAL"):
                samples.append(str(rec.get("msg", ""))[:500])
        else:
            if "Traceback (most recent call last)" in line:
                tracebacks += 1
                samples.append(line[:500])
            elif " ERROR " in line or " CRITICAL " in line:
                errors += 1
                samples.append(line[:500])
    return tracebacks, errors, samples


# ===== one seed ===============================================================================
async def sign_in(http: aiohttp.ClientSession, base: str, user: str, password: str) -> str | None:
    try:
        async with http.post(base + "/api/signin", json={"user": user, "password": password}) as r:
            if r.status == 200:
                return str((await r.json())["token"])
    except (aiohttp.ClientError, OSError, ValueError):
        pass
    return None


async def _setup(http: aiohttp.ClientSession, base: str, passwords: dict[str, str]) -> dict[str, Any]:
    tokens: dict[str, str | None] = {}
    for name, pw in passwords.items():
        tokens[name] = await sign_in(http, base, name, pw)
    if missing := [n for n, t in tokens.items() if not t]:
        print(f"fuzz: could not sign in as {', '.join(missing)} (rate limited?): they join as guests", file=sys.stderr)
    async with http.get(base + "/api/openapi.json") as r:
        doc = await r.json()
    async with http.get(base + "/api/worlds") as r:
        worlds = [w["id"] for w in await r.json()] or ["lobby"]
    event_key = "lobby/none"
    ids: dict[str, Any] = {"world": [*worlds, "meeting-room"], "event": [], "invite": [], "job": [], "asset": []}
    start = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    if tokens.get(OBSERVER_ACCOUNT):  # an event in the lobby, for HOST and RSVP frames
        auth = {"Authorization": f"Bearer {tokens[OBSERVER_ACCOUNT]}"}
        body = {"title": "Fuzz gig", "start": start, "duration_minutes": 120, "stage": "default"}
        async with http.post(base + "/api/worlds/lobby/events", json=body, headers=auth) as r:
            if r.status == 201:
                event_key = (await r.json())["key"]
    if tokens.get(HTTP_ACCOUNT):
        auth = {"Authorization": f"Bearer {tokens[HTTP_ACCOUNT]}"}
        async with http.post(base + "/api/worlds/concert-hall/invites", json={"hours": 1}, headers=auth) as r:
            if r.status == 201:
                ids["invite"].append((await r.json())["invite"])
    async with http.get(base + "/api/events") as r:
        if r.status == 200:
            ids["event"] = [e["key"] for e in await r.json()][:10]
    ids["event"].append(event_key)
    ids["invite"] += ["inv-" + secrets.token_hex(8)]
    ids["job"] += [secrets.token_hex(8), "0" * 32]
    return {"tokens": tokens, "doc": doc, "worlds": worlds, "event_key": event_key, "ids": ids}


async def unlock_worlds(http: aiohttp.ClientSession, ws_url: str, token: str | None, worlds: list[str]) -> None:
    """Undo the fuzzers' ``lock``s, so that the next run against the same server can join."""
    if not token:
        return
    for world in worlds:
        with contextlib.suppress(Exception):
            async with http.ws_connect(ws_url, heartbeat=None) as ws:
                await ws.send_bytes(packb(hello_msg(world, token, None, "unlocker")))
                await asyncio.wait_for(_await_welcome(ws), 5)
                await ws.send_bytes(packb([MODERATE, "unlock", 0, {}]))
                await ws.send_bytes(packb([PING, 0]))
                deadline = time.monotonic() + 2
                while time.monotonic() < deadline:  # the PONG: the unlock was handled before it
                    msg = await ws.receive(timeout=2)
                    if msg.type != aiohttp.WSMsgType.BINARY or msg.data[1:2] == bytes((PONG,)):
                        break


async def fuzz_async(
    base: str,
    port: int,
    seed: int,
    frames: int,
    http_n: int,
    conns: int,
    max_s: float,
    passwords: dict[str, str],
    data: Path | None,
) -> dict[str, Any]:
    ws_url = base.replace("http://", "ws://") + "/ws"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32, force_close=False)) as http:
        setup = await _setup(http, base, passwords)
        tokens = setup["tokens"]
        observer = await asyncio.to_thread(Observer, ws_url, tokens.get(OBSERVER_ACCOUNT))
        try:
            deadline = time.monotonic() + max_s
            sh = Shared(
                seed, frames, deadline, ws_url, setup["worlds"], setup["event_key"], tokens.get(FUZZ_ACCOUNT),
                observer.instance,
            )  # fmt: skip
            sh.base = base
            if FUZZ_ACCOUNT in passwords:
                sh.mod_login = (FUZZ_ACCOUNT, passwords[FUZZ_ACCOUNT])
            ids = setup["ids"]
            if data is not None:
                ids["asset"] = [p.stem for p in (data / "assets").glob("*.glb")][:5]
            ids["asset"] += ["0" * 32, "nope"]
            http_tokens = {
                k: v for k, v in (("http", tokens.get(HTTP_ACCOUNT)), ("spare", tokens.get(SPARE_ACCOUNT))) if v
            }
            async with http.post(base + "/api/guest", json={"name": "Guesty"}) as r:
                if r.status == 200:
                    http_tokens["guest"] = (await r.json())["token"]
            hs = HttpShared(
                seed,
                http_n,
                deadline,
                base,
                http_tokens,
                {"spare": passwords.get(SPARE_ACCOUNT, "x")},
                ids,
                sh.sessions,
            )
            if HTTP_ACCOUNT in passwords:
                hs.logins["http"] = (HTTP_ACCOUNT, passwords[HTTP_ACCOUNT])
            ops = operations(setup["doc"])
            max_connects = max(20, frames // 15 // max(conns, 1))
            async with aiohttp.ClientSession() as ws_http, aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=8)
            ) as api_http:  # fmt: skip
                fuzz_t0 = time.monotonic()

                async def timed(jobs: list[Any], done: Callable[[], None] = lambda: None) -> float:
                    try:
                        await asyncio.gather(*jobs)
                    finally:
                        done()
                    return round(time.monotonic() - fuzz_t0, 1)

                ws_s, http_s = await asyncio.gather(
                    timed(
                        [fuzz_connection(i, ws_http, sh, max_connects) for i in range(conns)],
                        lambda: setattr(sh, "ws_done", True),
                    ),
                    timed([http_worker(i, api_http, ops, hs, port, sh) for i in range(4)]),
                )
        finally:
            obs = await asyncio.to_thread(observer.stop)
        await unlock_worlds(http, ws_url, sh.mod_token, setup["worlds"])
    return {
        "seed": seed,
        "frames_sent": sh.frames_sent,
        "connections": conns,
        "ws_connects": sh.connects,
        "ws_refused": dict(sh.refused),
        "closes_by_code": dict(sorted(sh.closes.items())),
        "ws_errors_by_code": dict(sorted(sh.errors.items(), key=lambda kv: int(kv[0]))),
        "ws_internal_errors": len(sh.internal),
        "ws_token_refreshes": sh.token_refreshes,
        "frame_kinds": dict(sh.frame_kinds.most_common()),
        "http_requests": hs.sent,
        "http_statuses": dict(sorted(hs.statuses.items())),
        "http_5xx": len(hs.fivexx),
        "http_503_documented": hs.documented_503,
        "http_leaks": len(hs.leaks),
        "observer_max_gap_ms": obs.get("max_gap_ms"),
        "observer_max_rtt_ms": obs.get("max_rtt_ms"),
        "observer_states": obs.get("states"),
        "observer_gaps_over_100ms": obs.get("gaps_over_100ms"),
        "observer_gaps_over_250ms": obs.get("gaps_over_250ms"),
        "observer_closed": obs.get("closed"),
        "ws_seconds": ws_s,
        "http_seconds": http_s,
        "_samples": {
            "5xx": hs.fivexx[:10],
            "leaks": hs.leaks[:10],
            "internal": sh.internal[:10],
            "client": hs.client_errors[:10],
            "close": [f"{n} x {r}" for r, n in sh.close_reasons.most_common(12)],
        },
    }


def run_seed(a: argparse.Namespace, seed: int) -> dict[str, Any]:
    t0 = time.monotonic()
    settle_s = 0.0
    with contextlib.ExitStack() as stack:
        proc = None
        if a.url:
            base = a.url.rstrip("/")
            port = URL(base).port or 80
            data = Path(a.data) if a.data else None
            log_path = Path(a.log) if a.log else (data / "server.log" if data else None)
            acc = data / "fuzz-accounts.json" if data else None
            passwords = json.loads(acc.read_text()) if acc and acc.is_file() else {}
        else:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"plaza-fuzz{seed}-")))
            passwords = prepare_accounts(data)
            port = free_port()
            base = f"http://{HOST}:{port}"
            log_path = data / "server.log"
            proc = start_server(port, data)
            settle_s = wait_settled(base, t0 + 120)
        log_offset = log_path.stat().st_size if log_path is not None and log_path.exists() and a.url else 0
        exit_code: int | None = 0
        server_cpu: float | None = None
        cpu0 = time.process_time()
        try:
            row = asyncio.run(
                fuzz_async(base, port, seed, a.frames, a.http, a.connections, a.max_seconds, passwords, data)
            )
        finally:
            if proc is not None:
                server_cpu = proc_cpu_s(proc.pid)
                exit_code = stop_server(proc)
        client_cpu = time.process_time() - cpu0
        time.sleep(0.2) if a.url else None  # let a running server write what it logs about the last frames
        text = ""
        if log_path is not None and log_path.exists():
            with open(log_path, "rb") as f:
                f.seek(log_offset)
                text = f.read().decode("utf-8", "replace")
        tracebacks, error_lines, samples = scan_log(text)
        if a.save_log:
            Path(a.save_log).write_text(text)
    row = {
        "bench": "fuzz",
        **row,
        "server_tracebacks": tracebacks,
        "server_error_lines": error_lines,
        "server_exit": exit_code if proc is not None else "not ours",
        "startup_settle_s": round(settle_s, 1),
        "server_cpu_s": None if server_cpu is None else round(server_cpu, 1),
        "fuzzer_cpu_s": round(client_cpu, 1),
        "seconds": round(time.monotonic() - t0, 1),
    }
    row["_samples"]["log"] = samples[:5]
    closes = row["closes_by_code"]
    row["ok"] = bool(
        row["http_5xx"] == 0
        and tracebacks == 0
        and row["ws_internal_errors"] == 0
        and closes.get("1011", 0) == 0
        and row["http_leaks"] == 0
        and (row["observer_max_gap_ms"] or 0) <= STALL_LIMIT_MS
        and not row["observer_closed"]
        and (proc is None or exit_code == 0)
    )
    return row


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--frames", type=int, default=12_000, help="WebSocket frames per seed")
    p.add_argument("--http", type=int, default=2_000, help="HTTP requests per seed")
    p.add_argument("--connections", type=int, default=8, help="concurrent fuzzing WebSockets")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", help="comma-separated seeds, e.g. 0,1,2 (one fresh server each)")
    p.add_argument("--max-seconds", type=float, default=120.0, help="bound on each seed's fuzzing phase")
    p.add_argument("--url", help="fuzz this running server (http://127.0.0.1:PORT) instead of starting one")
    p.add_argument("--data", help="with --url: its data directory (accounts from prepare_accounts, assets, log)")
    p.add_argument("--log", help="with --url: its log file (default DATA/server.log)")
    p.add_argument("--save-log", help="write the server's log of the run here")
    p.add_argument("--verbose", action="store_true", help="samples of every finding on stderr")
    p.add_argument("--observe", action="store_true", help=argparse.SUPPRESS)  # the observer process
    a = p.parse_args(argv)
    if a.url and URL(a.url).host != HOST:
        p.error(f"--url must be on {HOST}")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if a.observe:
        cfg = json.loads(sys.stdin.readline())
        print(json.dumps(asyncio.run(observer_main(cfg))), flush=True)
        return 0
    seeds = [int(s) for s in a.seeds.split(",")] if a.seeds else [a.seed]
    ok = True
    for seed in seeds:
        row = run_seed(a, seed)
        samples = row.pop("_samples")
        ok = ok and row["ok"]
        if a.verbose or not row["ok"]:
            for kind, items in samples.items():
                for s in items:
                    print(f"[{kind}] {s}", file=sys.stderr)
        print(json.dumps(row), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
