"""People and expression in the web client (issue 17): the people list, personal mute and block,
report, moderator actions, reactions, speech bubbles, name tags, hover highlight, collisions,
invite links to a private world and the make panel — two or three real pages per test.
"""

from __future__ import annotations

import json
import math
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import Pages, state
from tests.e2e.conftest import wait_joined as _wait_joined
from tests.e2e.wrist import aim_right_at
from tests.serverproc import ServerProcess
from tests.worldfiles import world_dir

pytestmark = pytest.mark.timeout(300)  # software GL on a shared 2-core machine

WATCH = "fps=10&lowpower&test"

PLAZA = """
id = "lobby"
name = "Lobby"
[bounds]
min = [-20, -1, -20]
max = [20, 10, 20]
[[spawns]]
name = "default"
position = [0, 0, 6]
radius = 0.5
[roles]
moderators = ["mika"]
[[objects]]
id = "fountain"
shape = "cylinder"
size = [3, 1, 3]
position = [0, 0.5, 0]
material = { color = "#555a66", metalness = 0.9, roughness = 0.3 }
[[objects]]
id = "ball"
shape = "sphere"
size = [0.4, 0.4, 0.4]
position = [0, 1.2, 4.5]
grabbable = true
"""

VAULT = """
id = "vault"
name = "Vault"
visibility = "private"
[bounds]
min = [-10, -1, -10]
max = [10, 10, 10]
[[spawns]]
name = "default"
position = [0, 0, 0]
[roles]
owner = "mika"
"""


@pytest.fixture(scope="module")
def e2e_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    base = tmp_path_factory.mktemp("plaza-social")
    proc = ServerProcess.in_dir(base, world_dir(base, {"lobby": PLAZA, "vault": VAULT}))
    yield proc
    proc.stop()


def wait_joined(page: Page, world: str) -> dict[str, Any]:
    return _wait_joined(page, world, timeout=90_000)


