"""Recommendation latency against a real ``plaza serve`` (its defaults: MiniLM, HybridConfig()).

    python bench/recsys_serve.py                 # 3 rounds (seeds), 10 s each
    python bench/recsys_serve.py --quick         # 1 round of 3 s (the test suite's smoke run)

Per round: a fresh data directory whose signal store is pre-filled with synthetic history
(``--people`` people, ``--visits`` stays each over the bundled worlds), ``plaza serve`` on a
free loopback port, then 8 concurrent callers asking ``GET /api/recommendations?limit=10``
back to back while a mover walks in bench-field (20 Hz) and an observer times STATE arrivals
(tick lateness = gap − 50 ms, as bench/tick_lateness.py). Two phases, one after the other:

- ``repeat``: each caller is one signed-in person asking again and again (the lobby reopened,
  a panel refreshed): the server's stored answer (``server.suggest.AnswerCache``) answers
  most of these; ``stored_share`` says how many, from the server's own /metrics.
- ``distinct``: every request is another of the ``--people`` pre-filled people (a guest token
  each), each asked once, so every answer is scored: the latency of the scoring path itself.

It also times how long a visit takes to change that person's next suggestions (the online
path: write-behind, the signal feed, ``observe``). Prints one JSON line per round and a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.tick_lateness import (
    REPO,
    create_accounts,
    free_port,
    join,
    lateness_ms,
    mover,
    observe,
    start_server,
)
from server.protocol import MsgType
from server.recommend.signals import Visit
from server.storage import DB_NAME, SQLiteStorage

CALLERS = 8
WORLDS = ("lobby", "gallery", "concert-hall", "forest-park", "meeting-room")


def prefill(data: Path, people: int, visits: int, seed: int, accounts: list[str]) -> None:
    """Synthetic stays written straight into the store the server will open: ``people``
    guests and the callers' ``accounts``, ``visits`` stays each."""
    rng = random.Random(seed)
    st = SQLiteStorage(data / DB_NAME)
    now = time.time()
    rows: list[tuple[Visit, int]] = []
    users = [f"g:bench{seed}-{i}" for i in range(people)] + [f"a:{u}" for u in accounts]
    for u in users:
        fav = rng.sample(WORLDS, 2)
        for _k in range(visits):
            w = fav[0] if rng.random() < 0.5 else fav[1] if rng.random() < 0.6 else rng.choice(WORLDS)
            t = now - rng.uniform(3600, 30 * 86400)
            rows.append((Visit(u, w, f"{w}#1", t, t + rng.uniform(120, 3600)), rng.randrange(4)))
    st.log_visits(rows)
    st.close()


async def tokens(base: str, accounts: list[str]) -> list[str]:
    out = []
    async with aiohttp.ClientSession() as http:
        for u in accounts:
            async with http.post(base + "/api/signin", json={"user": u, "password": "correct horse"}) as r:
                out.append((await r.json())["token"])
    return out


def guest_tokens(data: Path, seed: int, people: int) -> list[str]:
    """Guest tokens for the pre-filled people ``g:bench{seed}-{i}``, made with the data
    directory's token secret before the server starts (as the server makes them)."""
    code = (
        "import json, sys, time; from pathlib import Path\n"
        "from server.hosting import Hosting; from server.hosting.store import SQLiteHostingStore\n"
        "from server.storage import DB_NAME\n"
        "d, seed, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])\n"
        "h = Hosting(SQLiteHostingStore(d / DB_NAME), data_dir=d)\n"
        "mint = lambda i: h.identity.guest(f'Bench {i}', time.time(), guest_id=f'bench{seed}-{i}')\n"
        "print(json.dumps([mint(i) for i in range(n)]))\n"
        "h.close()"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code, str(data), str(seed), str(people)],
                         cwd=REPO, env=env, check=True, capture_output=True, text=True)  # fmt: skip
    tokens: list[str] = json.loads(out.stdout)
    return tokens


async def answers_by_source(base: str) -> dict[str, float]:
    """The server's count of stored vs scored answers (plaza_recommender_answers_total)."""
    async with aiohttp.ClientSession() as http, http.get(base + "/metrics") as r:
        text = await r.text()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("plaza_recommender_answers_total{"):
            out[line.split('source="')[1].split('"')[0]] = float(line.split()[-1])
    return out


