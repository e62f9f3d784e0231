"""End-to-end tests of the web client against a real Plaza server.

The tests of this module run in order and share one server and their pages: A joins and
enters VR with an emulated Quest 3 (IWER), B watches from a desktop page, C joins late.
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import Pages, save_shot, state, wait_joined
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.timeout(90)

# Pages that only watch are capped at 10 fps, and every page skips shadows/antialiasing
# (lowpower): headless software GL shares two CPU cores.
WATCH = "fps=10&lowpower&test"


class Ctx:
    """What the ordered tests hand on to each other."""

    def __init__(self) -> None:
        self.a_id = 0
        self.ball: dict[str, Any] = {}

    a: Page
    b: Page


ctx = Ctx()


def close(a: list[float], b: list[float], tol: float) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def to_local(page: Page, world_p: list[float]) -> list[float]:
    """World point -> the emulated headset's reference space (inverse of the rig transform)."""
    rig = state(page)["rig"]
    dx, dy, dz = (world_p[i] - rig["p"][i] for i in range(3))
    c, s = math.cos(-rig["yaw"]), math.sin(-rig["yaw"])
    return [c * dx + s * dz, dy, -s * dx + c * dz]


def glide(page: Page, target: str, to: list[float], step: float = 0.25, until: str | None = None) -> None:
    """Move the headset ("xrDevice") or a controller to `to` (local space) in small steps,
    slower than the server's 10 m/s limit, like someone walking; stop early once `until` holds."""
    cur = page.evaluate(f"(({{x, y, z}}) => [x, y, z])({target}.position)")
    n = max(1, math.ceil(math.dist(cur, to) / step))
    for i in range(1, n + 1):
        p = [cur[k] + (to[k] - cur[k]) * i / n for k in range(3)]
        page.evaluate(f"{target}.position.set({p[0]}, {p[1]}, {p[2]})")
        page.wait_for_timeout(50)  # the pace of the walk (the scenario, not a wait for something)
        if until and page.evaluate(until):
            return


def wait_xr_frames(page: Page, n: int = 3) -> None:
    """Until the page has drawn ``n`` more frames (in VR or not)."""
    f = state(page)["frames"]
    page.wait_for_function(f"plaza.state().frames >= {f + n}")


def pixels(img: Any, box: tuple[int, int, int, int], pred: Any) -> int:
    return sum(1 for x in range(box[0], box[2]) for y in range(box[1], box[3]) if pred(img.getpixel((x, y))))


@pytest.fixture(scope="module")
def pages(browser: Browser, artifacts: Path) -> Iterator[Pages]:
    """This module's tests share their pages (see the docstring), so they stay open for all of it."""
    p = Pages(browser, artifacts)
    yield p
    p.close()


