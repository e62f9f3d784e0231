"""Browser fixtures for the web client's end-to-end tests.

Headless Debian Chromium driven by Playwright (never `playwright install`), against a real
Plaza server process; Meta's IWER emulates a Quest 3 when a page is opened with ?emulate.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from tests.serverproc import ANY_PORT, REPO, ServerProcess

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
NODE_MODULES = REPO / "web_client" / "node_modules"
CHROMIUM_ARGS = [
    "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
    # Pages in background tabs/windows must keep rendering and sending poses.
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]  # fmt: skip
VIEWPORT: ViewportSize = {"width": 480, "height": 360}

_missing = [p for p in (Path(CHROMIUM), NODE_MODULES / "three", NODE_MODULES / "iwer") if not p.exists()]
if _missing:
    pytest.skip(
        f"e2e needs {', '.join(map(str, _missing))} (apt install chromium; cd web_client && npm ci)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def e2e_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server for a module's tests (they run in order and share state)."""
    base = tmp_path_factory.mktemp("plaza")
    proc = ServerProcess(ANY_PORT, base / "data", REPO / "worlds")
    proc.data_dir.mkdir()
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots (and measurements) go to the pytest tmp dir; see ``keep``."""
    return tmp_path_factory.mktemp("screens")


class Pages:
    """Opens pages that record JS errors; closes them all at the end."""

    def __init__(self, browser: Browser, artifacts: Path) -> None:
        self.browser = browser
        self.artifacts = artifacts
        self.contexts: list[Any] = []
        self.errors: list[str] = []
        self.warnings: list[str] = []  # server ERRORs are logged as warnings: useful on failure

    def open(self, url: str) -> Page:
        # The tests drive pages with string predicates (wait_for_function), which Playwright
        # evaluates with eval(): the server's CSP forbids that, so these pages bypass it.
        # tests/e2e/test_csp.py runs the client under the real policy.
        ctx = self.browser.new_context(viewport=VIEWPORT, bypass_csp=True)
        self.contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"{url}: {e}"))
        page.on("console", lambda m: self._console(url, m.type, m.text))
        page.goto(url)
        return page

    def _console(self, url: str, kind: str, text: str) -> None:
        if kind == "error":
            self.errors.append(f"{url}: {text}")
        elif kind == "warning":
            self.warnings.append(f"{url}: {text}")

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()
        self.contexts.clear()


@pytest.fixture
def pages(browser: Browser, artifacts: Path) -> Iterator[Pages]:
    """A test's pages, closed when it ends: software GL renders every open page, so pages left
    open by earlier tests would slow every later one (the browser and server stay per module)."""
    p = Pages(browser, artifacts)
    yield p
    p.close()


def keep(file: Path, under: str = "") -> None:
    """With ``PLAZA_KEEP_SHOTS=1`` a copy of ``file`` also goes to the repo's (gitignored)
    ``artifacts/<under>``; by default the tests write nothing into the repository."""
    if os.environ.get("PLAZA_KEEP_SHOTS") == "1":
        out = REPO / "artifacts" / under
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, out / file.name)


def save_shot(page: Page, artifacts: Path, name: str) -> Any:
    """Screenshot to the tmp dir (see ``keep``); returns a PIL image."""
    from PIL import Image

    data = page.screenshot()
    (artifacts / f"{name}.png").write_bytes(data)
    keep(artifacts / f"{name}.png", "e2e")
    return Image.open(io.BytesIO(data)).convert("RGB")


def state(page: Page) -> dict[str, Any]:
    """``window.plaza.state()`` of a page (plain JSON)."""
    return cast(dict[str, Any], page.evaluate("plaza.state()"))


def wait_joined(page: Page, world: str, timeout: float = 30_000) -> dict[str, Any]:
    page.wait_for_function(
        "(w) => window.plaza && plaza.state().connected && plaza.state().world === w && plaza.state().frames > 2",
        arg=world,
        timeout=timeout,
    )
    return state(page)
