"""Bounds on one person: reports, RSVPs to capped events, instances per world, likes and tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from msgpack import unpackb

from server.catalog import spec_from_config
from server.codec import packb
from server.errors import ProtocolError
from server.hosting import Hosting, Principal
from server.hosting.errors import AccountRequired, ReportRateLimited
from server.hub import Hub
from server.instancing import Slot, WorldFull, choose
from server.protocol import ErrorCode, MsgType
from server.storage import MAX_LIKES_PER_USER, InvalidSignal, SQLiteStorage
from server.worldconfig import WorldConfig
from tests.corewire import frames
from tests.hosting.conftest import GUEST, MEMBER, MEMBER2, NOW
from tests.hosting.shows import show


# ----- reports: 5 a minute, 30 a day per reporter ------------------------------------------------
def test_reports_are_rate_limited_per_reporter(hosting: Hosting) -> None:
    m = hosting.moderation
    for i in range(5):
        m.report("plaza", GUEST, MEMBER, f"spam {i}", NOW + i)
    with pytest.raises(ReportRateLimited) as e:
        m.report("plaza", GUEST, MEMBER2, "more", NOW + 10)
    assert e.value.code == "report_rate_limited" and 50 <= e.value.retry_after_s <= 60
    m.report("plaza", MEMBER2, MEMBER, "someone else may", NOW + 10)
    t = NOW + 61
    for _ in range(25):  # 30 in the day in all
        m.report("plaza", GUEST, MEMBER, "again", t)
        t += 13  # under 5 a minute
    with pytest.raises(ReportRateLimited):
        m.report("plaza", GUEST, MEMBER, "one too many today", t + 60)
    m.report("plaza", GUEST, MEMBER, "next day", NOW + 86400 + 1)
    assert len(m.reports("plaza", Principal.for_account("olivia"), limit=100)) == 32


# ----- capped events: accounts only ---------------------------------------------------------------
def test_guests_cannot_fill_a_capped_event(hosting: Hosting) -> None:
    hosting.events.set_world_events("plaza", [show(capacity=2)])
    for i in range(3):
        with pytest.raises(AccountRequired, match="sign in"):
            hosting.events.rsvp("plaza/show", Principal.for_guest(f"throwaway-{i}"), NOW)
    assert hosting.events.rsvp_count("plaza/show") == 0
    hosting.events.rsvp("plaza/show", MEMBER, NOW)
    hosting.events.set_world_events("plaza", [show(capacity=None)])
    hosting.events.rsvp("plaza/show", GUEST, NOW)  # uncapped: guests welcome


# ----- [instances] policy and max_instances ---------------------------------------------------------
def slots(*pops: int, cap: int = 2) -> list[Slot]:
    return [Slot(f"w#{i + 1}", p, cap) for i, p in enumerate(pops)]


def test_choose_policies() -> None:
    assert choose([], None, "fill-first", 3) is None
    assert choose(slots(1, 0), None, "fill-first", 3) == 0
    assert choose(slots(1, 0), None, "balanced", 3) == 1
    assert choose(slots(2, 1), "w#1", "fill-first", 3) == 1  # wanted but full
    assert choose(slots(0, 1), "w#2", "fill-first", 3) == 1
    assert choose(slots(2, 2), None, "fill-first", 3) is None  # open a third
    with pytest.raises(WorldFull, match="all 3 instances are full"):
        choose(slots(2, 2, 2), None, "balanced", 3, "w")
    with pytest.raises(WorldFull, match="its one instance is full"):
        choose(slots(2), None, "single", 8, "w")


def test_hub_honours_max_instances(hosting: Hosting) -> None:
    cfg = WorldConfig.model_validate(
        {
            "id": "tiny",
            "name": "Tiny",
            "capacity": 1,
            "instances": {"policy": "fill-first", "max_instances": 2},
            "spawns": [{"name": "default", "position": [0, 0, 0]}],
        }
    )
    hub = Hub({"tiny": spec_from_config(cfg)}, hosting=hosting)
    hosting.load_worlds([cfg], NOW)
    assert hosting.instancing("tiny") == ("fill-first", 2)
    for sid in (1, 2):
        hub.instance_for("tiny", None).join(sid, f"p{sid}", "#fff", 0)
    assert len(hub.instances["tiny"]) == 2
    with pytest.raises(ProtocolError, match="all 2 instances are full"):
        hub.instance_for("tiny", None)


def test_travel_into_a_full_world_is_refused_where_you_stand(hosting: Hosting) -> None:
    def world(wid: str, cap: int) -> WorldConfig:
        return WorldConfig.model_validate(
            {
                "id": wid,
                "name": wid,
                "capacity": cap,
                "instances": {"policy": "single", "max_instances": 1},
                "spawns": [{"name": "default", "position": [0, 0, 0]}],
            }
        )

    cfgs = [world("lobby", 8), world("tiny", 1)]
    hosting.load_worlds(cfgs, NOW)
    hub = Hub({c.id: spec_from_config(c) for c in cfgs}, hosting=hosting, wall=lambda ms: NOW + ms / 1000)
    ids = []
    for name, where in (("ada", "tiny"), ("bo", "lobby")):
        sid = hub.connect(0).sid
        hub.receive(sid, packb([MsgType.HELLO, {"v": 1, "name": name, "world": where}]), 0)
        ids.append(sid)
    hub.receive(ids[1], packb([MsgType.TRAVEL, "tiny"]), 10)
    (err,) = [unpackb(d) for d in frames(hub, ids[1]) if unpackb(d)[0] == MsgType.ERROR]
    assert err[1] == ErrorCode.FORBIDDEN and err[3] == MsgType.TRAVEL
    bo = hub.sessions[ids[1]]
    assert bo.instance is not None and bo.instance.spec.id == "lobby"  # still in the lobby, not stranded


# ----- likes and interest tags ---------------------------------------------------------------------
def test_likes_and_interests_are_bounded(tmp_path: Path) -> None:
    s = SQLiteStorage(tmp_path / "plaza.sqlite3")
    for bad in ("", "x" * 129):
        with pytest.raises(InvalidSignal, match="1–128 characters"):
            s.like("a:bob", bad, NOW)
    s.like("a:bob", "x" * 128, NOW)
    for i in range(MAX_LIKES_PER_USER - 1):
        s.like("a:bob", f"world-{i}", NOW)
    with pytest.raises(InvalidSignal, match="at most 500 likes") as e:
        s.like("a:bob", "one-more", NOW)
    assert isinstance(e.value, ValueError) and e.value.code == "invalid_signal"
    s.like("a:bob", "world-1", NOW + 1)  # liking again what is already liked is fine
    s.like("a:bob", "world-1", NOW + 1, on=False)
    s.like("a:bob", "one-more", NOW + 2)
    with pytest.raises(InvalidSignal):
        s.set_interests("a:bob", [f"t{i}" for i in range(21)])
    with pytest.raises(InvalidSignal):
        s.set_interests("a:bob", ["x" * 33])
    with pytest.raises(InvalidSignal):
        s.set_interests("a:bob", ["a,b"])
    s.set_interests("a:bob", [f"t{i}" for i in range(20)])
    assert len(s.load_signals().interests["a:bob"]) == 20
    s.close()
