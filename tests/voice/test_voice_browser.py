"""Headless Chromium pages with fake microphones talk through Plaza's Janus.

Most pages are the real SDK plus the real web_client/js/voice.js (tests/voice/harness.html);
where the client's own controls are the point (a headset's wrist menu, a plain-http page) the
page is the full web client. All join a real Plaza server that started its own Janus (see
conftest.py).
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page

from server.protocol import ErrorCode
from tests.e2e.wrist import aim_right_at, press
from tests.voice.conftest import INSECURE_HOST, LOUD, SILENT, Pages, account, inbound_bytes, level, self_id, wait_for


def hears(listener: Page, speaker: Page | int) -> float:
    sid = speaker if isinstance(speaker, int) else self_id(speaker)
    try:
        return wait_for(lambda: level(listener, sid) > LOUD and level(listener, sid), what="loud voice")
    except AssertionError:
        raise AssertionError(f"no voice of {sid}: {listener.evaluate('window.plaza.state()')}") from None


def silent(listener: Page, speaker: Page | int, timeout: float = 5.0) -> float:
    """Seconds until the listener hears nothing from the speaker."""
    sid = speaker if isinstance(speaker, int) else self_id(speaker)
    t0 = time.monotonic()
    wait_for(lambda: level(listener, sid) < SILENT, timeout=timeout, every=0.02, what="silence")
    return time.monotonic() - t0


def test_b_hears_a_then_a_mutes(pages: Pages, only_lo: bool) -> None:
    a = pages.open("alice", "field", x=0, z=0)
    b = pages.open("bob", "field", x=3, z=0)
    print(f"\nprivate netns with only lo: {only_lo}")
    loud = hears(b, a)
    hears(a, b)
    n0 = inbound_bytes(b)
    wait_for(lambda: inbound_bytes(b) > n0 + 1000, timeout=3, what="inbound RTP bytes growing")
    # Spatial: panned from A's head 3 m away, and quieter for it (inverse distance: ~1/3).
    v = peer(b, a)
    print(f"B hears A at rms {loud:.3f}; played at {v['heard']:.3f} of {v['level']:.3f} received")
    assert v["panned"] is True and v["heard"] < 0.6 * v["level"], v
    st = b.evaluate("window.plaza.state().voice")
    assert st["connected"] and any(p["id"] == self_id(a) and not p["stage"] for p in st["audible"])
    # A's own view (VOICE_STATE): B is connected and not muted.
    bid = self_id(b)

    def b_at_a() -> dict[str, object]:
        return next((p for p in a.evaluate("window.plaza.state().voice.people") if p["id"] == bid), {})

    wait_for(lambda: b_at_a().get("connected") and not b_at_a().get("muted"), what="B connected at A")
    a.evaluate("window.plaza.voice.setMuted(true)")
    print(f"A muted -> silence at B in {silent(b, a):.2f} s")
    wait_for(lambda: any(p["id"] == self_id(a) and p["muted"] for p in b.evaluate("window.plaza.state().voice.people")),
             what="B sees A muted")  # fmt: skip
    a.evaluate("window.plaza.voice.setMuted(false)")
    hears(b, a)


def peer(listener: Page, speaker: Page) -> dict[str, Any]:
    """The listener's ``state().voice.peers`` row of the speaker, once it is loud."""
    hears(listener, speaker)
    sid = self_id(speaker)
    rows = listener.evaluate("window.plaza.state().voice.peers")
    return dict(max((p for p in rows if p["id"] == sid), key=lambda p: p["level"]))


