"""Sync benchmark: N avatars in one 100 m x 100 m world at 20 Hz; prints one JSON line per N.

    python bench/sync.py --n 200 --seconds 30
    python bench/sync.py --n 200,400,600,1000 --seconds 20      # a sweep
    python bench/sync.py --n 200 --url ws://127.0.0.1:8080/ws --server-pid PID

Without --url it starts its own server (``plaza serve``) on a free loopback port with a
temporary data directory, and stops it afterwards. Targets (issue 2): at N=200, p99 <= 100 ms,
server CPU <= 50 % of one core, downstream <= 40 KB/s per client.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from server.bots import run_bots, wait_quiet  # noqa: E402
from tests.serverproc import ServerProcess, free_port  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", default="200", help="avatars, or a comma-separated sweep")
    p.add_argument("--seconds", type=float, default=30.0, help="measurement window per N")
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--url", default=None, help="use a running server instead of starting one")
    p.add_argument("--server-pid", type=int, default=None)
    p.add_argument("--observers", type=int, default=4)
    p.add_argument("--procs", type=int, default=0)
    p.add_argument("--world", default="bench-field")
    a = p.parse_args()
    for n in [int(x) for x in a.n.split(",")]:
        if a.url:
            res = run_bots(a.url, n, a.seconds, a.world, a.procs, a.observers, a.warmup, server_pid=a.server_pid)
        else:
            with tempfile.TemporaryDirectory() as d:
                # What `plaza serve` runs by default: the MiniLM recommender and world placeholders
                # generated (tests/serverproc.py turns both off for speed; a bench must not).
                srv = ServerProcess(
                    free_port(), Path(d), REPO / "worlds", extra_args=("--recommender-encoder", "minilm"), generate=True
                ).start()
                try:
                    assert srv.proc is not None
                    # Measure serving, not start-up: the first retrain and the placeholders
                    # generated at start would otherwise land in the window.
                    wait_quiet([srv.proc.pid])
                    res = run_bots(
                        srv.ws_url, n, a.seconds, a.world, a.procs, a.observers, a.warmup,
                        server_pid=srv.proc.pid,
                    )  # fmt: skip
                finally:
                    srv.stop()
        print(json.dumps({"bench": "sync", **res}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
