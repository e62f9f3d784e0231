"""Lobby thumbnails for the bundled worlds, rendered by the web client itself, headless.

    python -m tests.e2e.thumbnails            # every world in worlds/ without an authored one
    python -m tests.e2e.thumbnails gallery    # only these
    python -m tests.e2e.thumbnails --lobby docs/img/client-lobby-thumbnails.png   # and the docs' picture

Starts a real server (tests/serverproc.py) on the repository's worlds, opens each world in
headless Debian Chromium (the e2e tests' browser and flags, software GL, ``?test&lowpower``),
waits until the world has fully loaded, hides the HUD and writes a 320x180 WebP of the view
from the default spawn to ``worlds/assets/thumbnails/<id>.webp`` (checked in, served at
``/assets/thumbnails/<id>.webp``; the catalogue picks it up when the world has no
``thumbnail`` of its own, docs/worlds.md).

It lives with the e2e tests because it is their machinery (the browser, its flags, the server
process) pointed at a different output, and Playwright is a test dependency, not a server one.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.serverproc import ANY_PORT, REPO, ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Page

WORLDS = REPO / "worlds"
OUT = WORLDS / "assets" / "thumbnails"
SIZE = (320, 180)
QUALITY = 80  # WebP: about 1-10 KB a world at 320x180
HIDE_HUD = "body > *:not(#view) { visibility: hidden !important; }"


def worlds_to_render(only: list[str]) -> list[str]:
    from server.worldconfig import load_worlds

    configs, _ = load_worlds(WORLDS)
    todo = sorted(w for w, c in configs.items() if c.thumbnail is None)
    unknown = sorted(set(only) - set(configs))
    if unknown:
        raise SystemExit(f"no such world: {', '.join(unknown)}")
    return [w for w in todo if not only or w in only]


def render(worlds: list[str], out: Path = OUT, lobby: Path | None = None) -> list[Path]:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        server = ServerProcess(ANY_PORT, data, WORLDS).start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                # Twice the size, scaled down: smoother edges than the low-power renderer draws.
                ctx = browser.new_context(viewport={"width": SIZE[0] * 2, "height": SIZE[1] * 2}, bypass_csp=True)
                page = ctx.new_page()
                for w in worlds:
                    written.append(_shoot(page, server.url, w, out, Image))
                page.close()  # out of the last world: the lobby shot counts nobody in it
                if lobby is not None:  # the lobby page with the cards, for docs/client.md
                    big = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True).new_page()
                    big.goto(f"{server.url}/?lowpower&test")
                    big.wait_for_function("document.querySelectorAll('.world .thumb.loaded').length > 0")
                    big.wait_for_timeout(500)
                    big.evaluate("document.getElementById('worlds').scrollIntoView(); scrollBy(0, -16)")
                    big.screenshot(path=str(lobby))
                    print(f"{lobby}", flush=True)
                browser.close()
        finally:
            server.stop()
    return written


def _shoot(page: Page, url: str, world: str, out: Path, image: Any) -> Path:
    page.goto(f"{url}/w/{world}?name=Camera&lowpower&test")
    page.wait_for_function(
        "(w) => window.plaza && plaza.state().world === w && plaza.state().loading?.completeMs != null",
        arg=world,
        timeout=120_000,
    )
    page.add_style_tag(content=HIDE_HUD)
    # From the default spawn's very point and facing (an arrival is scattered within its radius:
    # the picture would be a different one each time).
    page.evaluate("""() => {
        const app = plazaTest.app, [x, y, z, yaw] = app.net.welcome.spawn;
        app.rig.position.set(x, y, z);
        app.rig.rotation.set(0, yaw * Math.PI / 180, 0);
    }""")
    page.wait_for_timeout(400)  # a few more frames: labels, environment map
    shot = image.open(io.BytesIO(page.screenshot())).convert("RGB").resize(SIZE, image.Resampling.LANCZOS)
    path = out / f"{world}.webp"
    shot.save(path, "WEBP", quality=QUALITY, method=6)
    print(f"{path.relative_to(REPO)}: {path.stat().st_size / 1024:.1f} KB", flush=True)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("worlds", nargs="*", help="world ids (default: every world without an authored thumbnail)")
    ap.add_argument("--lobby", type=Path, metavar="PNG", help="also a 1280x800 screenshot of the lobby page")
    args = ap.parse_args(argv)
    render(worlds_to_render(args.worlds), lobby=args.lobby)
    return 0


if __name__ == "__main__":
    sys.exit(main())
