"""Tick lateness under HTTP load: does the event loop keep the worlds' clocks while people
sign in and ask for recommendations?

    python bench/tick_lateness.py                       # 3 rounds (seeds), 10 s idle + 10 s loaded each
    python bench/tick_lateness.py --repo /tmp/plaza-old # the same against another checkout (a baseline)

Starts ``plaza serve`` exactly as a user does (default settings: MiniLM recommender, world
placeholders generated), on a free loopback port with a temporary data directory. One mover
walks in bench-field (20 Hz) and an observer records when each STATE arrives; lateness of a
tick = inter-arrival gap − 50 ms (≥ 0). Per round: an idle window, then a loaded window with
16 concurrent sign-ins and 8 concurrent ``/api/recommendations?limit=50`` requests, each
repeated back to back, then a generating window in which the 16 accounts keep the asset
generator busy (``POST /api/assets``, a new prompt and seed each time, so nothing comes from
the cache). Prints one JSON line per round and a summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import numpy as np

REPO = Path(__file__).resolve().parent.parent
PERIOD_S = 0.05
IDENT = [0.0, 0.0, 0.0, 1.0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(repo: Path, port: int, data: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--data", str(data)]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


async def join(http: aiohttp.ClientSession, url: str, name: str) -> tuple[aiohttp.ClientWebSocketResponse, dict]:
    ws = await http.ws_connect(url)
    await ws.send_bytes(msgpack.packb([1, {"v": [1], "name": name, "world": "bench-field"}]))
    while True:
        m = msgpack.unpackb((await ws.receive(timeout=10)).data, strict_map_key=False)
        if m[0] == 64:
            return ws, m[1]


async def mover(ws: aiohttp.ClientWebSocketResponse, welcome: dict, stop: asyncio.Event) -> None:
    x0, _, z0, _ = welcome["spawn"]
    k = 0
    while not stop.is_set():
        k += 1
        x = x0 + 0.5 * np.sin(k / 20)
        await ws.send_bytes(
            msgpack.packb([2, k, [x, 1.6, z0, *IDENT], [x - 0.3, 1.2, z0, *IDENT], [x + 0.3, 1.2, z0, *IDENT]])
        )
        await asyncio.sleep(PERIOD_S / 2)  # twice per tick: every tick has a change to send


async def observe(ws: aiohttp.ClientWebSocketResponse, arrivals: list[float] | None, stop: asyncio.Event) -> None:
    """Read everything sent to ``ws``; with ``arrivals``, note when each STATE arrives."""
    while not stop.is_set():
        try:
            msg = await ws.receive(timeout=0.5)
        except TimeoutError:
            continue
        if msg.type != aiohttp.WSMsgType.BINARY:
            return
        if arrivals is not None and msg.data[1] == 65:  # STATE (fixarray header, then the type)
            arrivals.append(time.monotonic())


async def load(http: aiohttp.ClientSession, base: str, users: list[str], stop: asyncio.Event) -> dict[str, int]:
    done = {"signins": 0, "recommendations": 0, "errors": 0}

    async def sign_in(u: str) -> None:
        while not stop.is_set():
            async with http.post(base + "/api/signin", json={"user": u, "password": "correct horse"}) as r:
                await r.read()
                done["signins" if r.status == 200 else "errors"] += 1

    async def recommend() -> None:
        while not stop.is_set():
            async with http.get(base + "/api/recommendations?limit=50") as r:
                await r.read()
                done["recommendations" if r.status == 200 else "errors"] += 1

    await asyncio.gather(*(sign_in(u) for u in users), *(recommend() for _ in range(8)))
    return done


def lateness_ms(arrivals: list[float]) -> dict[str, float]:
    gaps = np.diff(np.asarray(arrivals)) * 1000.0
    late = np.maximum(0.0, gaps - PERIOD_S * 1000.0)
    if late.size == 0:
        return {"ticks": 0}
    return {
        "ticks": int(late.size),
        "p50_ms": round(float(np.percentile(late, 50)), 2),
        "p99_ms": round(float(np.percentile(late, 99)), 2),
        "max_ms": round(float(late.max()), 2),
    }


PROMPTS = ("a mossy boulder", "a red wooden chair", "a tall brass lamp", "a small blue table", "a round stone fountain")


async def generating(http: aiohttp.ClientSession, base: str, tokens: list[str], stop: asyncio.Event) -> dict[str, int]:
    """Each account submits a generation, waits for it to finish, and submits the next."""
    done = {"generated": 0, "quota_waits": 0, "errors": 0}

    async def one(k: int, token: str) -> None:
        seed = k * 1000
        while not stop.is_set():
            seed += 1
            body = {"prompt": PROMPTS[seed % len(PROMPTS)], "seed": seed}
            auth = {"Authorization": f"Bearer {token}"}
            async with http.post(base + "/api/assets", json=body, headers=auth) as r:
                created = await r.json()
            if r.status != 202:
                done["quota_waits" if r.status == 429 else "errors"] += 1
                await asyncio.sleep(1.0)  # the quota (5 a minute each): wait, as a person would
                continue
            while not stop.is_set():
                async with http.get(base + created["status_url"]) as r:
                    state = (await r.json()).get("state")
                if state not in ("queued", "running"):
                    done["generated" if state == "done" else "errors"] += 1
                    break
                await asyncio.sleep(0.2)

    await asyncio.gather(*(one(k, t) for k, t in enumerate(tokens)))
    return done


async def sign_in_all(base: str, users: list[str]) -> list[str]:
    async with aiohttp.ClientSession() as http:
        out = []
        for u in users:
            async with http.post(base + "/api/signin", json={"user": u, "password": "correct horse"}) as r:
                out.append(str((await r.json())["token"]))
        return out


async def window(
    url: str, seconds: float, loaded: bool, base: str, users: list[str], tokens: list[str] | None = None
) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        mws, mwel = await join(http, url, f"mover{random.randrange(10**6)}")
        ows, _ = await join(http, url, f"observer{random.randrange(10**6)}")
        stop = asyncio.Event()
        arrivals: list[float] = []
        jobs = (mover(mws, mwel, stop), observe(mws, None, stop), observe(ows, arrivals, stop))
        tasks = [asyncio.create_task(c) for c in jobs]
        load_task = asyncio.create_task(load(http, base, users, stop)) if loaded else None
        if tokens:
            load_task = asyncio.create_task(generating(http, base, tokens, stop))
        await asyncio.sleep(1.0)
        arrivals.clear()
        await asyncio.sleep(seconds)
        stop.set()
        counts = await load_task if load_task else {}
        await asyncio.gather(*tasks, return_exceptions=True)
        await mws.close()
        await ows.close()
    return {**lateness_ms(arrivals), **counts}


async def register(base: str, users: list[str]) -> None:
    async with aiohttp.ClientSession() as http:
        for u in users:
            async with http.post(base + "/api/accounts", json={"user": u, "password": "correct horse"}) as r:
                await r.read()


def create_accounts(repo: Path, data: Path, users: list[str]) -> bool:
    if not (repo / "server" / "hosting" / "admin.py").exists():
        return False
    code = (
        "import sys; from pathlib import Path; from server.hosting.admin import create_account\n"
        "for u in sys.argv[3:]: create_account(Path(sys.argv[1]), Path(sys.argv[2]), u, 'correct horse')"
    )
    env = {**os.environ, "PYTHONPATH": str(repo)}
    subprocess.run([sys.executable, "-c", code, str(data), str(repo / "worlds"), *users], cwd=repo, env=env, check=True)
    return True


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repo", type=Path, default=REPO, help="checkout whose server to run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--settle", type=float, default=8.0, help="seconds after start before measuring")
    a = p.parse_args()
    rounds: list[dict[str, Any]] = []
    for seed in range(a.rounds):
        random.seed(seed)
        with tempfile.TemporaryDirectory() as d:
            port = free_port()
            users = [f"bench{seed}u{i}" for i in range(16)]
            # Registration is rate-limited per address: the operator makes the accounts (as
            # `plaza admin create-account` does) where the checkout has that tool.
            made = create_accounts(a.repo, Path(d), users)
            proc = start_server(a.repo, port, Path(d))
            try:
                base, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
                if not made:
                    asyncio.run(register(base, users))
                time.sleep(a.settle)  # let start-up work (model loads, placeholder assets) finish
                idle = asyncio.run(window(url, a.seconds, False, base, users))
                loaded = asyncio.run(window(url, a.seconds, True, base, users))
                tokens = asyncio.run(sign_in_all(base, users))
                gen = asyncio.run(window(url, a.seconds, False, base, users, tokens))
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait(30)
        row = {"bench": "tick_lateness", "seed": seed, "repo": str(a.repo), "idle": idle, "loaded": loaded,
               "generating": gen}  # fmt: skip
        rounds.append(row)
        print(json.dumps(row), flush=True)

    def mean(key: str, field: str) -> float:
        return round(float(np.mean([r[key][field] for r in rounds])), 2)

    summary: dict[str, Any] = {
        "bench": "tick_lateness",
        "summary": True,
        "rounds": len(rounds),
        **{f"{k}_{f}_mean": mean(k, f) for k in ("idle", "loaded", "generating") for f in ("p99_ms", "max_ms")},
    }
    summary["loaded_minus_idle_p99_ms"] = round(summary["loaded_p99_ms_mean"] - summary["idle_p99_ms_mean"], 2)
    summary["generating_minus_idle_p99_ms"] = round(
        summary["generating_p99_ms_mean"] - summary["idle_p99_ms_mean"], 2
    )
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
