"""Avatar looks and accessories (issue 17, Expression): picked with the keyboard in the lobby,
remembered, sent in HELLO and seen by someone else; changed from the in-world Avatar panel with
a click, which rejoins the same instance. One real server for the module."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import Pages, state, wait_joined
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.timeout(300)  # software GL on a shared 2-core machine

WATCH = "fps=10&lowpower&test"
WORLD = "meeting-room"


def seen_as(page: Page, name: str) -> dict[str, Any] | None:
    return next((a for a in state(page)["avatars"] if a["name"] == name), None)


def test_a_look_picked_with_the_keyboard_is_remembered_and_seen_by_others(
    e2e_server: ServerProcess, pages: Pages
) -> None:
    zia = pages.open(e2e_server.url + "/?" + WATCH)
    zia.wait_for_selector("#look input:checked")
    assert zia.eval_on_selector("#look input:checked", "e => e.value") == "classic"  # the default
    zia.focus("#look input:checked")
    zia.keyboard.press("ArrowRight")  # classic -> robot -> fox: arrow keys move a radio group
    zia.keyboard.press("ArrowRight")
    zia.keyboard.press("Tab")  # on to the accessory group's checked chip ("none")
    zia.keyboard.press("ArrowRight")  # -> hat
    assert zia.evaluate("[localStorage.getItem('plaza.look'), localStorage.getItem('plaza.accessory')]") == [
        "fox",
        "hat",
    ]
    zia.reload()  # remembered
    assert zia.eval_on_selector("#look input:checked", "e => e.value") == "fox"
    assert zia.eval_on_selector("#accessory input:checked", "e => e.value") == "hat"

    zia.goto(f"{e2e_server.url}/w/{WORLD}?name=Zia&{WATCH}")
    assert wait_joined(zia, WORLD, timeout=90_000)["avatar"]["look"] == "fox"
    bex = pages.open(f"{e2e_server.url}/w/{WORLD}?name=Bex&{WATCH}")
    wait_joined(bex, WORLD, timeout=90_000)
    bex.wait_for_function(
        "plaza.state().avatars.some(a => a.name === 'Zia' && a.look === 'fox' && a.accessory === 'hat')",
        timeout=30_000,
    )
    # Bex never chose: Zia sees the default look.
    zia.wait_for_function("plaza.state().avatars.some(a => a.name === 'Bex')", timeout=30_000)
    assert seen_as(zia, "Bex") is not None and seen_as(zia, "Bex")["look"] == "classic"  # type: ignore[index]
    assert seen_as(zia, "Bex")["accessory"] == "none"  # type: ignore[index]
    bex.wait_for_function("plaza.state().avatar.ready", timeout=30_000)  # every look's GLB loaded

    # In the world: the Avatar panel, a click on "Ghost" -> Zia rejoins and Bex sees the ghost.
    zia.click("#avatar-panel summary")
    zia.click("#hud-look label:has(input[value=ghost])")
    bex.wait_for_function("plaza.state().avatars.some(a => a.name === 'Zia' && a.look === 'ghost')", timeout=30_000)
    assert zia.evaluate("localStorage.getItem('plaza.look')") == "ghost"
    zia.wait_for_function(
        "[...document.querySelectorAll('#chat-log li')].some(l => l.textContent.includes('new look'))", timeout=30_000
    )
    assert zia.eval_on_selector("#look input:checked", "e => e.value") == "ghost"  # the lobby's copy follows
    zia.wait_for_function(f"plaza.state().connected && plaza.state().world === '{WORLD}'", timeout=30_000)
    assert not [e for e in pages.errors if "Failed to load resource" not in e], pages.errors