def test_moderator_mute_and_kick_stop_a_at_b_within_a_second(pages: Pages) -> None:
    mira = pages.open("mira", "hall", x=-2, z=0, token=account(pages.srv, "mira"), voice=False)
    a = pages.open("anna", "hall", x=0, z=0)
    b = pages.open("ben", "hall", x=2, z=0)
    aid = self_id(a)
    hears(b, a)
    t0 = time.monotonic()
    mira.evaluate(f"window.plaza.client.moderate('mute', {aid}, {{reason: 'shouting'}})")
    wait_for(lambda: level(b, aid) < SILENT, timeout=3, every=0.02, what="silence after moderator mute")
    muted_s = time.monotonic() - t0
    # Enforced at Janus: A's own client still sends (its track is enabled), Janus drops it.
    assert a.evaluate("window.plaza.voice.mic.getAudioTracks()[0].enabled") is True
    wait_for(lambda: a.evaluate("window.plaza.state().voice.moderatorMuted"), what="A told it is moderator-muted")
    mira.evaluate(f"window.plaza.client.moderate('unmute', {aid}, {{}})")
    hears(b, a)
    t0 = time.monotonic()
    mira.evaluate(f"window.plaza.client.moderate('kick', {aid}, {{reason: 'enough'}})")
    wait_for(lambda: level(b, aid) < SILENT, timeout=3, every=0.02, what="silence after kick")
    kicked_s = time.monotonic() - t0
    n0 = inbound_bytes(b)
    time.sleep(0.5)  # measuring that nothing more arrives takes a while by definition
    assert inbound_bytes(b) - n0 < 200  # at most a packet in flight
    wait_for(lambda: a.evaluate("window.plaza.closes.some(([c]) => c === 4007)"), what="A's socket closed KICKED")
    print(f"\nmoderator mute -> silence at B in {muted_s:.2f} s; kick -> silence in {kicked_s:.2f} s")
    assert muted_s < 1.0 and kicked_s < 1.0


def test_listener_outside_the_radius_is_not_subscribed(pages: Pages) -> None:
    a = pages.open("ada", "field", x=0, z=0)
    b = pages.open("bea", "field", x=4, z=0)
    c = pages.open("cy", "field", x=40, z=0)  # radius 15 m
    aid = self_id(a)
    hears(b, a)
    time.sleep(1.0)  # two AUDIBLE periods: C must still have received nothing of A
    st = c.evaluate("window.plaza.state().voice")
    assert st["connected"] and all(p["id"] != aid for p in st["audible"] + st["peers"]), st
    assert inbound_bytes(c) == 0
    c.evaluate("window.plaza.moveTo(6, 0)")  # walks up: now it hears A
    hears(c, a)


PARTICIPANTS = """async (room) => {  // [[id, publishing], ...] of a Janus room, as Janus lists them
  const { JanusSession } = await import('/js/voice.js');
  const s = await new JanusSession('/janus').connect();
  try {
    const { data } = await (await s.attach()).send({ request: 'listparticipants', room });
    return data.participants.map((p) => [p.id, !!p.publisher]);
  } finally { s.destroy(); } }"""

PUBLISH_THERE = """async (room) => {  // publish the mic into a room we hold only a listen-only credential for
  const v = window.plaza.voice;
  await v.rooms.get(room).publish(v.mic.getAudioTracks()[0]);
  return true; }"""


