"""Two workers of one cluster, driven as pure hubs over one shared hosting database: what the
host, the owner or an RSVP changes on one worker reaches the people on the other through the
relayed messages (``Wire.relays`` stands in for Redis pub/sub: each test ships them by hand,
so it also shows what happens before they arrive)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.cluster.routing import Remote
from server.hosting import Hosting, Principal, SQLiteHostingStore, WorldRoles
from server.hosting.events import EventInfo
from server.hub import Hub
from server.protocol import ErrorCode, MsgType, NoticeKind
from tests.server.hubwire import Client, Wire
from tests.server.worlds import plain_world

NOW_S = 1_800_000_000.0  # wall clock at server time 0 (the core never reads a clock)
SHOW = EventInfo("test/show", "test", "show", "Open mic", NOW_S - 60, NOW_S + 3600, host="djsol")
LATER = EventInfo("test/later", "test", "later", "Late show", NOW_S + 30, NOW_S + 3600, host="djsol")


def _worker(db: Path, index_base: int = 0) -> Wire:
    h = Hosting(SQLiteHostingStore(db))
    h.roles.set_worlds([WorldRoles("test", "public", "olivia")])
    h.events.set_world_events("test", [SHOW, LATER])
    hub = Hub({"test": plain_world()}, hosting=h, wall=lambda ms: NOW_S + ms / 1000)
    hub.elsewhere = lambda world: list[Remote]()  # a cluster member: publishes what crosses workers
    hub.index_base = index_base  # instance keys are unique across a cluster: test#1, test#1001
    return Wire(hub)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[Wire, Wire]]:
    a, b = _worker(tmp_path / "plaza.sqlite3"), _worker(tmp_path / "plaza.sqlite3", 1000)
    yield a, b
    for w in (a, b):
        assert w.hub.link is not None
        w.hub.link.hosting.close()


def ship(src: Wire, dst: Wire, now: int) -> int:
    """Deliver what ``src`` published to ``dst``, as the cluster link does; returns how many."""
    src.pump()
    out, src.relays = src.relays, []
    for channel, msg in out:
        dst.hub.apply_remote(channel, msg, now)
    return len(out)


def account(w: Wire, user: str, now: int = 0) -> str:
    assert w.hub.link is not None
    h = w.hub.link.hosting
    h.identity.register(user, "correct horse", NOW_S + now / 1000)
    return h.identity.sign_in(user, "correct horse", "test", NOW_S + now / 1000)


def person(w: Wire, name: str, token: str | None = None) -> Client:
    c = Client(w).hello(name, **({"token": token} if token else {}))
    c.take()
    return c


def notices(c: Client, kind: NoticeKind) -> list[str]:
    return [m[2] for m in c.take(MsgType.NOTICE) if m[1] == kind]


def test_a_role_granted_on_one_worker_holds_on_the_other(workers: tuple[Wire, Wire]) -> None:
    a, b = workers
    assert a.hub.link is not None and b.hub.link is not None
    zed = person(b, "zed", account(b, "zed"))
    guest = person(b, "Gus")
    olivia = Principal.for_account("olivia")
    a.hub.link.hosting.roles.grant("test", olivia, "zed", "moderator", NOW_S)
    a.hub.link.hosting_changed("test", "roles")  # what POST /api/worlds/test/roles does
    zed.send([MsgType.MODERATE, "mute", guest.id, {}])
    (err,) = zed.errors()  # before the relay arrives, b still knows zed as a member
    assert err[1] == ErrorCode.FORBIDDEN
    assert ship(a, b, 0) == 1
    zed.send([MsgType.MODERATE, "mute", guest.id, {}])
    assert zed.errors() == []
    assert notices(guest, NoticeKind.MODERATION) == ["a moderator muted you here (chat and voice)"]
    a.hub.link.hosting.roles.revoke("test", olivia, "zed", NOW_S)
    a.hub.link.hosting_changed("test", "roles")
    ship(a, b, 0)
    zed.send([MsgType.MODERATE, "unmute", guest.id, {}])
    assert zed.errors()[0][1] == ErrorCode.FORBIDDEN  # a revoked moderator loses the power everywhere


def test_the_hosts_controls_reach_the_audience_on_the_other_worker(workers: tuple[Wire, Wire]) -> None:
    a, b = workers
    assert b.hub.link is not None
    dj = person(a, "djsol", account(a, "djsol"))
    fan = person(b, "Fan")
    dj.send([MsgType.HOST, SHOW.key, "start", {}])
    dj.send([MsgType.HOST, SHOW.key, "pin", {"text": "Requests in chat!"}], 10)
    dj.send([MsgType.HOST, SHOW.key, "mute_chat", {"muted": True}], 20)
    assert dj.errors() == []
    ship(a, b, 30)
    assert notices(fan, NoticeKind.EVENT) == ["Open mic is live"]
    b.hub.link.duties(40)  # b's own once-a-tick duties apply the reloaded state
    assert notices(fan, NoticeKind.PINNED) == ["Requests in chat!"]
    fan.send([MsgType.CHAT, "woo"], 50)
    assert fan.errors()[0][1] == ErrorCode.FORBIDDEN  # the host muted the audience's chat
    dj.send([MsgType.HOST, SHOW.key, "end", {}], 60)
    ship(a, b, 70)
    assert notices(fan, NoticeKind.EVENT) == ["Open mic has ended"]
    b.hub.link.duties(80)
    fan.send([MsgType.CHAT, "encore!"], 90)
    assert fan.errors() == []  # the end opened chat again


def test_a_starting_notice_reaches_the_person_once_wherever_they_are(workers: tuple[Wire, Wire]) -> None:
    a, b = workers
    assert a.hub.link is not None and b.hub.link is not None
    ada = person(b, "ada", account(b, "ada"))
    ada.send([MsgType.RSVP, LATER.key, True])
    assert notices(ada, NoticeKind.EVENT) == ["RSVP saved"]
    ship(b, a, 0)  # a now knows of the RSVP too
    assert a.hub.link.hosting.events.has_rsvp(LATER.key, "a:ada")
    # 40 s later the show is live. Worker a runs its duties first: ada is not there, so it
    # publishes the notice; b delivers it, and b's own duties then do not repeat it.
    a.hub.link.duties(40_000)
    ship(a, b, 40_000)
    b.hub.link.duties(40_050)
    ship(b, a, 40_050)
    assert notices(ada, NoticeKind.EVENT) == ["Late show is starting — join now"]


def test_a_spotlit_performer_stands_in_the_other_workers_instances(workers: tuple[Wire, Wire]) -> None:
    a, b = workers
    assert a.hub.link is not None and b.hub.link is not None
    dj = person(a, "djsol", account(a, "djsol"))
    fan = person(b, "Fan")
    dj.send([MsgType.HOST, SHOW.key, "spotlight", {"ids": ["me"]}])
    dj.send([MsgType.POSE, 7, [0.5, 1.6, -2.0, 0, 0, 0, 1], [0.2, 1.2, -2.0, 0, 0, 0, 1], [0.8, 1.2, -2.0, 0, 0, 0, 1]])
    ship(a, b, 0)
    for w, now in ((a, 50), (b, 50)):
        assert w.hub.link is not None
        w.hub.link.duties(now)
        w.hub.tick("test", now)
    ship(a, b, 60)  # the stage pose a published on its tick
    b.hub.tick("test", 100)
    inst = b.hub.sessions[fan.sid].instance
    assert inst is not None
    eid = inst.mirror_eid("a:djsol")
    enters = [e for m in fan.take(MsgType.STATE) for e in m[3] if e[0] == eid]
    assert enters and enters[0][2]["name"] == "djsol" and enters[0][2]["mirror"] is True
    # Once a stops publishing (the performer left or a died), the stand-in goes within a second.
    b.hub.tick("test", 1200)
    assert inst.mirror_eid("a:djsol") == 0


def test_during_a_live_event_chat_reaches_every_instance_on_every_worker(workers: tuple[Wire, Wire]) -> None:
    a, b = workers
    dj = person(a, "djsol", account(a, "djsol"))
    fan = person(b, "Fan")
    fan.send([MsgType.CHAT, "woo!"], 100)
    assert [m[2:4] for m in fan.take(MsgType.CHAT_MSG)] == [["Fan", "woo!"]]  # as always, in the room
    ship(b, a, 110)
    (line,) = dj.take(MsgType.CHAT_MSG)
    assert line[1:4] == [0, "Fan", "woo!"]  # entity 0: said in another room of the event
    # Once the show is over (it ends an hour in), chat stays in its instance again.
    late = 3_700_000
    fan.send([MsgType.CHAT, "anyone here?"], late)
    assert ship(b, a, late) == 0 and dj.take(MsgType.CHAT_MSG) == []


def test_on_one_worker_a_live_events_chat_crosses_its_overflow_instances(tmp_path: Path) -> None:
    w = _worker(tmp_path / "plaza.sqlite3")
    w.hub.worlds["test"] = plain_world(capacity=1)  # one person per instance
    w.hub.elsewhere = None  # one process alone
    ada, bo = person(w, "Ada"), person(w, "Bo")
    assert ada.welcome["instance"] != bo.welcome["instance"]
    ada.send([MsgType.CHAT, "hi from room one"], 100)
    assert [m[1:4] for m in bo.take(MsgType.CHAT_MSG)] == [[0, "Ada", "hi from room one"]]
    assert w.relays == []  # ... and nothing for other workers: there are none
    assert w.hub.link is not None
    w.hub.link.hosting.close()


@pytest.mark.parametrize(
    ("channel", "msg"),
    [
        ("stage", {"world": "test", "performers": {"a:x": [[float("nan")] * 21, 1, {}]}}),  # NaN pose
        ("stage", {"world": "test", "performers": {"a:x": [[0.0] * 5, 1, {}]}}),  # short pose
        ("stage", {"world": 7, "performers": []}),
        ("chat", {"world": "test", "instance": "test#1", "user": "a:x", "name": 3, "text": "hi"}),
        ("chat", {"world": "nowhere", "instance": "x#1", "user": "a:x", "name": "X", "text": "hi"}),
        ("chat", {"world": "test", "instance": "test#1", "user": "a:x", "name": "X", "text": ""}),
        ("moderation", {"action": "events", "world": ["test"]}),
        ("moderation", {"action": "starting", "world": "test", "user": "a:x", "event": "no/such"}),
    ],
)
def test_a_malformed_message_from_another_worker_changes_nothing(
    workers: tuple[Wire, Wire], channel: str, msg: dict
) -> None:
    a, _ = workers
    fan = person(a, "Fan")
    a.hub.apply_remote(channel, msg, 100)
    a.hub.tick("test", 150)
    assert fan.take(MsgType.CHAT_MSG) == [] and fan.take(MsgType.NOTICE) == []
    inst = a.hub.sessions[fan.sid].instance
    assert inst is not None and inst.mirror_eid("a:x") == 0
    assert a.hub.remote_stage.performers("test", 150) == {}  # no stand-in copy kept either
    fan.send([MsgType.CHAT, "still here"], 200)  # and it keeps serving
    assert [m[3] for m in fan.take(MsgType.CHAT_MSG)] == ["still here"]
