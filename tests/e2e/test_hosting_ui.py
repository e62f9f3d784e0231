"""End-to-end test of hosting in the web client, with two pages against a real server.

A signs in as the host of a live event ("djsol") through the lobby's sign-in form, B is a guest.
Only A sees the host panel. A starts the event (B gets the notice), B walks far away so A drops
out of B's view, A's "Spotlight me" brings A back into B's view regardless of distance, a pin
shows on B's banner, and "Gather" moves B to the stage.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import Pages, save_shot, state, wait_joined
from tests.serverproc import REPO, ServerProcess
from tests.worldfiles import LOBBY, club_world, world_dir

pytestmark = pytest.mark.timeout(150)

WATCH = "fps=10&lowpower&test"
STAGE = (0.0, -20.0)

STATUE = """
[[objects]]
id = "statue"
generate = "a marble statue"
size = [1, 2, 1]
position = [3, 1, -3]
"""


@pytest.fixture(scope="module")
def hosting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    base = tmp_path_factory.mktemp("plaza-hosting")
    # Room for both pages in one instance.
    club = club_world(datetime.now(UTC) - timedelta(minutes=10), capacity=8, extra=STATUE)
    worlds = world_dir(base, {"lobby": LOBBY, "club": club})
    (worlds / "assets").mkdir()
    shutil.copyfile(REPO / "worlds" / "assets" / "knot-sculpture.glb", worlds / "assets" / "knot-sculpture.glb")
    proc = ServerProcess.in_dir(base, worlds)
    yield proc
    proc.stop()


def post_json(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req) as r:
        return r.status, json.load(r)


def sees(page: Page, eid: int) -> bool:
    return bool(page.evaluate("(id) => plaza.state().avatars.some(a => a.id === id)", eid))


def test_host_panel_start_spotlight_pin_gather(hosting_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    srv = hosting_server
    # djsol hosts an event in the world file: the operator claims the name with the setup token.
    setup = (srv.data_dir / "setup-token").read_text().strip()
    status, body = post_json(
        srv.url + "/api/accounts", {"user": "djsol", "password": "correct horse", "setup_token": setup}
    )
    assert status == 201 and body["token"]

    # A signs in through the lobby form; the token lands where HELLO picks it up.
    a = pages.open(srv.url + "/?" + WATCH)
    a.wait_for_selector("#events-board .event-item")
    assert a.locator("#events-board .badge.live").count() >= 1, "the live event has a LIVE badge"
    assert a.locator("#events-board button.rsvp").count() == 0, "no RSVP button before signing in"
    a.fill("#acct-user", "djsol")
    a.fill("#acct-pass", "correct horse")
    a.click("#sign-in")
    a.wait_for_selector("#account[data-signed-in='1']")
    assert a.evaluate("localStorage.getItem('plaza.account')") == "djsol"
    assert a.evaluate("localStorage.getItem('plaza.token')").startswith("p1.")  # the account token
    assert a.input_value("#name") == "djsol"
    a.wait_for_selector("#events-board button.rsvp")  # RSVP offered once signed in
    a.click("#events-board button.rsvp >> nth=0")
    a.wait_for_selector("#events-board button.rsvp:has-text('Cancel RSVP')", timeout=5000)
    a.wait_for_selector("#suggested li")
    save_shot(a, artifacts, "h1-lobby-signed-in")

    a.click("button[data-world=club]")
    a_id = wait_joined(a, "club")["selfId"]
    assert a.evaluate("plazaTest.app.net.welcome.user") == "a:djsol"
    a.wait_for_selector("#host-panel:not([hidden])")
    assert a.locator("#host-panel li", has_text="Late set").count() == 1

    b = pages.open(srv.url + "/w/club?name=Bo&" + WATCH)
    wait_joined(b, "club")
    assert b.locator("#host-panel").is_hidden(), "a guest gets no host panel"
    b.wait_for_function(f"plaza.state().avatars.some(a => a.id === {a_id})", timeout=10_000)

    # SUGGESTIONS (74) arrive soon after joining: the in-world panel lists them.
    b.wait_for_selector("#suggest-panel:not([hidden])", timeout=10_000)
    assert b.locator("#suggest-panel li.suggestion").count() >= 1

    # Start: everyone in the world hears that it is live.
    a.click("#host-panel button[data-act=start]")
    b.wait_for_function(
        "[...document.querySelectorAll('#chat-log li')].some(li => li.textContent.includes('Late set is live'))",
        timeout=5000,
    )
    save_shot(b, artifacts, "h2-b-live-notice")

    # B walks far away (80 m): A leaves B's view (interest radius 32 m).
    b.evaluate("plazaTest.app.requestTeleport({x: 80, y: 0, z: 80})")
    b.wait_for_function(
        "(() => { const h = plaza.state().self.head.p; return Math.hypot(h[0] - 80, h[2] - 80) < 2; })()",
        timeout=5000,
    )
    b.wait_for_function(f"!plaza.state().avatars.some(a => a.id === {a_id})", timeout=10_000)
    assert not sees(b, a_id)

    # Spotlight: A is visible to B again, 100 m away.
    a.click("#host-panel button[data-act=spotlight]")
    b.wait_for_function(f"plaza.state().avatars.some(a => a.id === {a_id})", timeout=5000)
    av = next(x for x in state(b)["avatars"] if x["id"] == a_id)
    assert av["name"] == "djsol" and abs(av["head"]["p"][2] - state(a)["self"]["head"]["p"][2]) < 0.5

    # Pin: B's banner shows it.
    a.fill("#host-panel .host-pin input", "Requests in chat!")
    a.click("#host-panel button[data-act=pin]")
    b.wait_for_selector("#pinned:not([hidden])", timeout=5000)
    assert b.inner_text("#pinned span") == "Requests in chat!"
    save_shot(a, artifacts, "h3-a-host-panel")

    # Gather: B is moved to the stage.
    a.click("#host-panel button[data-act=gather]")
    b.wait_for_function(
        "([x, z]) => { const h = plaza.state().self.head.p; return Math.hypot(h[0] - x, h[2] - z) < 4; }",
        arg=list(STAGE),
        timeout=5000,
    )
    head = state(b)["self"]["head"]["p"]
    assert abs(head[0] - STAGE[0]) < 4 and abs(head[2] - STAGE[1]) < 4
    b.wait_for_timeout(500)
    save_shot(b, artifacts, "h4-b-gathered")
    assert not pages.errors, pages.errors


def test_generated_objects_render_their_model_and_label(
    hosting_server: ServerProcess, pages: Pages, artifacts: Path
) -> None:
    """A `/generate` result (STATE enter with info.model + label) and a world placeholder that
    became ready (WORLD_UPDATE with generate.status "ready") both load the GLB. The server
    messages are fed to the client's dispatcher (no GPU model in tests)."""
    c = pages.open(hosting_server.url + "/w/club?name=Cy&" + WATCH)
    wait_joined(c, "club")
    assert c.evaluate("plazaTest.app.world.objectMeshes.get('statue').userData.standIn") is True
    model = "/assets/knot-sculpture.glb"
    c.evaluate(
        """(model) => {
        const net = plazaTest.app.net;
        // STATE: an object enters with absolute position (3 m ahead), rotation and holder.
        net.client._dispatch([65, 1, 0, [[999999, 1, {oid: 'gen-test', model, label: 'a knot'}, 135,
            1000, 1000, -3000, 0, 0, 0, 4095, 0]], [], []]);
        // WORLD_UPDATE: the statue placeholder is ready.
        const info = structuredClone(plazaTest.app.world.info);
        const o = info.objects.find((x) => x.id === 'statue');
        o.generate = {prompt: o.generate?.prompt || 'a marble statue', status: 'ready', url: model};
        net.client._dispatch([72, info, net.welcome.objects]);
    }""",
        model,
    )
    c.wait_for_function(
        """() => {
        const m = plazaTest.app.world.objectMeshes;
        const gen = m.get('gen-test'), statue = m.get('statue');
        const loaded = (o) => o && !o.userData.standIn
            && o.children.some((ch) => ch.name !== 'label' && ch.name !== 'stand-in' && !ch.userData.standIn);
        const st = plaza.state().objects.find((o) => o.oid === 'gen-test');
        return loaded(gen) && loaded(statue) && gen.getObjectByName('label') && st && Math.abs(st.p[2] + 3) < 0.01;
    }""",
        timeout=10_000,
    )
    objs = {o["oid"]: o for o in state(c)["objects"]}
    assert "gen-test" in objs and abs(objs["gen-test"]["p"][2] + 3) < 0.01
    assert c.evaluate("plazaTest.app.objects.grabbableObjects().some(o => o.name === 'gen-test')")
    save_shot(c, artifacts, "h5-generated")
    assert not pages.errors, pages.errors


def test_event_notice_for_another_world_offers_one_click_join(
    hosting_server: ServerProcess, pages: Pages, artifacts: Path
) -> None:
    """NOTICE kind 5 with data.world (an RSVP'd event starting elsewhere): the toast's Join
    button sends TRAVEL and the client arrives there."""
    d = pages.open(hosting_server.url + "/w/lobby?name=Dee&" + WATCH)
    wait_joined(d, "lobby")
    d.evaluate(
        "plazaTest.app.net.client._dispatch([73, 5, 'Late set is starting — join now',"
        " {event: 'club/set', world: 'club', title: 'Late set'}])"
    )
    d.wait_for_selector("#toast:not([hidden]) button:has-text('Join')")
    save_shot(d, artifacts, "h6-join-toast")
    d.click("#toast button")
    wait_joined(d, "club")
    assert d.url.split("?")[0].endswith("/w/club")
    assert not pages.errors, pages.errors
