"""Scale-out benchmark: N avatars over several worlds, served by 1 worker or by 2; one JSON line per run.

    python bench/scale.py                                  # N = 150, 300; seeds 1, 2; 1 and 2 workers
    python bench/scale.py --n 300 --seeds 1,2,3 --seconds 20

Each run starts a real server on a free loopback port with the bundled worlds and what
``plaza serve`` runs by default (MiniLM recommender, generated placeholders; voice off: it is a
separate process and not what is measured): ``plaza serve`` for 1 worker, ``plaza serve
--workers 2 --redis`` (a real ``redis-server`` on loopback, started here) for 2. Bots (20 Hz
head + hands, server/bots.py) split evenly over lobby, concert-hall and bench-field, all
connecting to the one public port; with 2 workers they follow MOVED to the worker that owns
their instance. Reported per run: the worst world's p99 and each world's, server CPU per
worker process (% of one core) over the measurement window, server CPU per avatar, the bots'
own CPU, and which worker holds each instance.

These machines have 2 cores and the bots share them with the workers: a second worker can only
use what the bots leave, so read ``bot_cpu_pct`` next to the server figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from server.bots import cpu_seconds, run_bots, wait_quiet  # noqa: E402
from server.cluster.routing import instance_number  # noqa: E402
from server.cluster.supervisor import INDEX_STRIDE  # noqa: E402
from tests.serverproc import ServerProcess, free_port, stop_process, wait_healthy, worker_ports  # noqa: E402

WORLDS = ("lobby", "concert-hall", "bench-field")


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(x) for x in f.read().split()]


def _start(workers: int, data: Path, redis_url: str) -> tuple[subprocess.Popen[bytes], int, list[int]]:
    port = free_port()
    cmd = [
        sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--worlds", str(REPO / "worlds"), "--data", str(data), "--no-voice",
    ]  # fmt: skip
    if workers > 1:
        cmd += ["--workers", str(workers), "--redis", redis_url]
    log = data / "server.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    wait_healthy(proc, log, port, 0, 120.0)
    if workers == 1:
        pids = [proc.pid]
    else:
        worker_ports(ServerProcess(port, data, REPO / "worlds"))  # every worker serving
        pids = _children(proc.pid)
    wait_quiet(pids)
    return proc, port, pids


def one_run(workers: int, n: int, seconds: float, warmup: float, seed: int, redis_url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        proc, port, pids = _start(workers, Path(d), redis_url)
        try:
            time.sleep(1.0)
            per = [n // len(WORLDS) + (1 if i < n % len(WORLDS) else 0) for i in range(len(WORLDS))]
            results: dict[str, dict[str, object]] = {}

            def world_run(world: str, k: int) -> None:
                results[world] = run_bots(f"ws://127.0.0.1:{port}/ws", k, seconds, world, 0, 2, warmup, seed=seed)

            threads = [threading.Thread(target=world_run, args=(w, k)) for w, k in zip(WORLDS, per, strict=True)]
            for t in threads:
                t.start()
            time.sleep(0.5 + warmup + 1.0)  # as run_bots: the measurement window only
            cpu_a, t_a = [cpu_seconds(p) for p in pids], time.monotonic()
            time.sleep(max(0.0, seconds - 2.0))
            cpu_b, t_b = [cpu_seconds(p) for p in pids], time.monotonic()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/worlds", timeout=5) as r:
                listing = json.loads(r.read())
            for t in threads:
                t.join()
        finally:
            stop_process(proc, 30)
    per_worker = [round(100 * (b - a) / (t_b - t_a), 1) for a, b in zip(cpu_a, cpu_b, strict=True)]
    placement = {
        w["id"]: {i["id"]: [instance_number(i["id"]) // INDEX_STRIDE, i["occupancy"]] for i in w["instances"]}
        for w in listing
        if w["id"] in WORLDS
    }
    p99 = {w: results[w]["p99_ms"] for w in WORLDS}
    return {
        "bench": "scale",
        "workers": workers,
        "n": n,
        "seed": seed,
        "worst_p99_ms": max(float(v) for v in p99.values() if v is not None),  # type: ignore[arg-type]
        "p99_ms": p99,
        "connected_at_end": sum(int(results[w]["connected_at_end"]) for w in WORLDS),  # type: ignore[call-overload]
        "server_cpu_pct_per_worker": per_worker,
        "server_cpu_pct": round(sum(per_worker), 1),
        "server_cpu_pct_per_avatar": round(sum(per_worker) / n, 4),
        "bot_cpu_pct": round(sum(float(results[w]["bot_cpu_pct"]) for w in WORLDS), 1),  # type: ignore[arg-type,misc]
        "errors": sum(int(results[w]["errors"]) for w in WORLDS),  # type: ignore[call-overload]
        "failures": sorted({f for w in WORLDS for f in results[w]["failures"]}),  # type: ignore[attr-defined]
        "placement": placement,  # world -> instance -> [worker, occupancy]
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", default="150,300", help="avatars in all (split over the worlds), comma-separated")
    p.add_argument("--seeds", default="1,2")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--warmup", type=float, default=5.0)
    a = p.parse_args()
    redis_bin = shutil.which("redis-server")
    if redis_bin is None:
        print("bench/scale.py needs redis-server (apt install redis-server)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as rd:
        sock = os.path.join(rd, "redis.sock")
        redis = subprocess.Popen(
            [redis_bin, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        try:
            while not os.path.exists(sock):
                time.sleep(0.05)
            # Alternate the configurations within each seed and N: the machine drifts less between them.
            for n in [int(x) for x in a.n.split(",")]:
                for seed in [int(x) for x in a.seeds.split(",")]:
                    for w in [int(x) for x in a.workers.split(",")]:
                        res = one_run(w, n, a.seconds, a.warmup, seed, f"unix://{sock}")
                        print(json.dumps(res), flush=True)
        finally:
            redis.terminate()
            redis.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
