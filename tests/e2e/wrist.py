"""Pointing an emulated (IWER) right controller at a button of the in-VR wrist menu
(web_client/js/vrchat.js), for tests that press it with a real trigger pull. Needs a page opened
with ``?emulate&test`` and presenting; the pure helper has no fixtures, so the voice tests use it too."""

from __future__ import annotations

import math

from playwright.sync_api import Page


def _frames_pass(page: Page) -> None:
    f = page.evaluate("plaza.state().frames")
    page.wait_for_function(f"plaza.state().frames > {f + 2}")


def aim_right_at(page: Page, act: str) -> None:
    """Point the emulated right controller at the wrist-menu button `act` (by its hit rect)."""
    page.evaluate(
        """(act) => {
        const hp = xrDevice.position;
        xrDevice.controllers.left.position.set(hp.x - 0.25, hp.y - 0.3, hp.z - 0.35);
        xrDevice.controllers.right.position.set(hp.x + 0.2, hp.y - 0.35, hp.z - 0.3);
    }""",
        act,
    )
    _frames_pass(page)
    aim = page.evaluate(
        """(act) => {
        const app = plazaTest.app, m = app.vrChat.mesh, b = app.vrChat.hits.find((h) => h.act === act);
        const w = m.geometry.parameters.width, h = m.geometry.parameters.height;
        const u = (b.x + b.w / 2) / 512, v = 1 - (b.y + b.h / 2) / 420;
        const target = m.localToWorld(m.position.clone().set((u - 0.5) * w, (v - 0.5) * h, 0));
        const hand = app.xr.controller('right').getWorldPosition(target.clone());
        // world -> the emulated device's local space: undo the rig
        const inv = app.rig.matrixWorld.clone().invert();
        return [hand.applyMatrix4(inv).toArray(), target.applyMatrix4(inv).toArray()];
    }""",
        act,
    )
    hand, target = aim
    d = [target[i] - hand[i] for i in range(3)]
    n = math.sqrt(sum(x * x for x in d))
    d = [x / n for x in d]
    q = [d[1], -d[0], 0.0, 1.0 - d[2]]  # turns the controller's forward (0, 0, -1) onto d
    qn = math.sqrt(sum(x * x for x in q))
    page.evaluate(f"xrDevice.controllers.right.quaternion.set({q[0] / qn}, {q[1] / qn}, {q[2] / qn}, {q[3] / qn})")
    _frames_pass(page)


def press(page: Page, controller: str, button: str, until: str) -> None:
    """Press an emulated controller's ``button`` ('trigger', 'y-button', ...) until the page's
    ``until`` (a JS expression) holds, then let go."""
    page.evaluate(f"xrDevice.controllers.{controller}.updateButtonValue({button!r}, 1)")
    page.wait_for_function(until)
    page.evaluate(f"xrDevice.controllers.{controller}.updateButtonValue({button!r}, 0)")
