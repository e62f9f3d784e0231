"""Load generator: N simulated avatars against a running server (``plaza bots``).

Scenario (the same one the Colyseus comparison used): heads walk circles of random radius
across the world at ~1.4 m/s with bobbing hands, every field changing every update, at the
world's input rate. Most bots read every byte without decoding; a few *observers* decode
everything and measure end-to-end latency from the sender's timestamp (``time.monotonic_ns``
— one clock for every process on the machine) to the moment the update is decoded; only other
bots' poses are measured (a browser in the world stamps its own clock, ``performance.now``).
Each bot walks inside the world's ``bounds`` from WELCOME, so any world works (``--world lobby``).
Bots are spread over processes so the Python bots are less often the bottleneck; their CPU is
reported so a reader can see when they were.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import random
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgpack

from server.mirror import StateMirror
from server.protocol import AVATAR_ACCESSORIES, AVATAR_LOOKS, AvatarField, CloseCode, MsgType

WALK_SPEED = 1.4
EDGE_MARGIN_M = 1.0  # a circle keeps its head and hands this far inside the world's bounds
MAX_PLAUSIBLE_LATENCY_MS = 60_000  # beyond this a sample cannot be one clock's difference


@dataclass(frozen=True)
class Walk:
    """A bot's circle: centre, radius, and the floor it walks on."""

    cx: float
    cz: float
    radius: float
    floor_y: float


def fit_walk(u: tuple[float, float, float], bounds: list[list[float]], floor_y: float, half_size: float) -> Walk:
    """Map three uniform [0, 1) draws to a circle inside ``bounds`` (WELCOME's
    ``[[minx, miny, minz], [maxx, maxy, maxz]]``), at most ``half_size`` from the origin."""
    lo_x, lo_z = max(bounds[0][0], -half_size), max(bounds[0][2], -half_size)
    hi_x, hi_z = min(bounds[1][0], half_size), min(bounds[1][2], half_size)
    room = min(hi_x - lo_x, hi_z - lo_z) / 2 - EDGE_MARGIN_M  # hands reach 0.3 m past the head
    r_max = max(0.5, min(20.0, room - 0.5))
    radius = min(r_max, 3.0 + u[0] * 17.0) if r_max > 3.0 else r_max
    m = radius + EDGE_MARGIN_M
    cx = lo_x + m + u[1] * max(0.0, hi_x - lo_x - 2 * m)
    cz = lo_z + m + u[2] * max(0.0, hi_z - lo_z - 2 * m)
    return Walk(cx, cz, radius, floor_y)


