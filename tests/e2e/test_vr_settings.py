"""The VR wrist menu's Settings page (web_client/js/vrchat.js), pressed with the emulated Quest 3's
right controller: snap or smooth turn, teleport or smooth move, and the avatar's look and accessory
(through the same UI setters as the desktop HUD's checkboxes and avatar picker)."""

from __future__ import annotations

import base64
import itertools
import math
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import Pages, keep, save_shot, wait_joined
from tests.e2e.wrist import aim_right_at, press
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.timeout(300)  # software GL on a shared 2-core machine


def pull(page: Page, act: str, until: str) -> None:
    """Point the right controller at wrist-menu button ``act`` and pull the trigger until ``until``."""
    aim_right_at(page, act)
    press(page, "right", "trigger", until)


def yaw(page: Page) -> float:
    return float(page.evaluate("plaza.state().rig.yaw"))


def hold_right_stick(page: Page, x: float, frames: int) -> None:
    page.evaluate(f"xrDevice.controllers.right.updateAxes('thumbstick', {x}, 0)")
    f = page.evaluate("plaza.state().frames")
    page.wait_for_function(f"plaza.state().frames > {f + frames}")
    page.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 0, 0)")
    f = page.evaluate("plaza.state().frames")
    page.wait_for_function(f"plaza.state().frames > {f + 2}")


def test_vr_settings_page(e2e_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    vr = pages.open(e2e_server.url + "/w/lobby?name=Sol&emulate&lowpower&test")
    wait_joined(vr, "lobby", timeout=90_000)
    watcher = pages.open(e2e_server.url + "/w/lobby?name=Tam&fps=10&lowpower&test")
    wait_joined(watcher, "lobby", timeout=90_000)
    vr.get_by_role("button", name="Enter VR").click()
    vr.wait_for_function("plaza.state().presenting && plaza.state().frames > 3")

    # Snap turn (the default): a flick turns exactly 30 degrees.
    y0 = yaw(vr)
    hold_right_stick(vr, 1.0, 4)
    assert abs(abs(yaw(vr) - y0) - math.radians(30)) < 1e-3

    pull(vr, "settings", "plazaTest.app.vrChat.page === 'settings'")
    pull(vr, "set:turn:smooth", "plazaTest.app.xr.smoothTurn === true")
    assert vr.evaluate("localStorage.getItem('plaza.smoothTurn')") == "1"
    assert vr.evaluate("document.getElementById('smooth-turn').checked"), "the HUD checkbox follows"
    # Smooth turn: the view turns a little every frame while the stick is held, not in 30° steps.
    seen = []
    vr.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 0.4, 0)")
    for _ in range(4):
        f = vr.evaluate("plaza.state().frames")
        vr.wait_for_function(f"plaza.state().frames > {f + 1}")
        seen.append(yaw(vr))
    vr.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 0, 0)")
    steps = [abs(b - a) for a, b in itertools.pairwise(seen)]
    # 22.5°/s at this deflection, and a frame counts for at most 1 s: never a 30° snap.
    assert all(0 < s < math.radians(25) for s in steps), steps

    pull(vr, "set:move:smooth", "plazaTest.app.xr.smoothMove === true")
    assert vr.evaluate("document.getElementById('smooth-move').checked")

    # The look: the same path as the desktop picker (stored, both radio groups, a rejoin).
    pull(vr, "set:look:fox", "plaza.state().avatar.look === 'fox'")
    pull(vr, "set:accessory:headphones", "plaza.state().avatar.accessory === 'headphones'")
    assert vr.evaluate("document.querySelector('#hud-look input:checked').value") == "fox"
    assert vr.evaluate("document.querySelector('#look input:checked').value") == "fox"
    watcher.wait_for_function(
        "plaza.state().avatars.some(a => a.name === 'Sol' && a.look === 'fox' && a.accessory === 'headphones')",
        timeout=30_000,
    )
    vr.wait_for_function("plaza.state().connected && plaza.state().presenting && plaza.state().world === 'lobby'")

    # What it looks like: the panel's own canvas, and the headset's view with the wrist raised.
    vr.evaluate("plazaTest.app.vrChat.draw()")
    png = vr.evaluate("plazaTest.app.vrChat.canvas.toDataURL('image/png')").split(",", 1)[1]
    (artifacts / "vr-settings-panel.png").write_bytes(base64.b64decode(png))
    keep(artifacts / "vr-settings-panel.png", "e2e")
    vr.evaluate("""() => {
        const hp = xrDevice.position;
        xrDevice.controllers.left.position.set(hp.x - 0.02, hp.y - 0.32, hp.z - 0.32);
        xrDevice.controllers.left.quaternion.set(0, 0, 0, 1);
    }""")
    f = vr.evaluate("plaza.state().frames")
    vr.wait_for_function(f"plaza.state().frames > {f + 3}")
    save_shot(vr, artifacts, "vr-settings")

    # Back to the chat page.
    pull(vr, "chat", "plazaTest.app.vrChat.page === 'chat'")


def test_spawn_yaw_is_applied_on_desktop_and_in_vr(e2e_server: ServerProcess, pages: Pages) -> None:
    """A spawn's ``yaw_deg`` turns the arrival towards what it frames (the lobby's spawns face
    the fountain): the desktop rig on joining, and the headset's view in VR."""
    page = pages.open(e2e_server.url + "/w/lobby?name=Uma&emulate&lowpower&test")
    wait_joined(page, "lobby", timeout=90_000)
    assert abs(page.evaluate("plaza.state().rig.yaw")) < 1e-6  # default spawn: yaw_deg 0
    assert page.evaluate("plaza.screen([0, 1.5, 0])") is not None, "the fountain is in view"
    page.get_by_role("button", name="Enter VR").click()
    page.wait_for_function("plaza.state().presenting && plaza.state().frames > 3")
    # The portal arrival from the concert hall: (10.5, -6), yaw 120° (worlds/lobby.toml).
    look = page.evaluate("""async () => {
        const app = plazaTest.app;
        const sp = app.world.info.spawns.find((s) => s.name === 'from-concert-hall');
        app._placeAtSpawn([...sp.position, sp.yaw_deg], app.world.info);
        const f = app.frames;
        while (app.frames < f + 3) await new Promise((r) => requestAnimationFrame(r));
        // The head's pose in world coordinates, as sent to others (the rig turns the headset).
        const d = app.head.p.clone().set(0, 0, -1).applyQuaternion(app.head.q);
        return [sp.yaw_deg, d.x, d.z];
    }""")
    yaw_deg, dx, dz = look
    assert yaw_deg == 120
    n = math.hypot(dx, dz)
    to_fountain = (-10.5 / math.hypot(10.5, 6), 6 / math.hypot(10.5, 6))
    assert (dx / n) * to_fountain[0] + (dz / n) * to_fountain[1] > 0.95, (dx, dz)
