from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from server.hosting import EventStatus, Hosting, Role, events_from_config
from server.hosting.errors import EventFull, EventOver, InvalidEvent, PermissionDenied
from server.hosting.identity import Principal
from server.worldconfig import WorldConfig
from tests.hosting.conftest import GUEST, GUEST2, MEMBER, MEMBER2, MOD, NOW, OWNER, restart
from tests.hosting.shows import START, show

HOST = Principal.for_account("dj")  # the event's host: no world role at all
DAVE = Principal.for_account("dave")


@pytest.fixture
def ev(hosting: Hosting) -> Hosting:
    hosting.events.set_world_events("plaza", [show()])
    return hosting


def test_events_from_world_config() -> None:
    cfg = WorldConfig.model_validate(
        {
            "id": "hall",
            "name": "Hall",
            "spawns": [{"name": "default", "position": [0, 0, 0]}],
            "events": [
                {"id": "gig", "title": "Gig", "start": datetime.fromtimestamp(START, UTC), "duration_minutes": 90,
                 "host": "dj", "capacity": 50, "stage": "main", "tags": ["music"]},
                {"id": "weekly", "title": "Weekly", "start": datetime.fromtimestamp(START, UTC),
                 "duration_minutes": 30, "host": "dj", "recurrence": "weekly"},
            ],
        }
    )  # fmt: skip
    evs = events_from_config(cfg, NOW, days=15)
    keys = [e.key for e in evs]
    week = 7 * 86400
    assert keys == ["hall/gig", f"hall/weekly@{int(START)}", f"hall/weekly@{int(START) + week}",
                    f"hall/weekly@{int(START) + 2 * week}"]  # fmt: skip
    gig = evs[0]
    assert (gig.start, gig.end, gig.capacity, gig.tags, gig.host, gig.source) == (
        START,
        START + 5400,
        50,
        ("music",),
        "dj",
        "world",
    )


def test_starting_soon_and_live_now(ev: Hosting) -> None:
    e = ev.events
    assert e.status("plaza/show", NOW) is EventStatus.SCHEDULED
    assert e.status("plaza/show", START - 15 * 60 - 1) is EventStatus.SCHEDULED
    assert e.status("plaza/show", START - 15 * 60) is EventStatus.STARTING_SOON
    assert e.status("plaza/show", START) is EventStatus.LIVE
    assert e.status("plaza/show", START + 1800) is EventStatus.ENDED
    later = replace(show(), key="hidden/later", world="hidden", id="later", start=START + 600, end=START + 2400)
    ev.events.set_world_events("hidden", [later])
    assert [(x.key, s) for x, s in e.lobby(START - 60)] == [
        ("plaza/show", EventStatus.STARTING_SOON),
        ("hidden/later", EventStatus.STARTING_SOON),
    ]
    assert [(x.key, s) for x, s in e.lobby(START + 60)] == [
        ("plaza/show", EventStatus.LIVE),
        ("hidden/later", EventStatus.STARTING_SOON),
    ]
    assert [(x.key, s) for x, s in e.lobby(START + 700)] == [
        ("plaza/show", EventStatus.LIVE),
        ("hidden/later", EventStatus.LIVE),
    ]
    assert e.lobby(START + 5000) == []


def test_rsvp_capacity(ev: Hosting) -> None:
    e = ev.events
    e.rsvp("plaza/show", DAVE, NOW)
    e.rsvp("plaza/show", DAVE, NOW)  # twice is fine and takes one place
    e.rsvp("plaza/show", MEMBER, NOW)
    with pytest.raises(EventFull, match=r"'Show' is full \(2 places\)") as x:
        e.rsvp("plaza/show", MEMBER2, NOW)
    assert x.value.code == "event_full"
    assert e.rsvp_count("plaza/show") == 2
    assert e.cancel_rsvp("plaza/show", DAVE)
    e.rsvp("plaza/show", MEMBER2, NOW)
    assert e.rsvps("plaza/show") == ["a:bob", "a:carol"]
    with pytest.raises(EventOver):
        e.rsvp("plaza/show", GUEST2, START + 1800)


def test_unlimited_capacity(hosting: Hosting) -> None:
    hosting.events.set_world_events("plaza", [show(capacity=None)])
    for i in range(50):
        hosting.events.rsvp("plaza/show", Principal.for_guest(f"g{i}"), NOW)
    assert hosting.events.rsvp_count("plaza/show") == 50