def test_stage_speaker_heard_in_an_overflow_instance_where_listeners_may_not_publish(pages: Pages) -> None:
    dj = pages.open("djsol", "club", token=account(pages.srv, "djsol"))
    far = pages.open("far", "club", x=80, z=80)
    other = pages.open("other", "club")  # capacity 2: the overflow instance
    st = [p.evaluate("window.plaza.state()") for p in (dj, far, other)]
    assert st[0]["instance"] == st[1]["instance"] != st[2]["instance"], st
    djid = self_id(dj)
    time.sleep(1.0)
    assert level(other, djid) == 0.0 and level(far, djid) == 0.0  # 113 m away / another instance
    event = dj.evaluate("window.plaza.client.welcome.events.find((e) => e.title === 'Late set').key")
    dj.evaluate(f"window.plaza.client.host({event!r}, 'start', {{}})")
    dj.evaluate(f"window.plaza.client.host({event!r}, 'spotlight', {{ids: ['me']}})")
    hears(far, dj)  # same instance, 113 m away

    # The overflow instance, through a listen-only credential for the performer's room; the
    # voice is attributed to the performer's stand-in avatar there.
    def stage_level() -> float:
        peers = other.evaluate("window.plaza.state().voice.peers")
        return max([p["level"] for p in peers if p["stage"]], default=0.0)

    rms = wait_for(lambda: stage_level() > LOUD and stage_level(), what="the stage voice in the overflow instance")
    stand_in = next(p["id"] for p in other.evaluate("window.plaza.state().voice.peers") if p["stage"])
    assert other.evaluate(f"window.plaza.client.entities.get({stand_in})?.info.mirror") is True
    print(f"\nstage voice in the overflow instance at rms {rms:.3f}")

    # That listen-only credential must never publish. The overflow listener does, into the
    # performer's room: Plaza answers VOICE_REFUSED and removes that participant from the room;
    # nothing else changes (the show goes on in both instances, the listener's own voice is up,
    # and it hears the stage again through a fresh listen-only credential).
    room = other.evaluate("[...window.plaza.voice.rooms.keys()].find((r) => r !== window.plaza.voice.ownRoom)")
    feed = other.evaluate(f"window.plaza.voice.rooms.get({room}).id")
    assert room == dj.evaluate("window.plaza.voice.ownRoom")
    assert [feed, False] in other.evaluate(PARTICIPANTS, room)  # in as a listener
    assert other.evaluate(PUBLISH_THERE, room) is True  # Janus itself takes the offer
    refused = wait_for(
        lambda: [e for e in other.evaluate("window.plaza.errors") if e[0] == ErrorCode.VOICE_REFUSED],
        what="ERROR VOICE_REFUSED",
    )
    assert "listen-only" in refused[0][1], refused
    wait_for(lambda: all(f != feed for f, _ in other.evaluate(PARTICIPANTS, room)), what="the publisher removed")
    assert [dj.evaluate("window.plaza.voice.cred.id"), True] in other.evaluate(PARTICIPANTS, room)  # still on
    hears(far, dj)
    wait_for(lambda: stage_level() > LOUD, what="the stage heard again in the overflow instance")
    assert other.evaluate(f"window.plaza.voice.rooms.get({room}).id") != feed  # a fresh credential
    assert other.evaluate("window.plaza.state().voice.connected") is True
    assert [e for e in other.evaluate("window.plaza.errors") if e[0] == ErrorCode.VOICE_REFUSED] == refused


SNEAKY_LISTEN = """async ([room, pin, feed]) => {  // knows room, pin and feed; never joined with a token
  const { JanusSession } = await import('/js/voice.js');
  const s = await new JanusSession('/janus').connect();
  const h = await s.attach();
  return h.send({ request: 'join', ptype: 'subscriber', room, pin, streams: [{ feed }] })
    .then(() => 'subscribed', (e) => e.message); }"""


def test_a_stranger_who_knows_the_room_cannot_listen(pages: Pages) -> None:
    a = pages.open("amy", "hall", x=0, z=0)
    cred = a.evaluate("window.plaza.voice.cred")
    mallory = pages.open("mallory", "lobby", voice=False)
    err = mallory.evaluate(SNEAKY_LISTEN, [cred["room"], cred["pin"], cred["id"]])
    assert "requires a valid private_id" in err, err


NEVER_ANSWER = """async ([room, pin, feed]) => {  // a subscriber that takes Janus' offer and never answers
  const { JanusSession } = await import('/js/voice.js');
  const v = window.plaza.voice;
  const s = await new JanusSession('/janus').connect();
  const h = await s.attach();
  const { jsep } = await h.send({ request: 'join', ptype: 'subscriber', room, pin,
    private_id: v.rooms.get(room).privateId, streams: [{ feed }] });
  window.hung = s;  // kept open, offer unanswered
  return jsep.type; }"""


def test_a_client_that_never_answers_the_offer_affects_nobody(pages: Pages) -> None:
    a = pages.open("abe", "hall", x=0, z=0)
    b = pages.open("bo", "hall", x=2, z=0)
    m = pages.open("meg", "hall", x=-2, z=0)
    cred = a.evaluate("window.plaza.voice.cred")
    assert m.evaluate(NEVER_ANSWER, [cred["room"], cred["pin"], cred["id"]]) == "offer"
    hears(b, a)  # everyone else goes on
    hears(m, a)  # and so does the hung client's own voice connection
    n0 = inbound_bytes(b)
    wait_for(lambda: inbound_bytes(b) > n0 + 1000, timeout=3, what="B's bytes growing")