def test_lobby_lists_worlds_and_join_renders(e2e_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    with urllib.request.urlopen(e2e_server.url + "/api/worlds") as r:
        worlds = json.load(r)
    page = pages.open(e2e_server.url + "/?" + WATCH)
    page.wait_for_selector(".world button")
    cards = page.eval_on_selector_all(".world", "els => els.map(e => [e.dataset.id, e.textContent])")
    assert {c[0] for c in cards} == {w["id"] for w in worlds}
    text = {c[0]: c[1] for c in cards}
    for w in worlds:
        assert w["name"] in text[w["id"]] and f"{w['occupancy']} / {w['capacity']}" in text[w["id"]]
        assert all(t in text[w["id"]] for t in w["tags"])
        if w["events"]:
            assert w["events"][0]["title"] in text[w["id"]]
    save_shot(page, artifacts, "1-lobby")

    page.fill("#name", "Ada")
    page.click("button[data-world=lobby]")
    st = wait_joined(page, "lobby")
    page.wait_for_function("plaza.state().objects.some((o) => o.oid === 'welcome-ball')")  # first STATE in
    wait_xr_frames(page)  # ...and drawn
    assert st["selfId"] and page.url.endswith("/w/lobby?" + WATCH)
    assert page.evaluate("localStorage.getItem('plaza.name')") == "Ada"
    img = save_shot(page, artifacts, "1-lobby-world")
    assert len(img.getcolors(1 << 20) or []) > 200, "world view looks blank"
    # The welcome sign (white text, 0.8 m high, 4.6 m up at the centre) is on screen and drawn.
    sx, sy = page.evaluate("plaza.screen([0, 4.6, 0])")
    box = (int(sx) - 60, int(sy) - 12, int(sx) + 60, int(sy) + 12)
    assert pixels(img, box, lambda c: min(c) > 225) > 30, "welcome sign not visible"
    # The sky gradient at the top is not the page background.
    assert img.getpixel((240, 60)) != (15, 19, 32)
    # Shared objects arrive from STATE with their authored positions.
    with urllib.request.urlopen(e2e_server.url + "/api/worlds/lobby") as r:
        authored = {o["id"]: o for o in json.load(r)["world_info"]["objects"]}
    objs = {o["oid"]: o for o in state(page)["objects"]}
    assert "welcome-ball" in objs and close(objs["welcome-ball"]["p"], authored["welcome-ball"]["position"], 0.01)

    # Desktop interaction: turn towards the ball by dragging the view, click it to pick it
    # up, click again to let go.
    head = state(page)["self"]["head"]["p"]
    ball = objs["welcome-ball"]["p"]
    want = math.atan2(-(ball[0] - head[0]), -(ball[2] - head[2]))
    turn = (want - state(page)["rig"]["yaw"] + math.pi) % (2 * math.pi) - math.pi
    pitch = math.atan2(ball[1] - head[1], math.hypot(ball[0] - head[0], ball[2] - head[2]))
    page.mouse.move(240, 150)
    page.mouse.down()
    # 0.0025 rad per pixel (desktop.js): the ball ends up in the middle of the view.
    page.mouse.move(240 - turn / 0.0025, 150 - pitch / 0.0025, steps=8)
    page.mouse.up()
    wait_xr_frames(page)  # the camera follows the new yaw and pitch on the next frames
    xy = page.evaluate("(p) => plaza.screen(p)", ball)
    assert xy and page.evaluate("([x, y]) => document.elementFromPoint(x, y) instanceof HTMLCanvasElement", xy)
    save_shot(page, artifacts, "1-desktop-facing-ball")
    page.mouse.click(*xy)
    page.wait_for_function(f"plaza.state().held === {objs['welcome-ball']['id']}", timeout=5000)
    page.mouse.click(*xy)
    page.wait_for_function("plaza.state().held === null", timeout=5000)
    page.context.close()  # Ada leaves; fewer pages keep the shared CPUs free


def test_vr_head_and_hand_seen_by_other(e2e_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    a = ctx.a = pages.open(e2e_server.url + "/w/lobby?name=Alice&emulate&lowpower&test")
    ctx.a_id = wait_joined(a, "lobby")["selfId"]
    b = ctx.b = pages.open(e2e_server.url + "/w/lobby?name=Bob&" + WATCH)
    wait_joined(b, "lobby")
    a.get_by_role("button", name="Enter VR").click()  # trusted click, like a user
    a.wait_for_function("plaza.state().presenting && plaza.state().frames > 3")
    b.wait_for_function(f"plaza.state().avatars.some(a => a.id === {ctx.a_id} && a.name === 'Alice')")

    a.evaluate("""() => {
        xrDevice.position.set(0.3, 1.5, -0.4);
        xrDevice.quaternion.set(0, Math.sin(Math.PI / 12), 0, Math.cos(Math.PI / 12));   // yaw 30 deg
        xrDevice.controllers.right.position.set(0.45, 1.2, -0.7);
    }""")
    wait_xr_frames(a)
    me = state(a)["self"]
    rig = state(a)["rig"]
    # A's own head in world space = rig transform applied to the headset pose.
    assert close(me["head"]["p"], [rig["p"][0] + 0.3, rig["p"][1] + 1.5, rig["p"][2] - 0.4], 0.01)
    assert close(me["right"]["p"], [rig["p"][0] + 0.45, rig["p"][1] + 1.2, rig["p"][2] - 0.7], 0.01)
    t0 = time.monotonic()
    b.wait_for_function(
        f"""() => {{
        const av = plaza.state().avatars.find(a => a.id === {ctx.a_id});
        const near = (p, q) => p.every((x, i) => Math.abs(x - q[i]) < 0.02);
        return av && near(av.head.p, {me["head"]["p"]}) && near(av.right.p, {me["right"]["p"]})
            && near(av.head.q, {me["head"]["q"]});
    }}""",
        timeout=1500,
    )
    assert time.monotonic() - t0 < 1.5
    save_shot(a, artifacts, "2-a-in-vr")
    save_shot(b, artifacts, "2-b-sees-a")


def test_grab_move_seen_by_others_and_late_joiner(e2e_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    a, b = ctx.a, ctx.b
    ball = next(o for o in state(a)["objects"] if o["oid"] == "welcome-ball")
    # Walk (headset) next to the ball, then put the right controller on it and squeeze.
    bl = to_local(a, ball["p"])
    a.evaluate("xrDevice.quaternion.set(0, 0, 0, 1)")
    glide(a, "xrDevice", [bl[0] - 0.3, 1.6, bl[2] + 0.45])
    glide(a, "xrDevice.controllers.right", bl, step=0.2)
    wait_xr_frames(a)
    a.evaluate("xrDevice.controllers.right.updateButtonValue('squeeze', 1)")
    a.wait_for_function(f"plaza.state().held === {ball['id']}", timeout=5000)
    b.wait_for_function(f"plaza.state().objects.find(o => o.id === {ball['id']}).heldBy === {ctx.a_id}", timeout=2000)
    dest = [bl[0] + 0.5, bl[1] + 0.4, bl[2] - 0.2]
    glide(a, "xrDevice.controllers.right", dest, step=0.05)
    a.wait_for_timeout(400)  # hold still so the release is not a throw
    a.evaluate("xrDevice.controllers.right.updateButtonValue('squeeze', 0)")
    a.wait_for_function("plaza.state().held === null")
    wait_xr_frames(a)
    moved = next(o for o in state(a)["objects"] if o["id"] == ball["id"])
    assert math.dist(moved["p"], ball["p"]) > 0.5
    b.wait_for_function(
        f"""() => {{ const o = plaza.state().objects.find(o => o.id === {ball["id"]});
        return o && o.heldBy === null && o.p.every((x, i) => Math.abs(x - {moved["p"]}[i]) < 0.02); }}""",
        timeout=2000,
    )
    save_shot(a, artifacts, "3-a-moved-ball")
    save_shot(b, artifacts, "3-b-sees-ball")
    c = pages.open(e2e_server.url + "/w/lobby?name=Cleo&" + WATCH)
    wait_joined(c, "lobby")
    c.wait_for_function(
        f"""() => {{ const o = plaza.state().objects.find(o => o.oid === 'welcome-ball');
        return o && o.p.every((x, i) => Math.abs(x - {moved["p"]}[i]) < 0.02); }}""",
        timeout=5000,
    )
    save_shot(c, artifacts, "3-c-late-joiner")
    c.context.close()
    ctx.ball = moved


def test_chat_and_portal(e2e_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    a, b = ctx.a, ctx.b
    # Arrivals close together share one line ("Bob and Cleo joined").
    assert re.search(r"\bBob\b[\w ,]* joined", a.inner_text("#chat-log"))
    # Leave VR (as the headset's menu would), then type on the keyboard.
    a.evaluate("plazaTest.app.xr.exit()")
    a.wait_for_function("!plaza.state().presenting")
    a.click("#chat-input")
    a.keyboard.type("hello from Alice")
    a.keyboard.press("Enter")
    b.wait_for_function(
        "document.querySelector('#chat-log').innerText.includes('Alice: hello from Alice')", timeout=3000
    )
    b.fill("#chat-input", "hi Alice")
    b.press("#chat-input", "Enter")
    a.wait_for_function("document.querySelector('#chat-log').innerText.includes('Bob: hi Alice')", timeout=3000)
    assert any("Alice: hello from Alice" in line for line in a.evaluate("plazaTest.app.vrChat.lines"))
    save_shot(b, artifacts, "4-b-chat")

    # Back into VR and walk (headset) into the portal to the meeting room.
    a.get_by_role("button", name="Enter VR").click()
    a.wait_for_function("plaza.state().presenting")

    # Teleport: right stick forward shows the arc and target; letting go jumps there.
    a.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 0, -1)")
    a.wait_for_function("plazaTest.app.xr.arc.visible && plazaTest.app.xr.targetValid", timeout=5000)
    save_shot(a, artifacts, "4-a-teleport-arc")
    target = a.evaluate("plazaTest.app.xr.target.position.toArray()")
    a.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 0, 0)")
    near_target = "(t) => { const h = %s; return h && Math.hypot(h[0] - t[0], h[2] - t[2]) < 0.05; }"
    a.wait_for_function(near_target % "plaza.state().self.head.p", arg=target, timeout=3000)
    # The server accepted the jump: B sees A's head arrive there.
    b_head = f"(plaza.state().avatars.find(a => a.id === {ctx.a_id}) || {{head: {{p: null}}}}).head.p"
    try:
        b.wait_for_function(near_target % b_head, arg=target, timeout=3000)
    except Exception:  # say why (server errors are logged as console warnings)
        print("target", target, "A:", state(a)["self"], "B sees:", b.evaluate(b_head), pages.warnings[-5:])
        raise
    # Snap turn: a sideways flick turns the rig 30 degrees about the head, which stays put.
    before = state(a)
    a.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 1, 0)")
    a.wait_for_function(f"plaza.state().rig.yaw !== {before['rig']['yaw']}", timeout=3000)
    a.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 0, 0)")
    after = state(a)
    turned = (after["rig"]["yaw"] - before["rig"]["yaw"] + math.pi) % (2 * math.pi) - math.pi
    assert abs(turned + math.pi / 6) < 1e-3
    assert close(after["self"]["head"]["p"], before["self"]["head"]["p"], 0.01)

    # In VR, chat with the board on the left controller: point the right one at the first
    # quick phrase and pull the trigger.
    # Hands back where a person holds them (the test left them behind while walking).
    hp = a.evaluate("(({x, y, z}) => [x, y, z])(xrDevice.position)")
    a.evaluate(f"xrDevice.controllers.left.position.set({hp[0] - 0.25}, {hp[1] - 0.3}, {hp[2] - 0.35})")
    a.evaluate(f"xrDevice.controllers.right.position.set({hp[0] + 0.2}, {hp[1] - 0.35}, {hp[2] - 0.3})")
    wait_xr_frames(a)
    button = a.evaluate("""() => {
        const m = plazaTest.app.vrChat.mesh, w = m.geometry.parameters.width, h = m.geometry.parameters.height;
        const u = (10 + 492 / 8) / 512, v = 1 - (420 - 70 + 28) / 420;   // vrchat.js layout
        return m.localToWorld(m.position.clone().set((u - 0.5) * w, (v - 0.5) * h, 0)).toArray();
    }""")
    hand = to_local(a, state(a)["self"]["right"]["p"])
    aim = to_local(a, button)
    d = [aim[i] - hand[i] for i in range(3)]
    n = math.sqrt(sum(x * x for x in d))
    d = [x / n for x in d]
    # Quaternion turning the controller's forward (0, 0, -1) onto d.
    q = [d[1], -d[0], 0.0, 1.0 - d[2]]
    qn = math.sqrt(sum(x * x for x in q))
    a.evaluate(f"xrDevice.controllers.right.quaternion.set({q[0] / qn}, {q[1] / qn}, {q[2] / qn}, {q[3] / qn})")
    wait_xr_frames(a)
    a.evaluate("xrDevice.controllers.right.updateButtonValue('trigger', 1)")
    b.wait_for_function("document.querySelector('#chat-log').innerText.includes('Alice: Hi!')", timeout=3000)
    a.evaluate("xrDevice.controllers.right.updateButtonValue('trigger', 0)")
    a.evaluate("xrDevice.controllers.right.quaternion.set(0, 0, 0, 1)")

    portal = a.evaluate("plazaTest.app.world.info.portals.find(p => p.target === 'meeting-room').position")
    a.evaluate("xrDevice.quaternion.set(0, 0, 0, 1)")
    pl = to_local(a, portal)
    glide(a, "xrDevice", [pl[0], 1.6, pl[2]], step=0.3, until="plaza.state().world === 'meeting-room'")
    st = wait_joined(a, "meeting-room", timeout=10_000)
    assert st["presenting"]
    b.wait_for_function(f"!plaza.state().avatars.some(a => a.id === {ctx.a_id})", timeout=3000)
    b.wait_for_function("document.querySelector('#chat-log').innerText.includes('Alice left')", timeout=3000)
    a.wait_for_timeout(300)  # for the screenshot only: the new world's models settle in
    save_shot(a, artifacts, "4-a-meeting-room")


def test_reconnects_after_server_restart(e2e_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    a = ctx.a
    a.evaluate("window.__noReload = 1")
    e2e_server.kill()
    a.wait_for_function("plaza.state().status === 'reconnecting'", timeout=5000)
    save_shot(a, artifacts, "5-a-reconnecting")
    assert a.evaluate("document.querySelector('#status').textContent").startswith(("Connection lost", "Reconnecting"))
    e2e_server.start()
    st = wait_joined(a, "meeting-room", timeout=20_000)
    assert a.evaluate("window.__noReload") == 1, "the page was reloaded"
    assert st["status"] == "connected"
    save_shot(a, artifacts, "5-a-reconnected")
    # The moved ball survived the restart (the server persists where objects rest).
    b = ctx.b
    wait_joined(b, "lobby", timeout=20_000)
    b.wait_for_function(
        f"""() => {{ const o = plaza.state().objects.find(o => o.oid === 'welcome-ball');
        return o && o.p.every((x, i) => Math.abs(x - {ctx.ball["p"]}[i]) < 0.02); }}""",
        timeout=5000,
    )
    # The browser itself logs the refused connections while the server is down: expected.
    errors = [e for e in pages.errors if "WebSocket connection to" not in e]
    assert not errors, errors