def test_due_notices_once(ev: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    ev.events.set_world_events("plaza", [show(capacity=None)])
    ev.events.rsvp("plaza/show", GUEST, NOW)
    ev.events.rsvp("plaza/show", MEMBER, NOW)
    assert ev.events.due_notices(START - 1) == []
    due = ev.events.due_notices(START)
    assert sorted((n.user, n.event.key) for n in due) == [("a:bob", "plaza/show"), (GUEST.key, "plaza/show")]
    assert ev.events.due_notices(START + 1) == []
    h2 = restart(ev, open_hosting)
    h2.events.set_world_events("plaza", [show(capacity=None)])
    assert h2.events.due_notices(START + 2) == []  # not again after a restart
    h2.events.rsvp("plaza/show", MEMBER2, START + 3)  # a late RSVP during the show gets one too
    assert [n.user for n in h2.events.due_notices(START + 4)] == ["a:carol"]
    assert h2.events.due_notices(START + 5) == []


def test_host_started_event_notifies_early(ev: Hosting) -> None:
    ev.events.rsvp("plaza/show", MEMBER, NOW)
    ev.events.start("plaza/show", HOST, NOW + 10)
    assert ev.events.status("plaza/show", NOW + 10) is EventStatus.LIVE
    assert [n.user for n in ev.events.due_notices(NOW + 11)] == [MEMBER.key]


def test_host_controls(ev: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    e = ev.events
    assert ev.roles.role_of("plaza", HOST) is Role.MEMBER
    with pytest.raises(PermissionDenied, match="'start_event' needs role moderator or being this event's host"):
        e.start("plaza/show", MEMBER, START)
    st = e.start("plaza/show", HOST, START - 60)
    assert st.started_at == START - 60
    e.set_spotlight("plaza/show", HOST, ["avatar:7", "obj:piano", "avatar:7"], START)
    st = e.gather("plaza/show", MOD, START)
    assert (st.gather_stage, st.gather_seq) == ("stage", 1)
    assert e.gather("plaza/show", HOST, START).gather_seq == 2
    e.mute_chat("plaza/show", HOST, True, START)
    e.pin("plaza/show", HOST, "  Requests in the side chat!  ", START)
    with pytest.raises(PermissionDenied):
        e.pin("plaza/show", GUEST, "hijack", START)
    assert e.chat_muted("plaza", START) and not e.chat_muted("hidden", START)
    assert e.spotlight("plaza", START) == {"avatar:7", "obj:piano"}

    h2 = restart(ev, open_hosting)  # the show keeps going after a restart
    h2.events.set_world_events("plaza", [show()])
    st = h2.events.state("plaza/show")
    assert st.spotlight == ["avatar:7", "obj:piano"] and st.pinned == "Requests in the side chat!" and st.chat_muted
    assert h2.events.status("plaza/show", START + 1800 + 60) is EventStatus.LIVE  # host started it: runs over
    st = h2.events.end("plaza/show", OWNER, START + 1900)
    assert st.ended_at == START + 1900 and st.spotlight == [] and not st.chat_muted
    assert h2.events.status("plaza/show", START + 1900) is EventStatus.ENDED
    assert h2.events.spotlight("plaza", START + 1900) == frozenset()
    with pytest.raises(EventOver):
        h2.events.start("plaza/show", HOST, START + 2000)
    actions = [a.action for a in h2.moderation.audit_log("plaza", MOD)]
    assert actions[::-1] == ["start_event", "spotlight", "gather", "gather", "mute_all_chat", "pin_message",
                             "end_event"]  # fmt: skip


def test_forgotten_show_ends_on_its_own(ev: Hosting) -> None:
    ev.events.start("plaza/show", HOST, START)
    assert ev.events.status("plaza/show", START + 1800 + 3599) is EventStatus.LIVE
    assert ev.events.status("plaza/show", START + 1800 + 3600) is EventStatus.ENDED


def test_owner_created_events(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    with pytest.raises(PermissionDenied, match="'create_event' needs role owner"):
        hosting.events.create("plaza", MOD, NOW, title="Nope", start=START, duration_s=600)
    with pytest.raises(InvalidEvent, match="title must be 1–120 characters; duration must be between"):
        hosting.events.create("plaza", OWNER, NOW, title=" ", start=START, duration_s=10)
    with pytest.raises(InvalidEvent, match="already be over"):
        hosting.events.create("plaza", OWNER, NOW, title="Past", start=NOW - 7200, duration_s=600)
    e = hosting.events.create(
        "plaza", OWNER, NOW, title="Poetry night", start=START, duration_s=3600,
        description="Bring a poem", tags=["words", " "], capacity=1, stage="stage",
    )  # fmt: skip
    assert e.key.startswith("plaza/u-") and e.host == "olivia" and e.tags == ("words",) and e.source == "owner"
    h2 = restart(hosting, open_hosting)
    assert h2.events.get(e.key) == e
    h2.events.rsvp(e.key, MEMBER2, NOW)
    with pytest.raises(EventFull):
        h2.events.rsvp(e.key, MEMBER, NOW)
    assert [x.key for x in h2.events.events("plaza")] == [e.key]
    h2.events.delete(e.key, OWNER, NOW)
    h3 = restart(h2, open_hosting)
    assert h3.events.events() == []


def test_attendance_is_logged(ev: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    e = ev.events
    e.start("plaza/show", HOST, START)
    e.joined("plaza/show", GUEST, START + 10)
    assert e.joined("plaza/show", GUEST, START + 11) == 0  # second tab: not logged twice
    e.joined("plaza/show", MEMBER, START + 20)
    assert e.left("plaza/show", GUEST, START + 100)
    e.joined("plaza/show", GUEST, START + 200)  # came back
    e.end("plaza/show", HOST, START + 1000)
    h2 = restart(ev, open_hosting)
    rows = [(r.user, r.world, r.joined, r.left_at) for r in h2.events.attendance("plaza/show")]
    assert rows == [
        (GUEST.key, "plaza", START + 10, START + 100),
        ("a:bob", "plaza", START + 20, START + 1000),
        (GUEST.key, "plaza", START + 200, START + 1000),
    ]


def test_to_client(ev: Hosting) -> None:
    ev.events.rsvp("plaza/show", MEMBER, NOW)
    ev.events.start("plaza/show", HOST, START)
    ev.events.pin("plaza/show", HOST, "hi", START)
    d = ev.events.to_client("plaza/show", START, MEMBER.key)
    assert (d["status"], d["rsvps"], d["places_left"], d["rsvped"]) == ("live", 1, 1, True)
    assert d["live_state"]["pinned"] == "hi" and d["title"] == "Show" and d["tags"] == []
    assert ev.events.to_client("plaza/show", START)["rsvped"] is False
