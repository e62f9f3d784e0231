"""How much asset generation disturbs a server's tick loop, by where generation runs.

    python bench/gen_jitter.py [--seconds 15] [--modes none,thread,process]

An asyncio loop ticks every 50 ms (20 Hz, the worlds' rate) doing a little Python work, while
``genmodels`` generates assets back to back with the shipped checkpoint: nowhere (``none``), in a
thread of the same process (how the server runs jobs), or in a child process.  Prints one JSON
document with the ticks' lateness (ms) per mode.  Bounded: each mode runs ``--seconds`` after an
8 s warm-up, and the child process is killed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = """
from genmodels.api import Generator
g = Generator(use_cache=False)
i = 0
while True:
    g.generate(f"a {1.0 + (i % 7) * 0.1:.1f} m tall pine tree", seed=i)
    i += 1
"""


def generate_until(stop: threading.Event) -> None:
    from genmodels.api import Generator

    g = Generator(use_cache=False)
    i = 0
    while not stop.is_set():
        g.generate(f"a {1.0 + (i % 7) * 0.1:.1f} m tall pine tree", seed=i)
        i += 1


async def lateness(seconds: float, period: float = 0.05) -> list[float]:
    late: list[float] = []
    t0 = time.perf_counter()
    nxt = t0
    while time.perf_counter() - t0 < seconds:
        nxt += period
        await asyncio.sleep(max(0.0, nxt - time.perf_counter()))
        sum(range(3000))  # a tick's worth of interpreter work, which needs the GIL
        late.append((time.perf_counter() - nxt) * 1000)
    return late


async def run(mode: str, seconds: float) -> dict[str, float]:
    stop = threading.Event()
    child = None
    if mode == "thread":
        threading.Thread(target=generate_until, args=(stop,), daemon=True).start()
    elif mode == "process":
        child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO, stderr=subprocess.DEVNULL)
    try:
        await asyncio.sleep(8.0 if mode != "none" else 0.0)  # the generator loads
        late = np.array(await lateness(seconds))
    finally:
        stop.set()
        if child is not None:
            child.kill()
            child.wait()
    return {
        "ticks": len(late),
        **{f"p{q}_ms": round(float(np.percentile(late, q)), 2) for q in (50, 95, 99)},
        "max_ms": round(float(late.max()), 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--modes", default="none,thread,process")
    args = ap.parse_args(argv)
    report = {mode: asyncio.run(run(mode, args.seconds)) for mode in args.modes.split(",")}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