def test_a_flat_world_is_heard_at_any_distance_unpanned(pages: Pages) -> None:
    """``[audio] mode = "flat"`` (the meeting room, radius 5 m): two people 60 m apart hear each
    other, played at the level received, neither panned nor quieter for the distance."""
    a = pages.open("fay", "meeting", x=-30, z=0)
    b = pages.open("gus", "meeting", x=30, z=0)
    for listener, speaker in ((b, a), (a, b)):
        v = peer(listener, speaker)
        st = listener.evaluate("window.plaza.state().voice")
        heard = next(p for p in st["audible"] if p["id"] == self_id(speaker))
        print(f"\nflat, {heard['distance']:.0f} m: played at {v['heard']:.3f} of {v['level']:.3f} received")
        assert st["mode"] == "flat" and heard["distance"] > 50
        assert v["panned"] is False and 0.85 * v["level"] < v["heard"] < 1.15 * v["level"], v


def test_in_a_headset_the_wrist_menu_and_the_y_button_mute_the_mic(pages: Pages) -> None:
    """The full client in an emulated Quest 3 (IWER): Join voice, Enter VR; the wrist menu's
    Mute (pointed at with the right controller, trigger pulled) silences the mic at the other
    page; the left controller's Y button unmutes it, and with push-to-talk X held talks."""
    vr = pages.client("/w/field?name=Vic&emulate&lowpower&test")
    vr.wait_for_function("window.plaza && plaza.state().connected && plaza.state().frames > 2", timeout=30000)
    b = pages.open("wil", "field", x=2, z=0, voice=True)
    vr.click("#voice-mic")  # before Enter VR: a microphone prompt cannot be answered in VR
    vr.wait_for_function("plaza.state().voice.connected", timeout=15000)
    vr.get_by_role("button", name="Enter VR").click()
    vr.wait_for_function("plaza.state().presenting && plaza.state().frames > 3", timeout=15000)
    vid = int(vr.evaluate("plaza.state().selfId"))
    hears(b, vid)
    aim_right_at(vr, "mute")
    press(vr, "right", "trigger", "plaza.state().voice.muted")
    print(f"\nwrist menu Mute -> silence at B in {silent(b, vid):.2f} s")
    assert vr.evaluate("plazaTest.app.vrChat.menu.muted()") is True  # the menu now offers Unmute
    wait_for(lambda: any(p["id"] == vid and p["muted"] for p in b.evaluate("window.plaza.state().voice.people")),
             what="B sees the headset muted")  # fmt: skip
    press(vr, "left", "y-button", "!plaza.state().voice.muted")
    hears(b, vid)
    # Push-to-talk: silent until the left X button is held.
    vr.evaluate("plazaTest.app.voice.setPushToTalk(true)")
    silent(b, vid)
    vr.evaluate("xrDevice.controllers.left.updateButtonValue('x-button', 1)")
    hears(b, vid)
    vr.evaluate("xrDevice.controllers.left.updateButtonValue('x-button', 0)")
    silent(b, vid)


def test_a_page_without_a_secure_context_says_why_voice_is_off(pages: Pages) -> None:
    """http://plaza.test:PORT is this server but, like a plain-http LAN address, no secure
    context: the voice panel opens by itself with the reason and the fix (``--https``)."""
    page = pages.client("/w/lobby?name=Ivy&lowpower", pages.srv.url.replace("127.0.0.1", INSECURE_HOST))
    page.wait_for_function("window.plaza && plaza.state().connected", timeout=30000)
    assert page.evaluate("window.isSecureContext") is False
    # Chromium's own console line about such an origin (the server's COOP header is ignored
    # there) is what a LAN user sees too, not an error of the client.
    pages.errors[:] = [e for e in pages.errors if "Cross-Origin-Opener-Policy header has been ignored" not in e]
    msg = page.locator("#voice-msg")
    msg.wait_for(state="visible", timeout=5000)
    assert "plaza serve --https" in msg.inner_text()
    page.click("#voice-mic")  # pressing Join voice anyway changes nothing
    st = page.evaluate("plaza.state().voice")
    assert st["enabled"] is False and "plaza serve --https" in st["error"], st
    assert msg.is_visible()