def now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def cpu_seconds(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def wait_quiet(pids: list[int], timeout: float = 90.0) -> bool:
    """Until a server's start-up work (model loads, placeholder generation, first retrain) is
    done: each process under 10 % of a core over a second. False if it never got quiet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        a = [cpu_seconds(p) for p in pids]
        time.sleep(1.0)
        if all(cpu_seconds(p) - x < 0.1 for p, x in zip(pids, a, strict=True)):
            return True
    return False


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def ws_frame_bytes(payload_len: int) -> int:
    """Bytes of a server-to-client WebSocket frame on the wire (unmasked header + payload)."""
    header = 2 if payload_len < 126 else 4 if payload_len < 65536 else 10
    return header + payload_len


@dataclass
class BotStats:
    rx_bytes: int = 0  # during the measurement window
    latencies_ms: list[int] = field(default_factory=list)
    disconnected: bool = False
    connected: bool = False
    errors: int = 0
    failure: str = ""
    implausible: int = 0  # latency samples dropped as not one clock's difference


@dataclass(frozen=True)
class Plan:
    url: str
    world: str
    n: int
    first_index: int
    observers: int
    warmup_s: float
    seconds: float
    seed: int
    half_size: float
    total: int  # bots in the whole run (names bot0..bot{total-1})


@contextlib.asynccontextmanager
async def _said_hello(
    http: aiohttp.ClientSession, url: str, hello: dict[str, object]
) -> AsyncIterator[tuple[aiohttp.ClientWebSocketResponse, aiohttp.WSMessage]]:
    """A socket that said HELLO, and its first answer; follows one MOVED to the worker that
    owns the instance (a cluster, docs/protocol.md)."""
    for _ in range(2):
        ws = await http.ws_connect(url, max_msg_size=0, autoping=True, compress=0)
        await ws.send_bytes(msgpack.packb([MsgType.HELLO, hello]))
        first = await ws.receive()
        if first.type != aiohttp.WSMsgType.BINARY or first.data[1] != MsgType.MOVED:
            break
        moved = msgpack.unpackb(first.data, strict_map_key=False)[1]
        await ws.close()
        url, hello = moved["url"], {**hello, "world": moved["world"], "instance": moved["instance"]}
    try:
        yield ws, first
    finally:
        await ws.close()


async def run_bot(index: int, plan: Plan, observer: bool, stats: BotStats, t0: float) -> None:
    rnd = random.Random(plan.seed * 100_003 + index)
    draws = (rnd.random(), rnd.random(), rnd.random())
    phase = rnd.uniform(0, 2 * math.pi)
    measure_from = t0 + plan.warmup_s
    stop_at = measure_from + plan.seconds
    mirror = StateMirror() if observer else None
    # Every look and accessory in turn, so a browser watching bots draws the worst case.
    n_looks, n_acc = len(AVATAR_LOOKS), len(AVATAR_ACCESSORIES)
    look = {"look": AVATAR_LOOKS[index % n_looks], "accessory": AVATAR_ACCESSORIES[index // n_looks % n_acc]}
    hello: dict[str, object] = {"v": 1, "name": f"bot{index}", "world": plan.world, "avatar": look}

    async def live(ws: aiohttp.ClientWebSocketResponse, first: aiohttp.WSMessage) -> dict[str, Any] | None:
        """One connection's life; a MOVED that ends it (our instance merged into another
        worker's) is returned, to walk on there."""
        nonlocal phase
        if first.type != aiohttp.WSMsgType.BINARY:
            stats.failure = f"no welcome: {first.type.name} {ws.close_code}"
            stats.disconnected = True
            return None
        welcome = msgpack.unpackb(first.data, strict_map_key=False)
        if welcome[0] != MsgType.WELCOME:
            stats.errors += 1
            stats.failure = f"first message type {welcome[0]}"
            return None
        rate = welcome[1]["input_rate"]
        bots = {f"bot{i}" for i in range(plan.total)}  # whose ts is our clock
        walk = fit_walk(draws, welcome[1]["bounds"], float(welcome[1]["spawn"][1]), plan.half_size)
        cx, cz, radius, floor = walk.cx, walk.cz, walk.radius, walk.floor_y
        omega = WALK_SPEED / radius
        # Walk from where the teleport lands, however late this bot got connected.
        late = time.monotonic() - t0
        phase -= omega * late
        angle = phase + omega * late
        start = (cx + radius * math.cos(angle), floor, cz + radius * math.sin(angle))
        await ws.send_bytes(msgpack.packb([MsgType.TELEPORT, list(start)]))
        stats.connected = True

        async def reader() -> None:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    break
                t = time.monotonic()
                if measure_from <= t < stop_at:
                    stats.rx_bytes += ws_frame_bytes(len(msg.data))
                if msg.data[1] == MsgType.TELEPORTED:
                    resync[0] += 1
                if msg.data[1] == MsgType.MOVED:
                    moved_to.append(msgpack.unpackb(msg.data, strict_map_key=False)[1])
                if mirror is None or msg.data[1] != MsgType.STATE:
                    continue
                m = msgpack.unpackb(msg.data, strict_map_key=False)
                rx = now_ms()
                for u in m[3]:
                    mirror.apply_enter(u)
                measure = measure_from <= t < stop_at
                for u in m[4]:
                    touched = mirror.apply_update(u)
                    if measure and touched & AvatarField.TS:
                        ent = mirror.entities[u[0]]
                        if ent.info.get("name") not in bots:
                            continue  # a person's browser: another clock
                        lat = (rx - ent.ts) % (1 << 32)
                        if lat <= MAX_PLAUSIBLE_LATENCY_MS:
                            stats.latencies_ms.append(lat)
                        else:
                            stats.implausible += 1
                for eid in m[5]:
                    mirror.entities.pop(eid, None)

        resync = [0, 0]  # TELEPORTED messages seen, handled
        moved_to: list[dict[str, Any]] = []  # a MOVED mid-session (consolidation): where to
        read_task = asyncio.create_task(reader())
        period = 1.0 / rate
        # Wait for TELEPORTED before walking (the server refuses jumps otherwise).
        await asyncio.sleep(0.3)
        next_t = time.monotonic() + rnd.uniform(0, period)
        tick = 0
        while time.monotonic() < stop_at and not ws.closed:
            await asyncio.sleep(max(0.0, next_t - time.monotonic()))
            # A starved bot skips the poses it missed instead of bursting them (a real
            # headset renders, it does not replay).
            next_t = max(next_t + period, time.monotonic())
            tick += 1
            el = time.monotonic() - t0
            a = phase + omega * el
            x, z = cx + radius * math.cos(a), cz + radius * math.sin(a)
            yaw = -a
            bob = 0.05 * math.sin(el * 6.0 + index)
            qy, qw = math.sin(yaw / 2), math.cos(yaw / 2)
            lean = 0.02 * math.sin(el * 2.0)
            if resync[0] > resync[1] + 1:  # a correction (the first one answers our teleport)
                resync[1] = resync[0] - 1
                await ws.send_bytes(msgpack.packb([MsgType.TELEPORT, [x, floor, z]]))
            head = [x, floor + 1.6 + 0.01 * math.sin(el * 3), z, lean, qy, 0.0, qw]
            left = [x - 0.3 * math.cos(yaw), floor + 1.2 + bob, z + 0.3 * math.sin(yaw), 0.1, qy, lean, qw]
            right = [x + 0.3 * math.cos(yaw), floor + 1.2 - bob, z - 0.3 * math.sin(yaw), -0.1, qy, lean, qw]
            await ws.send_bytes(msgpack.packb([MsgType.POSE, now_ms() % (1 << 32), head, left, right]))
        read_task.cancel()
        await asyncio.gather(read_task, return_exceptions=True)
        if ws.closed and ws.close_code == CloseCode.MOVED and moved_to:
            return moved_to[-1]  # our instance merged into another worker's: go there
        stats.disconnected = ws.closed
        if ws.closed:
            stats.failure = f"closed {ws.close_code}"
        return None

    url, hi = plan.url, hello
    try:
        async with aiohttp.ClientSession() as http:
            for _hop in range(3):
                async with _said_hello(http, url, hi) as (ws, first):
                    moved = await live(ws, first)
                if moved is None:
                    break
                if mirror is not None:
                    mirror.entities.clear()  # another instance: other entity ids
                url, hi = moved["url"], {**hello, "world": moved["world"], "instance": moved["instance"]}
    except (TimeoutError, aiohttp.ClientError, OSError) as e:
        stats.disconnected = True
        stats.failure = f"{type(e).__name__}: {e}"[:80]


async def run_group(plan: Plan) -> dict[str, object]:
    t0 = time.monotonic() + 0.5
    stats = [BotStats() for _ in range(plan.n)]
    cpu0 = cpu_seconds()
    tasks = []
    for i in range(plan.n):
        gi = plan.first_index + i
        tasks.append(asyncio.create_task(run_bot(gi, plan, i < plan.observers, stats[i], t0)))
        await asyncio.sleep(0.005)  # stagger connects
    await asyncio.sleep(max(0.0, t0 + plan.warmup_s - time.monotonic()))
    cpu_measure0 = cpu_seconds()
    await asyncio.gather(*tasks)
    cpu1 = cpu_seconds()
    return {
        "rx": [s.rx_bytes for s in stats],
        "lat": [x for s in stats for x in s.latencies_ms],
        "connected_at_end": sum(1 for s in stats if s.connected and not s.disconnected),
        "never_connected": sum(1 for s in stats if not s.connected),
        "errors": sum(s.errors for s in stats),
        "implausible": sum(s.implausible for s in stats),
        "failures": sorted({s.failure for s in stats if s.failure}),
        "cpu_s": cpu1 - cpu_measure0,
        "cpu_total_s": cpu1 - cpu0,
    }


def _worker(plan: Plan, q: mp.Queue) -> None:
    q.put(asyncio.run(run_group(plan)))


def percentile(xs: list[int], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return float(s[k])


def run_bots(
    url: str,
    n: int,
    seconds: float,
    world: str = "bench-field",
    procs: int = 0,
    observers: int = 4,
    warmup_s: float = 5.0,
    seed: int = 1,
    half_size: float = 50.0,
    server_pid: int | None = None,
) -> dict[str, object]:
    procs = procs or max(1, min(4, n // 100 + 1))
    per = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    obs_per = [observers // procs + (1 if i < observers % procs else 0) for i in range(procs)]
    q: mp.Queue = mp.get_context("spawn").Queue()
    ctx = mp.get_context("spawn")
    workers = []
    first = 0
    for i in range(procs):
        plan = Plan(url, world, per[i], first, obs_per[i], warmup_s, seconds, seed, half_size, n)
        first += per[i]
        w = ctx.Process(target=_worker, args=(plan, q), daemon=True)
        w.start()
        workers.append(w)
    srv0 = cpu_seconds(server_pid) if server_pid else None
    # Sample the server's CPU over the measurement window only.
    time.sleep(0.5 + warmup_s + 1.0)
    srv_a = cpu_seconds(server_pid) if server_pid else None
    t_a = time.monotonic()
    time.sleep(max(0.0, seconds - 2.0))
    srv_b = cpu_seconds(server_pid) if server_pid else None
    t_b = time.monotonic()
    rss = rss_mb(server_pid) if server_pid else None
    results = [q.get(timeout=warmup_s + seconds + 120) for _ in workers]
    for w in workers:
        w.join(10)
    rx = [x for r in results for x in r["rx"]]
    lat = [x for r in results for x in r["lat"]]
    bot_cpu = sum(float(r["cpu_s"]) for r in results)
    out: dict[str, object] = {
        "n": n,
        "seconds": seconds,
        "connected_at_end": sum(int(r["connected_at_end"]) for r in results),
        "never_connected": sum(int(r["never_connected"]) for r in results),
        "p50_ms": percentile(lat, 50),
        "p95_ms": percentile(lat, 95),
        "p99_ms": percentile(lat, 99),
        "latency_samples": len(lat),
        "rx_bytes_per_client_s": round(sum(rx) / max(1, len(rx)) / seconds, 1),
        "bot_cpu_pct": round(100 * bot_cpu / seconds, 1),
        "bot_procs": procs,
        "observers": observers,
        "errors": sum(int(r["errors"]) for r in results),
        "implausible_latencies": sum(int(r["implausible"]) for r in results),
        "failures": sorted({f for r in results for f in r["failures"]}),
    }
    if server_pid and srv_a is not None and srv_b is not None and srv0 is not None:
        out["server_cpu_pct"] = round(100 * (srv_b - srv_a) / (t_b - t_a), 1)
        out["server_rss_mb"] = round(rss or 0.0, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="plaza bots", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="ws://127.0.0.1:8080/ws")
    p.add_argument("--n", type=int, default=50)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--world", default="bench-field")
    p.add_argument("--procs", type=int, default=0, help="bot processes (default: by N)")
    p.add_argument("--observers", type=int, default=4)
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--server-pid", type=int, default=None, help="measure this process's CPU/RSS")
    a = p.parse_args(argv)
    host = a.url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]") and not host.startswith("127."):
        print("plaza bots only targets loopback addresses", file=sys.stderr)
        return 2
    res = run_bots(a.url, a.n, a.seconds, a.world, a.procs, a.observers, a.warmup, server_pid=a.server_pid)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
