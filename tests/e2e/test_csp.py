"""The web client under the server's Content-Security-Policy: the page (its inline import map
allowed by hash), three.js, the WebSocket (through the Origin check) and the emulated headset
all work, and the browser reports no policy violation."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import VIEWPORT, wait_joined
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.timeout(90)

RECORD = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
});
"""


def test_the_client_runs_under_the_csp_without_violations(
    e2e_server: ServerProcess, browser: Browser, tmp_path: Path
) -> None:
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.add_init_script(RECORD)
    console: list[str] = []
    try:
        page = ctx.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        resp = page.goto(e2e_server.url + "/?fps=10&lowpower&test")
        assert resp is not None
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self' 'sha256-" in csp and "'unsafe-inline'" not in csp
        page.wait_for_selector("#worlds article.world", timeout=20_000)  # modules ran, fetch worked
        page.evaluate("window.__stay = 1")
        page.press("#name", "Enter")  # the name form must not reload the page (no inline handler)
        page.wait_for_timeout(300)  # a reload would come in this time (nothing to await: its absence)
        assert page.evaluate("window.__stay") == 1
        # A world in an emulated headset: three.js, GLB models, the WebSocket, IWER.
        page.goto(e2e_server.url + "/w/lobby?name=Csp&fps=10&lowpower&test&emulate")
        wait_joined(page, "lobby")
        page.wait_for_timeout(500)  # models and textures load meanwhile: a violation would show up now
        violations = page.evaluate("window.__csp")
        csp_console = [c for c in console if "Content Security Policy" in c or "Refused to" in c]
        assert violations == [] and csp_console == [], (violations, csp_console)
        errors = [c for c in console if c.startswith(("error", "pageerror"))]
        assert errors == [], errors
    finally:
        ctx.close()
