"""Web client frame time and draw-call/triangle budget with N real avatars (``plaza bots``).

    python bench/client_frame.py                       # lobby, 30 bots, seeds 1,2,3
    python bench/client_frame.py --world concert-hall --n 30 --seeds 1 --seconds 8

Starts ``plaza serve`` (default settings) on a free loopback port, runs N bots walking in the
world (server/bots.py, inside its bounds), opens the web client in headless Chromium
(software GL, 1280x800, desktop settings: shadows on unless --lowpower) and records, once the
page sees all N avatars: frame-to-frame times from requestAnimationFrame (p50/p95/max, ms)
and ``renderer.info`` (draw calls, triangles). One JSON line per seed and world. Headless
software GL on a shared CPU is far slower than a GPU: read the numbers as relative (this
world vs that, avatars vs none), not as what a headset or laptop will do.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from server.bots import run_bots  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.serverproc import ServerProcess, free_port  # noqa: E402

FRAME_TIMES_JS = """(ms) => new Promise((done) => {
  const dts = []; let last = performance.now(); const end = last + ms;
  const step = (t) => { dts.push(t - last); last = t; if (t < end) requestAnimationFrame(step); else done(dts); };
  requestAnimationFrame(step);
})"""


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return round(s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))], 1) if s else float("nan")


def measure(url: str, world: str, n: int, seconds: float, lowpower: bool) -> dict[str, Any]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    q = "lowpower&" if lowpower else ""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # bypass_csp: Playwright evaluates string predicates with eval(), which the CSP forbids.
            page = b.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True).new_page()
            page.goto(f"{url}/w/{world}?name=Bench&{q}test")
            page.wait_for_function(
                "window.plaza && plaza.state().connected && plaza.state().frames > 3", timeout=120_000
            )
            page.wait_for_function(
                "plaza.state().loading && plaza.state().loading.completeMs !== null", timeout=120_000
            )
            loading = page.evaluate("plaza.state().loading")
            # Interest management may keep far bots out of view: measure what is seen.
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function(f"plaza.state().avatars.length >= {n}", timeout=60_000)
            dts = page.evaluate(FRAME_TIMES_JS, int(seconds * 1000))[1:]
            info = page.evaluate("plaza.stats()")
            seen = page.evaluate("plaza.state().avatars.length")
            # The server's interest management sends only the nearest bots; top the view up to
            # N with local stand-ins in front of the camera (plazaTest.fakeAvatars) so the
            # frame really draws N avatars.
            page.evaluate(f"plazaTest.fakeAvatars({max(0, n - seen)})")
            page.wait_for_function(f"plaza.state().avatars.length >= {n}", timeout=30_000)
            dts_n = page.evaluate(FRAME_TIMES_JS, int(seconds * 1000))[1:]
            info_n = page.evaluate("plaza.stats()")
        finally:
            b.close()
    return {
        "avatars_seen": seen,
        "frames": len(dts),
        "frame_ms_p50": pct(dts, 50),
        "frame_ms_p95": pct(dts, 95),
        "frame_ms_max": round(max(dts), 1) if dts else None,
        "draw_calls": info["calls"],
        "triangles": info["triangles"],
        "with_n_drawn": {
            "frame_ms_p50": pct(dts_n, 50),
            "frame_ms_p95": pct(dts_n, 95),
            "draw_calls": info_n["calls"],
            "triangles": info_n["triangles"],
        },
        "first_frame_ms": loading["firstFrameMs"],
        "all_built_ms": loading["completeMs"],
    }


def _bots(url: str, n: int, s: float, world: str, half: float, seed: int, out: dict) -> None:
    out.update(run_bots(url, n, s, world, 1, 2, 1.0, seed=seed, half_size=half))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", default="lobby", help="world id, or a comma-separated list")
    ap.add_argument("--n", type=int, default=30, help="bots")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--seconds", type=float, default=6.0, help="frame-time window")
    # Bots walk within this many metres of the origin, so all of them are inside the page's
    # interest radius (32 m) and drawn; the default keeps 30 bots around the spawn.
    ap.add_argument("--half-size", type=float, default=14.0)
    ap.add_argument("--lowpower", action="store_true", help="Quest settings: no shadows, no MSAA")
    a = ap.parse_args()
    for world in a.world.split(","):
        for seed in [int(s) for s in a.seeds.split(",")]:
            with tempfile.TemporaryDirectory() as d:
                srv = ServerProcess(free_port(), Path(d), REPO / "worlds").start()
                try:
                    # Bots walk long enough to cover the page's load and the measurement.
                    bots: dict[str, Any] = {}
                    args = (srv.ws_url, a.n, 150.0 + a.seconds, world, a.half_size, seed, bots)
                    t = threading.Thread(target=_bots, args=args, daemon=True)
                    t.start()
                    t0 = time.monotonic()
                    res = measure(srv.url, world, a.n, a.seconds, a.lowpower)
                    res["page_s"] = round(time.monotonic() - t0, 1)
                finally:
                    srv.stop()
                t.join(timeout=5)
            out = {"bench": "client_frame", "world": world, "seed": seed, "bots": a.n, "lowpower": a.lowpower, **res}
            out["bots_connected_at_end"] = bots.get("connected_at_end")
            print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
