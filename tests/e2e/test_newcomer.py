"""What a newcomer hits in the first minute (issue 17), driven with the keyboard and touch.

One real server (the repository's worlds) for the module; each test opens its own pages.
"""

from __future__ import annotations

import json
import math
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import Pages, save_shot, state
from tests.e2e.conftest import wait_joined as _wait_joined
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.timeout(300)  # software GL on a shared 2-core machine

WATCH = "fps=10&lowpower&test"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 1}


def wait_joined(page: Page, world: str) -> dict[str, Any]:
    # Generous: the first frame compiles every shader in software GL on a shared machine.
    return _wait_joined(page, world, timeout=90_000)


def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req) as r:
        return json.load(r)  # type: ignore[no-any-return]


def chat_lines(page: Page) -> list[str]:
    return page.eval_on_selector_all("#chat-log li:not([hidden])", "els => els.map(e => e.textContent)")  # type: ignore[no-any-return]


def toast(page: Page) -> str:
    page.wait_for_selector("#toast", state="visible", timeout=15_000)
    return page.inner_text("#toast")


def test_enter_opens_chat_and_enter_sends(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/w/lobby?name=Kay&" + WATCH)
    wait_joined(page, "lobby")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "chat-input", "Enter focuses the chat box"
    page.keyboard.type("hello by keyboard")
    assert page.input_value("#chat-input") == "hello by keyboard", "typing goes into the box, not walking"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "[...document.querySelectorAll('#chat-log li')].some(l => l.textContent === 'Kay: hello by keyboard')"
    )
    assert page.evaluate("document.activeElement.id") != "chat-input", "sending leaves the box for walking"
    # Escape leaves the box without sending.
    page.keyboard.press("Enter")
    page.keyboard.type("never mind")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") != "chat-input"


def test_enter_on_a_lobby_join_button_joins_then_enter_opens_chat(e2e_server: ServerProcess, pages: Pages) -> None:
    """Keyboard only, from the lobby: Enter on a world card's Join button joins that world; the
    next Enter opens chat (the hidden button must not keep focus and join again)."""
    page = pages.open(e2e_server.url + "/?name=Kit&" + WATCH)
    page.wait_for_selector("#lobby button[data-world=gallery]")
    # The lobby's name field takes ?name= too (else a Guest-NNNN name).
    assert page.input_value("#name") == "Kit"
    page.focus("#name")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('#lobby button[data-world=gallery]')"):
            break
    assert page.evaluate("document.activeElement.dataset.world") == "gallery"
    page.evaluate("""window.__hellos = 0;
        const send = plazaTest.app.net.join.bind(plazaTest.app.net);
        plazaTest.app.net.join = (...a) => { window.__hellos++; return send(...a); };
        true;""")  # (not the function: Playwright would call it)
    page.keyboard.press("Enter")
    wait_joined(page, "gallery")
    assert page.evaluate("window.__hellos") == 1
    assert not page.evaluate("document.getElementById('lobby').contains(document.activeElement)"), (
        "the hidden lobby keeps no keyboard focus"
    )
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "chat-input", "the next Enter opens chat"
    page.keyboard.type("hi from the lobby")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "[...document.querySelectorAll('#chat-log li')].some(l => l.textContent === 'Kit: hi from the lobby')"
    )
    assert page.evaluate("window.__hellos") == 1, "Enter did not join again"
    assert state(page)["world"] == "gallery"


