"""Recommendation latency against a real ``plaza serve`` (its defaults: MiniLM, HybridConfig()).

    python bench/recsys_serve.py                 # 3 rounds (seeds), 10 s each
    python bench/recsys_serve.py --quick         # 1 round of 3 s (the test suite's smoke run)

Per round: a fresh data directory whose signal store is pre-filled with synthetic history
(``--people`` people, ``--visits`` stays each over the bundled worlds), ``plaza serve`` on a
free loopback port, then 8 concurrent callers each asking ``GET /api/recommendations?limit=10``
back to back as a different known person, while a mover walks in bench-field (20 Hz) and an
observer times STATE arrivals (tick lateness = gap − 50 ms, as bench/tick_lateness.py). It
also times how long a visit takes to change that person's next suggestions (the online path:
write-behind, the signal feed, ``observe``). Prints one JSON line per round and a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
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


async def callers(base: str, toks: list[str], stop: asyncio.Event) -> list[float]:
    """CALLERS loops, each a signed-in person with a history, back to back."""
    lat: list[float] = []

    async def one(i: int) -> None:
        headers = {"Authorization": f"Bearer {toks[i % len(toks)]}"}
        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                t0 = time.perf_counter()
                async with http.get(base + "/api/recommendations?limit=10", headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        lat.append((time.perf_counter() - t0) * 1000.0)

    await asyncio.gather(*(one(i) for i in range(CALLERS)))
    return lat


async def measure(port: int, seconds: float, toks: list[str]) -> dict[str, Any]:
    base, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    async with aiohttp.ClientSession() as http:
        mws, mwel = await join(http, url, f"mover{random.randrange(10**6)}")
        ows, _ = await join(http, url, f"observer{random.randrange(10**6)}")
        stop = asyncio.Event()
        arrivals: list[float] = []
        tasks = [asyncio.create_task(c) for c in (mover(mws, mwel, stop), observe(mws, None, stop),
                                                  observe(ows, arrivals, stop))]  # fmt: skip
        await asyncio.sleep(1.0)
        arrivals.clear()
        load = asyncio.create_task(callers(base, toks, stop))
        await asyncio.sleep(seconds)
        stop.set()
        lat = np.asarray(await load)
        await asyncio.gather(*tasks, return_exceptions=True)
        await mws.close()
        await ows.close()
    return {
        "requests": int(lat.size),
        "p50_ms": round(float(np.percentile(lat, 50)), 2) if lat.size else None,
        "p99_ms": round(float(np.percentile(lat, 99)), 2) if lat.size else None,
        "ticks_during": lateness_ms(arrivals),
        # A shared machine's other work shows up in the tail: report how busy it was.
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


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
            create_accounts(REPO, Path(d), accounts)
            prefill(Path(d), a.people, a.visits, seed, accounts)
            port = free_port()
            proc = start_server(REPO, port, Path(d))
            try:
                toks = asyncio.run(tokens(f"http://127.0.0.1:{port}", accounts))
                time.sleep(a.settle)  # the first fit and model load
                row: dict[str, Any] = {"bench": "recsys_serve", "seed": seed, "callers": CALLERS,
                                       "people": a.people, **asyncio.run(measure(port, a.seconds, toks))}  # fmt: skip
                if not a.skip_visit:
                    row["visit_to_new_suggestions_s"] = asyncio.run(visit_to_change(port))
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait(30)
        rows.append(row)
        print(json.dumps(row), flush=True)
    p99 = [r["p99_ms"] for r in rows if r["p99_ms"] is not None]
    summary = {
        "bench": "recsys_serve",
        "summary": True,
        "rounds": len(rows),
        "p99_ms_mean": round(float(np.mean(p99)), 2) if p99 else None,
        "p99_ms_sd": round(float(np.std(p99, ddof=1)), 2) if len(p99) > 1 else 0.0,
        "tick_p99_ms_mean": round(float(np.mean([r["ticks_during"].get("p99_ms", 0.0) for r in rows])), 2),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