def post_json(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(req) as r:
        return json.load(r)  # type: ignore[no-any-return]


_tokens: dict[str, str] = {}


def account(srv: ServerProcess, user: str) -> str:
    """The account that a world file names (the one-time setup token claims it; once)."""
    if user in _tokens:
        return _tokens[user]
    setup = (srv.data_dir / "setup-token").read_text().strip()
    body = {"user": user, "password": "correct horse", "setup_token": setup}
    _tokens[user] = str(post_json(srv.url + "/api/accounts", body)["token"])
    return _tokens[user]


def signed_in(pages: Pages, srv: ServerProcess, user: str, token: str, world: str) -> Page:
    page = pages.open(srv.url + "/?" + WATCH)
    page.evaluate(
        "([t, u]) => { localStorage.setItem('plaza.token', t); localStorage.setItem('plaza.account', u); }",
        [token, user],
    )
    page.goto(srv.url + f"/w/{world}?" + WATCH)
    wait_joined(page, world)
    return page


def sees(page: Page, eid: int) -> bool:
    return bool(page.evaluate("(id) => plaza.state().avatars.some(a => a.id === id && !a.hidden)", eid))


def test_people_list_mute_block_report(e2e_server: ServerProcess, pages: Pages) -> None:
    a = pages.open(e2e_server.url + "/w/lobby?name=Ada&" + WATCH)
    b = pages.open(e2e_server.url + "/w/lobby?name=Bo&" + WATCH)
    a_id = wait_joined(a, "lobby")["selfId"]
    b_id = wait_joined(b, "lobby")["selfId"]
    a.wait_for_function("(id) => plaza.state().avatars.some(x => x.id === id)", arg=b_id)
    # P opens the list (keyboard); both people are in it, Bo with a distance.
    a.keyboard.press("KeyP")
    a.wait_for_selector("#people li[data-id]", state="visible")
    a.wait_for_function("document.querySelectorAll('#people li[data-id]').length === 2")
    row = a.inner_text(f"#people li[data-id='{b_id}']")
    assert "Bo" in row and " m" in row, row
    assert "(you)" in a.inner_text(f"#people li[data-id='{a_id}']")
    assert a.locator("#people button.mod").count() == 0, "guests see no moderator buttons"

    # Personal mute: Bo's chat no longer shows for Ada (Bo still sees it).
    a.click(f"#people li[data-id='{b_id}'] button[data-act='mute-me']")
    b.keyboard.press("Enter")
    b.keyboard.type("first line")
    b.keyboard.press("Enter")
    b.wait_for_function("[...document.querySelectorAll('#chat-log li')].some(l => l.textContent === 'Bo: first line')")
    a.wait_for_timeout(500)  # what Ada would have seen by now
    assert not any("first line" in t for t in a.eval_on_selector_all("#chat-log li", "e => e.map(x => x.textContent)"))
    a.click(f"#people li[data-id='{b_id}'] button[data-act='unmute-me']")

    # Speech bubble over Bo for Ada.
    b.keyboard.press("Enter")
    b.keyboard.type("hello bubble")
    b.keyboard.press("Enter")
    a.wait_for_function("(id) => plaza.state().bubbles.some(x => x.id === id && x.text === 'hello bubble')", arg=b_id)

    # Block: Bo's avatar disappears for Ada only, and stays blocked after a reload.
    a.click(f"#people li[data-id='{b_id}'] button[data-act='block']")
    a.wait_for_function("(id) => !plaza.state().avatars.some(x => x.id === id && !x.hidden)", arg=b_id)
    assert sees(b, a_id)
    assert a.evaluate("JSON.parse(localStorage.getItem('plaza.blockedNames'))") == ["Bo"]
    a.click(f"#people li[data-id='{b_id}'] button[data-act='unblock']")
    a.wait_for_function("(id) => plaza.state().avatars.some(x => x.id === id && !x.hidden)", arg=b_id)

    # Report: the reason prompt is answered; the server confirms with a report number.
    a.once("dialog", lambda d: d.accept("rude"))
    a.click(f"#people li[data-id='{b_id}'] button[data-act='report']")
    a.wait_for_function(
        "[...document.querySelectorAll('#chat-log li')].some(l => /report #\\d+ received/.test(l.textContent))"
    )


def test_reactions_float_over_the_sender(e2e_server: ServerProcess, pages: Pages) -> None:
    a = pages.open(e2e_server.url + "/w/lobby?name=Cy&" + WATCH)
    b = pages.open(e2e_server.url + "/w/lobby?name=Di&" + WATCH)
    a_id = wait_joined(a, "lobby")["selfId"]
    wait_joined(b, "lobby")
    b.wait_for_function("(id) => plaza.state().avatars.some(x => x.id === id)", arg=a_id)
    a.keyboard.press("Digit2")  # heart
    b.wait_for_function("(id) => plaza.state().reactions.some(r => r.id === id && r.kind === 2)", arg=a_id)
    a.wait_for_function("(id) => plaza.state().reactions.some(r => r.id === id)", arg=a_id)  # seen by the sender too
    # Name tags are as wide as the names.
    widths = b.evaluate("plazaTest.app.avatars.list.map(x => [x.name, x.tagW])")
    b.evaluate("plazaTest.fakeAvatars(2)")  # "Fake 1", "Fake 2": longer than "Cy"
    wide = b.evaluate("plazaTest.app.avatars.list.filter(x => x.name.startsWith('Fake')).map(x => x.tagW)")
    narrow = next(w for n, w in widths if n == "Cy")
    assert all(w > narrow for w in wide) and narrow < 0.7, (narrow, wide)


def test_moderator_kicks_from_the_people_list(e2e_server: ServerProcess, pages: Pages) -> None:
    mod = signed_in(pages, e2e_server, "mika", account(e2e_server, "mika"), "lobby")
    guest = pages.open(e2e_server.url + "/w/lobby?name=Eve&" + WATCH)
    g_id = wait_joined(guest, "lobby")["selfId"]
    mod.wait_for_function("(id) => plaza.state().people.some(p => p.id === id)", arg=g_id)
    mod.keyboard.press("KeyP")
    mod.wait_for_selector(f"#people li[data-id='{g_id}'] button[data-act='kick']")
    mod.once("dialog", lambda d: d.accept("testing"))
    mod.click(f"#people li[data-id='{g_id}'] button[data-act='kick']")
    # The guest is back in the lobby page with the reason in words.
    guest.wait_for_function("document.body.dataset.mode === 'lobby'", timeout=20_000)
    guest.wait_for_selector("#toast", state="visible")
    assert "moderator removed you" in guest.inner_text("#toast").lower()


def test_invite_link_opens_a_private_world(e2e_server: ServerProcess, pages: Pages) -> None:
    token = account(e2e_server, "mika")  # the vault's owner
    # Without an invite: refused with words, back in the lobby.
    nobody = pages.open(e2e_server.url + "/w/vault?name=Fay&" + WATCH)
    nobody.wait_for_function("document.body.dataset.mode === 'lobby'", timeout=30_000)
    nobody.wait_for_selector("#toast", state="visible")
    assert "invite" in nobody.inner_text("#toast").lower()
    # The owner makes a link from the people panel.
    owner = signed_in(pages, e2e_server, "mika", token, "vault")
    owner.keyboard.press("KeyP")
    owner.click("#invite-link")
    owner.wait_for_function("/invite=/.test(document.getElementById('invite-out').textContent)")
    link = owner.inner_text("#invite-out")
    guest = pages.open(link.replace("?invite=", "?name=Gus&" + WATCH + "&invite="))
    wait_joined(guest, "vault")
    assert "invite=" not in guest.url, "the invite leaves the address bar once used"


def test_walking_into_the_fountain_stops_at_its_rim(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/w/lobby?name=Hal&fps=20&lowpower&test")
    wait_joined(page, "lobby")
    head = state(page)["self"]["head"]["p"]
    page.evaluate(f"plazaTest.app.rig.rotation.y = {math.atan2(head[0], head[2])}")  # face the centre
    page.keyboard.down("KeyW")
    page.wait_for_function("plaza.state().bumped === 'fountain'", timeout=30_000)
    page.wait_for_timeout(800)  # keep pushing into it
    page.keyboard.up("KeyW")
    p = state(page)["self"]["head"]["p"]
    assert math.hypot(p[0], p[2]) >= 1.5 + 0.2, p  # radius 1.5 + the body's 0.25 (minus slack)


def test_hover_highlights_the_ball(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/w/lobby?name=Ivo&" + WATCH)
    wait_joined(page, "lobby")
    page.wait_for_function("plaza.state().objects.some(o => o.oid === 'ball')")
    ball = next(o for o in state(page)["objects"] if o["oid"] == "ball")["p"]
    head = state(page)["self"]["head"]["p"]
    yaw = math.atan2(-(ball[0] - head[0]), -(ball[2] - head[2]))
    page.evaluate(f"plazaTest.app.rig.rotation.y = {yaw}")
    page.wait_for_function("(p) => plaza.screen(p) !== null", arg=ball)
    x, y = page.evaluate("(p) => plaza.screen(p)", ball)
    page.mouse.move(x, y)
    page.wait_for_function("plaza.state().hover === 'ball'")
    page.mouse.move(5, 5)
    page.wait_for_function("plaza.state().hover === null")


def test_make_panel_asks_and_says_why_not(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/w/lobby?name=Jo&" + WATCH)
    wait_joined(page, "lobby")
    page.click("#make-panel summary")
    page.click("#make-panel button[data-make]")
    # A guest may not generate: the panel says so instead of nothing happening.
    page.wait_for_function("/sign in/i.test(document.getElementById('make-log').textContent)")


def test_vr_wrist_menu_types_free_text(e2e_server: ServerProcess, pages: Pages) -> None:
    vr = pages.open(e2e_server.url + "/w/lobby?name=Vera&emulate&lowpower&test")
    wait_joined(vr, "lobby")
    watcher = pages.open(e2e_server.url + "/w/lobby?name=Wes&" + WATCH)
    wait_joined(watcher, "lobby")
    vr.get_by_role("button", name="Enter VR").click()
    vr.wait_for_function("plaza.state().presenting && plaza.state().frames > 3")
    # Point at "⌨ Type" and pull the trigger: the keyboard page opens.
    aim_right_at(vr, "keyboard")
    vr.evaluate("xrDevice.controllers.right.updateButtonValue('trigger', 1)")
    vr.wait_for_function("plazaTest.app.vrChat.page === 'keyboard'")
    vr.evaluate("xrDevice.controllers.right.updateButtonValue('trigger', 0)")
    # One key by the controller, the rest through the same press() the rays call.
    aim_right_at(vr, "key:h")
    vr.evaluate("xrDevice.controllers.right.updateButtonValue('trigger', 1)")
    vr.wait_for_function("plazaTest.app.vrChat.typed === 'h'")
    vr.evaluate("xrDevice.controllers.right.updateButtonValue('trigger', 0)")
    vr.evaluate(
        "for (const k of ['i', ' ', 'v', 'r', 'send']) plazaTest.app.vrChat.press(k.length > 1 ? k : 'key:' + k)"
    )
    watcher.wait_for_function("document.getElementById('chat-log').textContent.includes('Vera: hi vr')")
    # People page and Leave.
    vr.evaluate("plazaTest.app.vrChat.press('people')")
    assert any("Wes" in line for line in vr.evaluate("plazaTest.app.vrChat.menu.people()"))
    vr.evaluate("plazaTest.app.vrChat.press('leave')")
    vr.wait_for_function("document.body.dataset.mode === 'lobby'")