def test_portal_labels_read_from_the_side_the_portal_faces(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/w/lobby?name=Lea&" + WATCH)
    wait_joined(page, "lobby")
    faces = page.evaluate("""plazaTest.app.world.portals.map((p) => {
        const l = p.object.getObjectByName('portal-label');
        const n = new l.position.constructor();
        l.getWorldDirection(n);  // the +z normal: the side a plane's text reads from
        return { id: p.id, yaw: p.yaw_deg || 0, n: [n.x, n.y, n.z], c: [p.center.x, p.center.z] };
    })""")
    assert len(faces) >= 5
    for f in faces:
        yaw = math.radians(f["yaw"])
        forward = (-math.sin(yaw), -math.cos(yaw))  # docs/worlds.md: forward is -z turned by yaw
        dot = f["n"][0] * forward[0] + f["n"][2] * forward[1]
        assert dot > 0.99, f"{f['id']}: label reads towards {f['n']}, portal faces {forward}"
        # The lobby's portals face the fountain: the label reads from the centre.
        to_centre = (-f["c"][0], -f["c"][1])
        assert f["n"][0] * to_centre[0] + f["n"][2] * to_centre[1] > 0, f["id"]


def test_unknown_world_link_shows_an_error_in_the_lobby(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/w/no-such-world?name=Max&" + WATCH)
    page.wait_for_function("document.body.dataset.mode === 'lobby'", timeout=20_000)
    assert "no world" in toast(page).lower()
    assert page.url.rstrip("/").endswith(e2e_server.url.split("//")[1]) or page.url.endswith("/")


def test_bad_world_address_is_a_page_not_a_black_world(e2e_server: ServerProcess, pages: Pages) -> None:
    errors = len(pages.errors)
    page = pages.open(e2e_server.url + "/w/%E0%A4%A")
    assert "404" in page.inner_text("h1")
    assert page.locator("a[href='/']").count() == 1
    page = pages.open(e2e_server.url + "/nonexistent")
    assert "404" in page.inner_text("h1")
    script_errors = [e for e in pages.errors[errors:] if "Failed to load resource" not in e]
    assert not script_errors, script_errors


def test_a_name_that_belongs_to_an_account_says_so(e2e_server: ServerProcess, pages: Pages) -> None:
    post_json(e2e_server.url + "/api/accounts", {"user": "quill", "password": "correct horse"})
    page = pages.open(e2e_server.url + "/w/lobby?name=quill&" + WATCH)
    page.wait_for_function("document.body.dataset.mode === 'lobby'", timeout=20_000)
    text = toast(page)
    assert "belongs to an account" in text and "quill" in text, text


def test_muted_chat_is_refused_out_loud(e2e_server: ServerProcess, pages: Pages) -> None:
    """A moderator (kofi, a lobby moderator in worlds/lobby.toml) mutes a guest; the guest's
    next line is refused with a visible reason, not silently dropped."""
    setup = (e2e_server.data_dir / "setup-token").read_text().strip()
    tok = post_json(
        e2e_server.url + "/api/accounts", {"user": "kofi", "password": "correct horse", "setup_token": setup}
    )
    guest = pages.open(e2e_server.url + "/w/lobby?name=Noor&" + WATCH)
    gid = wait_joined(guest, "lobby")["selfId"]
    mod = pages.open(e2e_server.url + "/?" + WATCH)
    mod.evaluate(
        "([t, u]) => { localStorage.setItem('plaza.token', t); localStorage.setItem('plaza.account', u); }",
        [tok["token"], "kofi"],
    )
    mod.goto(e2e_server.url + "/w/lobby?" + WATCH)
    wait_joined(mod, "lobby")
    mod.evaluate("(id) => plazaTest.app.net.send([10, 'mute', id, {reason: 'test'}])", gid)
    guest.wait_for_timeout(300)  # the mute is applied before the guest types (a person's pace)
    guest.keyboard.press("Enter")
    guest.keyboard.type("can anyone hear me")
    guest.keyboard.press("Enter")
    # The mute's own notice may toast first on a slow machine: wait for the refusal's toast.
    guest.wait_for_function("/not sent/i.test(document.querySelector('#toast')?.textContent || '')", timeout=15_000)
    guest.wait_for_function("[...document.querySelectorAll('#chat-log li')].some(l => /not sent/i.test(l.textContent))")


def test_join_and_leave_lines_are_collapsed(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/w/gallery?name=Ola&" + WATCH)
    wait_joined(page, "gallery")
    before = len(chat_lines(page))
    # Real arrivals: two more pages join, one line grows.
    for n in ("Pia", "Quin"):
        wait_joined(pages.open(e2e_server.url + f"/w/gallery?name={n}&fps=5&lowpower&test"), "gallery")
    page.wait_for_function("/Pia and Quin joined/.test(document.getElementById('chat-log').textContent)")
    assert len(chat_lines(page)) == before + 1, chat_lines(page)[before:]
    # A burst of thirty (as `plaza bots --n 30` makes) is still that one line.
    line = page.evaluate("""(() => { const ui = plazaTest.app.ui;
        for (let i = 0; i < 30; i++) ui.presence(true, 'Bot ' + i);
        return ui.presence(false, 'Bot 3'); })()""")
    assert len(chat_lines(page)) == before + 1, chat_lines(page)[before:]
    assert line == "Pia, Quin and 29 others joined", line


def stand_in_the_open_field(page: Page) -> None:
    """An approved jump to an empty stretch of bench-field, facing -z, with 20 m clear ahead.

    The default spawn faces the crates and the portal home: a walk from there can end in the
    lobby or slide along a crate, and the speed measured is not the walk's.
    """
    wait_joined(page, "bench-field")
    stand_facing_minus_z(page, 20, -10)
    page.mouse.move(10, 10)


def stand_facing_minus_z(page: Page, x: float, z: float) -> None:
    """An approved jump to (x, 0, z), then face -z: arrival scatter can put a walk from a
    spawn into the furniture next to it."""
    page.evaluate(f"plazaTest.app.requestTeleport({{x: {x}, y: 0, z: {z}}})")
    page.wait_for_function(
        f"Math.hypot(plaza.state().self.head.p[0] - {x}, plaza.state().self.head.p[2] - {z}) < 0.3",
        timeout=30_000,
    )
    page.evaluate("plazaTest.app.rig.rotation.y = 0")


def test_walking_speed_does_not_depend_on_frame_rate(e2e_server: ServerProcess, pages: Pages) -> None:
    speeds = {}
    for fps in (4, 20):
        page = pages.open(e2e_server.url + f"/w/bench-field?name=W{fps}&fps={fps}&lowpower&test")
        stand_in_the_open_field(page)
        t0, p0 = page.evaluate("[performance.now(), plaza.state().rig.p]")
        page.keyboard.down("KeyW")
        page.wait_for_timeout(3000)  # the walk being measured
        page.keyboard.up("KeyW")
        t1 = page.evaluate("performance.now()")
        page.wait_for_timeout(600)  # frames after the key-up walk the rest of the time it was held
        p1 = page.evaluate("plaza.state().rig.p")
        speeds[fps] = math.dist([p0[0], p0[2]], [p1[0], p1[2]]) / ((t1 - t0) / 1000)
        page.close()
    print({"walk_m_per_s_by_fps": speeds})
    # The key was down for a little less than t1 - t0, and walking follows how long it was
    # down, so at any frame rate the speed comes out a little under 3 m/s, never over.
    for fps, v in speeds.items():
        assert 2.5 < v < 3.05, f"{fps} fps walks at {v:.2f} m/s (want 3, from how long W was held)"


def test_a_tap_shorter_than_a_frame_still_steps(e2e_server: ServerProcess, pages: Pages) -> None:
    """At 4 fps a frame is 250 ms: a 100 ms tap of W, all inside one frame, walks 0.3 m."""
    page = pages.open(e2e_server.url + "/w/bench-field?name=Tap&fps=4&lowpower&test")
    stand_in_the_open_field(page)
    p0 = page.evaluate("plaza.state().rig.p")
    t = page.evaluate("""new Promise((done) => {
        const fire = (type) => dispatchEvent(new KeyboardEvent(type, { code: 'KeyW' }));
        fire('keydown'); const t0 = performance.now();
        setTimeout(() => { fire('keyup'); done(performance.now() - t0); }, 100);
    })""")
    page.wait_for_timeout(600)
    p1 = page.evaluate("plaza.state().rig.p")
    stepped = math.dist([p0[0], p0[2]], [p1[0], p1[2]])
    assert abs(stepped - 3.0 * t / 1000) < 0.03, (stepped, t)


def test_no_too_fast_after_a_portal_trip(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/w/lobby?name=Tove&fps=20&lowpower&test")
    wait_joined(page, "lobby")
    warned = len(pages.warnings)
    # Walk (keyboard) into the Gallery portal while holding W through the trip.
    portal = page.evaluate("plazaTest.app.world.portals.find((p) => p.target === 'gallery').center.toArray()")
    # An approved jump to 5 m in front of it (the fountain is in the way from the spawn).
    page.evaluate(f"plazaTest.app.requestTeleport({{x: {portal[0]}, y: 0, z: {portal[2] + 5}}})")
    page.wait_for_function(f"Math.abs(plaza.state().self.head.p[2] - {portal[2] + 5}) < 0.3", timeout=30_000)
    head = state(page)["self"]["head"]["p"]
    yaw = math.atan2(-(portal[0] - head[0]), -(portal[2] - head[2]))
    page.evaluate(f"plazaTest.app.rig.rotation.y = {yaw}")
    page.keyboard.down("KeyW")
    page.wait_for_function("plaza.state().world === 'gallery'", timeout=30_000)
    page.wait_for_timeout(1000)  # keep walking a second in the new world
    page.keyboard.up("KeyW")
    too_fast = [w for w in pages.warnings[warned:] if "TOO_FAST" in w and "name=Tove" in w]
    assert not too_fast, too_fast


def test_reconnect_countdown_ticks(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/w/lobby?name=Ugo&" + WATCH)
    wait_joined(page, "lobby")
    page.evaluate("plazaTest.app.ui.status('reconnecting', 'Connection lost — reconnecting in 3.0 s (try 4)')")
    first = page.inner_text("#status")
    page.wait_for_function("(t) => document.getElementById('status').textContent !== t", arg=first, timeout=2000)
    assert "reconnecting in" in page.inner_text("#status")
    page.evaluate("plazaTest.app.ui.status('connected', 'Connected')")


def test_lobby_list_is_updated_in_place(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/?" + WATCH)
    page.wait_for_selector(".world button")
    assert page.get_attribute("#worlds", "aria-live") is None, "the whole list is not a live region"
    # Keyboard: Tab to a Join button, then let two refreshes pass.
    page.focus("#acct-pass")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.world button')"):
            break
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.startswith("Join ")
    page.evaluate("window.__card = document.querySelector('.world')")
    page.evaluate("plazaTest.app.ui.refreshWorlds()")
    page.evaluate("plazaTest.app.ui.refreshWorlds()")
    assert page.evaluate("document.activeElement.textContent") == focused, "focus kept across refreshes"
    assert page.evaluate("window.__card.isConnected"), "cards are updated, not rebuilt"
    # Every button has a distinct accessible name; sign-in fields have labels.
    names = page.evaluate("""[...document.querySelectorAll('#lobby button')].filter(b => b.offsetParent)
        .map(b => b.getAttribute('aria-label') || b.textContent.trim())""")
    go = [n for n in names if n in ("Go", "Join")]
    assert not go, f"buttons named only {go}"
    for field in ("acct-user", "acct-pass", "name"):
        assert page.evaluate(f"document.getElementById('{field}').labels.length") >= 1, field
    # Every bundled world's card shows its rendered thumbnail (decorative: the heading names it).
    page.wait_for_function("[...document.querySelectorAll('.world')].every(c => c.querySelector('.thumb.loaded'))")
    thumbs = page.evaluate("""[...document.querySelectorAll('.world')].map(c => {
        const img = c.querySelector('.thumb img');
        const box = c.querySelector('.thumb');
        return [c.dataset.id, img.naturalWidth, img.getAttribute('alt'), box.getAttribute('aria-hidden')];
    })""")
    assert thumbs and all(w > 0 and alt == "" and hidden == "true" for _, w, alt, hidden in thumbs), thumbs
    # No thumbnail, or one that fails to load: the placeholder (initial on a colour), no broken image.
    page.evaluate("""plazaTest.app.ui._renderWorlds([null, '/assets/thumbnails/missing.webp'].map((t, i) => ({
        id: `t${i}`, name: `test ${i}`, thumbnail: t, occupancy: 0, capacity: 8, tags: [], events: []})))""")
    page.wait_for_function("!document.querySelector('.world .thumb img')")
    assert page.evaluate("[...document.querySelectorAll('.world .thumb span')].map(s => s.textContent)") == ["T", "T"]
    page.evaluate("plazaTest.app.ui.refreshWorlds()")


def test_events_show_live_now_and_weekly_events_once(e2e_server: ServerProcess, pages: Pages) -> None:
    page = pages.open(e2e_server.url + "/?" + WATCH)
    page.wait_for_selector(".world button")
    out = page.evaluate("""(async () => {
        const ui = await import('/js/ui.js'); const board = await import('/js/board.js');
        const start = new Date(Date.now() - 12 * 60000).toISOString();
        const live = ui.eventTime({ status: 'live', live: true, start });
        const items = [
          { id: 'lobby/tour@1', kind: 'event', title: 'Tour', world: 'lobby', start, reason: 'Starts in 2 days' },
          { id: 'lobby/tour@2', kind: 'event', title: 'Tour', world: 'lobby', start, reason: 'x' },
          { id: 'gallery', kind: 'space', title: 'Gallery', world: 'gallery', reason: 'Popular in Plaza' }];
        return { live, n: board.collapseOccurrences(items).length };
    })()""")
    assert out["live"] == "live now · started 12 min ago", out
    assert out["n"] == 2
    # The suggestions list has one entry per recurring event.
    ids = page.eval_on_selector_all("#suggested li.suggestion", "els => els.map(e => e.dataset.id.split('@')[0])")
    assert len(ids) == len(set(ids)), ids


def test_lobby_3d_event_board_lists_events(e2e_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    page = pages.open(e2e_server.url + "/w/lobby?name=Vic&" + WATCH)
    wait_joined(page, "lobby")
    page.wait_for_function("plazaTest.app.eventBoard && plazaTest.app.eventBoard.lines.length > 0")
    lines = page.evaluate("plazaTest.app.eventBoard.lines")
    with urllib.request.urlopen(e2e_server.url + "/api/events") as r:
        titles = {e["title"] for e in json.load(r)}
    assert all(any(t in line for t in titles) for line in lines), lines
    assert len(lines) == len({line.split(" — ")[0] for line in lines}), "weekly events once"


def test_metal_gets_an_environment_map(e2e_server: ServerProcess, pages: Pages) -> None:
    # Software GL (this machine) skips it by default for speed; ?env asks for it as a GPU gets it.
    page = pages.open(e2e_server.url + "/w/lobby?name=Wim&env&" + WATCH)
    wait_joined(page, "lobby")
    assert page.evaluate("!!plazaTest.app.scene.environment && plazaTest.app.scene.environment.isTexture")
    assert page.evaluate("plazaTest.app.envLight") is True


def test_time_to_first_frame_per_world(e2e_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    """Reported, not asserted beyond "it loads": the first frame comes before all the scenery."""
    with urllib.request.urlopen(e2e_server.url + "/api/worlds") as r:
        worlds = [w["id"] for w in json.load(r)]
    page = pages.open(e2e_server.url + "/?lowpower&test")
    page.wait_for_selector(".world button")
    report = {}
    for w in worlds:
        page.goto(e2e_server.url + f"/w/{w}?name=T&lowpower&test")
        wait_joined(page, w)
        page.wait_for_function("plaza.state().loading && plaza.state().loading.completeMs !== null", timeout=60_000)
        report[w] = state(page)["loading"]
    (artifacts / "time_to_first_frame.json").write_text(json.dumps(report, indent=1))
    print(
        {
            "time_to_first_frame_ms": {w: r["firstFrameMs"] for w, r in report.items()},
            "all_built_ms": {w: r["completeMs"] for w, r in report.items()},
        }
    )
    assert all(r["firstFrameMs"] is not None for r in report.values())


HUD = ("#xr", "#chat", "#joystick", ".bar", "#help", "#reactions", "#make-panel", "#voice", "#avatar-panel")


def box(page: Page, sel: str) -> Any:
    """[left, top, right, bottom] of a shown element, or None."""
    js = """(sel) => { const e = document.querySelector(sel); if (!e || !e.checkVisibility()) return null;
        const r = e.getBoundingClientRect();
        return r.width && r.height ? [r.left, r.top, r.right, r.bottom] : null; }"""
    return page.evaluate(js, sel)


def assert_nothing_overlaps(page: Page) -> None:
    shown = {s: box(page, s) for s in HUD}
    for i, (sa, a) in enumerate(shown.items()):
        for sb, b in list(shown.items())[i + 1 :]:
            overlap = a and b and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, f"{sa} {a} overlaps {sb} {b}"


def test_a_phone_held_sideways_and_a_small_window_have_nothing_on_top_of_anything(
    e2e_server: ServerProcess, pages: Pages
) -> None:
    for size, touch in (((844, 390), True), ((740, 360), True), ((480, 360), False)):
        ctx = pages.browser.new_context(
            viewport={"width": size[0], "height": size[1]}, has_touch=touch, is_mobile=touch, bypass_csp=True
        )
        pages.contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e, size=size: pages.errors.append(f"{size}: {e}"))
        page.goto(e2e_server.url + f"/w/lobby?name=Side{size[0]}&" + WATCH)
        wait_joined(page, "lobby")
        page.fill("#chat-input", "hello")  # a chat line or two: the chat box at its usual height
        page.press("#chat-input", "Enter")
        page.wait_for_function("document.querySelector('#chat-log').innerText.includes('hello')")
        assert_nothing_overlaps(page)
        ctx.close()
        pages.contexts.remove(ctx)
    assert not pages.errors, pages.errors


def test_phone_layout(e2e_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    ctx = pages.browser.new_context(**PHONE, bypass_csp=True)
    pages.contexts.append(ctx)
    page = ctx.new_page()
    page.on("pageerror", lambda e: pages.errors.append(f"phone: {e}"))
    page.goto(e2e_server.url + "/w/lobby?name=Phone&" + WATCH)
    wait_joined(page, "lobby")
    bar = page.evaluate("""[...document.querySelectorAll('.bar > *')].filter(e => e.checkVisibility())
        .map(e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom, r.right]; })""")
    assert len({round(t) for t, _, _ in bar}) == 1, f"top bar wraps: {bar}"
    assert max(r for _, _, r in bar) <= 390, bar
    assert "WASD" not in page.inner_text("#help") and "stick" in page.inner_text("#help").lower()
    assert not page.is_visible("#smooth-move"), "no smooth-move option without a thumbstick"

    assert_nothing_overlaps(page)
    # Touch: the joystick walks. From a clear spot: the scatter around the lobby's spawn can
    # stand a person right behind the table with the things to pick up (the CI run that
    # walked 0.76 m had walked into it).
    stand_facing_minus_z(page, -1.0, 6.5)
    p0 = state(page)["rig"]["p"]
    j = box(page, "#joystick")
    cx, cy = (j[0] + j[2]) / 2, (j[1] + j[3]) / 2
    cdp = ctx.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": cx, "y": cy}]})
    page.evaluate("""for (const type of ['touchmove', 'touchend'])
        addEventListener(type, () => { window['_' + type] = performance.now(); })""")
    cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": cx, "y": cy - 50}]})
    page.wait_for_timeout(800)  # holding the stick forward
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_timeout(300)  # the frame after the release walks the rest of the hold
    p1 = state(page)["rig"]["p"]
    pushed_s = page.evaluate("(window._touchend - window._touchmove) / 1000")
    # 50 px off centre is 50 / radius of walking speed (3 m/s), for as long as the stick was
    # pushed — not for as many frames as saw it pushed.
    walked, speed = math.dist(p0, p1), 3.0 * min(1.0, 50 / ((j[2] - j[0]) / 2))
    assert abs(walked - speed * pushed_s) < 0.05, (walked, speed, pushed_s)
    save_shot(page, artifacts, "phone-world")