async def callers(base: str, toks: list[str], stop: asyncio.Event, rotate: bool) -> list[float]:
    """CALLERS loops back to back: each one person (``rotate`` False), or each request the
    next of ``toks`` (``rotate`` True: every ask another person, each asked once, so the
    phase ends early when ``toks`` run out)."""
    lat: list[float] = []
    turn = iter(range(10**9))

    async def one(i: int) -> None:
        headers = {"Authorization": f"Bearer {toks[i % len(toks)]}"}
        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                if rotate:  # each person once: a second ask could be their stored answer
                    k = next(turn)
                    if k >= len(toks):
                        return
                    headers = {"Authorization": f"Bearer {toks[k]}"}
                t0 = time.perf_counter()
                async with http.get(base + "/api/recommendations?limit=10", headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        lat.append((time.perf_counter() - t0) * 1000.0)

    await asyncio.gather(*(one(i) for i in range(CALLERS)))
    return lat


def percentiles(lat: list[float]) -> dict[str, Any]:
    a = np.asarray(lat)
    return {
        "requests": int(a.size),
        "p50_ms": round(float(np.percentile(a, 50)), 2) if a.size else None,
        "p99_ms": round(float(np.percentile(a, 99)), 2) if a.size else None,
    }


async def measure(port: int, seconds: float, phases: dict[str, tuple[list[str], bool]]) -> dict[str, Any]:
    base, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        mws, mwel = await join(http, url, f"mover{random.randrange(10**6)}")
        ows, _ = await join(http, url, f"observer{random.randrange(10**6)}")
        for name, (toks, rotate) in phases.items():
            stop = asyncio.Event()
            arrivals: list[float] = []
            tasks = [asyncio.create_task(c) for c in (mover(mws, mwel, stop), observe(mws, None, stop),
                                                      observe(ows, arrivals, stop))]  # fmt: skip
            await asyncio.sleep(1.0)
            arrivals.clear()
            before = await answers_by_source(base)
            load = asyncio.create_task(callers(base, toks, stop, rotate))
            await asyncio.wait({load}, timeout=seconds)  # a distinct phase may run out of people first
            stop.set()
            lat = await load
            await asyncio.gather(*tasks, return_exceptions=True)
            after = await answers_by_source(base)
            stored = after.get("stored", 0.0) - before.get("stored", 0.0)
            scored = after.get("scored", 0.0) - before.get("scored", 0.0)
            out[name] = {
                **percentiles(lat),
                "stored_share": round(stored / (stored + scored), 3) if stored + scored else None,
                "ticks_during": lateness_ms(arrivals),
            }
        await mws.close()
        await ows.close()
    # A shared machine's other work shows up in the tail: report how busy it was.
    return {**out, "loadavg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}


async def visit_to_change(port: int) -> float | None:
    """Seconds from leaving a world after a first stay to that newcomer's suggestions being
    personal (a ``collab`` component appears: learnt from the stay, not a retrain)."""
    base, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    async with aiohttp.ClientSession() as http:
        ws, welcome = await join(http, url, f"visitor{random.randrange(10**6)}")
        headers = {"X-Plaza-Session": welcome["session"]}

        async def personal() -> bool:
            async with http.get(base + "/api/recommendations?limit=10", headers=headers) as r:
                return any("collab" in i["components"] for i in (await r.json())["items"])

        assert not await personal()
        await ws.send_bytes(msgpack.packb([MsgType.TRAVEL, "gallery"]))
        await asyncio.sleep(31.0)  # a stay under 30 s is a misclick (signals.VISIT_FLOOR_S)
        await ws.send_bytes(msgpack.packb([MsgType.TRAVEL, "lobby"]))
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 20.0:
            if await personal():
                await ws.close()
                return round(time.perf_counter() - t0, 2)
            await asyncio.sleep(0.1)
        await ws.close()
    return None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repo", type=Path, default=REPO, help="checkout whose server to run (a baseline)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--people", type=int, default=2000)
    p.add_argument("--visits", type=int, default=20)
    p.add_argument("--settle", type=float, default=8.0, help="seconds after start before measuring")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--skip-visit", action="store_true", help="do not time visit -> changed suggestions")
    a = p.parse_args()
    if a.quick:
        a.rounds, a.seconds, a.people, a.visits, a.settle, a.skip_visit = 1, 3.0, 50, 5, 2.0, True
    rows = []
    for seed in range(a.rounds):
        random.seed(seed)
        with tempfile.TemporaryDirectory() as d:
            accounts = [f"rbench{seed}u{i}" for i in range(CALLERS)]
            create_accounts(a.repo, Path(d), accounts)
            prefill(Path(d), a.people, a.visits, seed, accounts)
            guests = guest_tokens(Path(d), seed, a.people)
            port = free_port()
            proc = start_server(a.repo, port, Path(d))
            try:
                toks = asyncio.run(tokens(f"http://127.0.0.1:{port}", accounts))
                time.sleep(a.settle)  # the first fit and model load
                phases = {"repeat": (toks, False), "distinct": (guests, True)}
                row: dict[str, Any] = {"bench": "recsys_serve", "seed": seed, "callers": CALLERS,
                                       "people": a.people, **asyncio.run(measure(port, a.seconds, phases))}  # fmt: skip
                if not a.skip_visit:
                    row["visit_to_new_suggestions_s"] = asyncio.run(visit_to_change(port))
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait(30)
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary: dict[str, Any] = {"bench": "recsys_serve", "summary": True, "rounds": len(rows)}
    for name in ("repeat", "distinct"):
        p99 = [r[name]["p99_ms"] for r in rows if r[name]["p99_ms"] is not None]
        summary[name] = {
            "p99_ms_mean": round(float(np.mean(p99)), 2) if p99 else None,
            "p99_ms_sd": round(float(np.std(p99, ddof=1)), 2) if len(p99) > 1 else 0.0,
            "tick_p99_ms_mean": round(float(np.mean([r[name]["ticks_during"].get("p99_ms", 0.0) for r in rows])), 2),
        }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
