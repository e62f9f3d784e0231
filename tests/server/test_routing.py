"""Routing in a cluster: the instance policy sees every worker's instances, and a person whose
instance is on another worker gets MOVED (its own address) and close 4012, never a second hop."""

from __future__ import annotations

import pytest

from server.cluster.routing import MERGE_WINDOW_MS, Remote, merge_into, moved_url, route
from server.errors import CloseConnection
from server.hub import Hub
from server.instancing import Slot, WorldFull
from server.protocol import CloseCode, ErrorCode, MsgType
from tests.server.hubwire import Client, Wire
from tests.server.worlds import plain_world


def test_fill_first_fills_the_oldest_instance_wherever_it_is() -> None:
    there = Remote("lobby#1", 3, 8, ":9001")
    assert route([], [there], None, "fill-first", 10, "lobby") == there
    # In number order, as on one worker: this worker's lobby#1 before lobby#1001 elsewhere.
    assert route([Slot("lobby#1", 0, 8)], [Remote("lobby#1001", 5, 8, ":9002")], None, "fill-first", 10, "x") is None


def test_a_full_remote_instance_means_a_new_one_here_and_the_cluster_wide_bound_holds() -> None:
    full = Remote("lobby#1", 8, 8, ":9001")
    assert route([], [full], None, "fill-first", 10, "lobby") is None  # opened on this worker
    with pytest.raises(WorldFull):
        route([], [full], None, "fill-first", 1, "lobby")


def test_a_wanted_instance_on_another_worker_is_followed_and_balanced_picks_the_emptiest() -> None:
    a, b = Remote("club#1", 5, 8, "a.example:9001"), Remote("club#1001", 1, 8, ":9002")
    assert route([], [a, b], "club#1", "balanced", 10, "club") == a
    assert route([Slot("club#2001", 4, 8)], [a, b], None, "balanced", 10, "club") == b


def test_moved_urls_keep_the_clients_scheme_and_host_unless_the_node_names_one() -> None:
    assert moved_url(":9002", "wss", "plaza.example") == "wss://plaza.example:9002/ws?moved=1"
    assert moved_url("node-b.example:9101", "ws", "plaza.example") == "ws://node-b.example:9101/ws?moved=1"
    assert moved_url(":9002", "ws", "::1") == "ws://[::1]:9002/ws?moved=1"


def _hub(remote: list[Remote]) -> Wire:
    hub = Hub({"test": plain_world(), "other": plain_world("other")})
    hub.elsewhere = lambda world: [r for r in remote if r.key.startswith(world + "#")]
    return Wire(hub)


def test_hello_for_an_instance_on_another_worker_gets_moved_with_its_url_then_4012() -> None:
    wire = _hub([Remote("test#1", 2, 8, ":9002")])
    c = Client(wire)
    wire.hub.sessions[c.sid].via = ("ws", "plaza.local")
    with pytest.raises(CloseConnection) as e:
        c.send([MsgType.HELLO, {"v": 1, "name": "Ada", "world": "test"}])
    assert e.value.code == CloseCode.MOVED
    (moved,) = c.take(MsgType.MOVED)
    assert moved[1] == {"url": "ws://plaza.local:9002/ws?moved=1", "world": "test", "instance": "test#1"}
    assert c.take(MsgType.WELCOME) == []


def test_a_moved_connection_is_placed_here_in_the_instance_it_names_and_at_its_spawn() -> None:
    wire = _hub([Remote("test#1", 2, 8, ":9002")])
    c = Client(wire)
    wire.hub.sessions[c.sid].moved = True  # opened at ?moved=1
    c.send([MsgType.HELLO, {"v": 1, "name": "Ada", "world": "test", "instance": "test#1", "spawn": "far"}])
    (w,) = c.take(MsgType.WELCOME)
    assert w[1]["spawn"][:3] == [40.0, 0.0, 40.0]


def test_travel_to_a_world_hosted_elsewhere_moves_with_the_arrival_spawn() -> None:
    wire = _hub([Remote("other#1001", 1, 8, ":9003")])
    c = Client(wire).hello("Ada")
    with pytest.raises(CloseConnection) as e:
        c.send([MsgType.TRAVEL, "other", "far"])
    assert e.value.code == CloseCode.MOVED
    (moved,) = c.take(MsgType.MOVED)
    assert moved[1]["instance"] == "other#1001" and moved[1]["spawn"] == "far"


def test_an_unknown_spawn_is_refused_before_the_traveller_leaves() -> None:
    wire = Wire(Hub({"test": plain_world(), "other": plain_world("other")}))
    c = Client(wire).hello("Ada")
    c.send([MsgType.TRAVEL, "other", "roof"])
    (err,) = c.errors()
    assert err[1] == ErrorCode.BAD_FIELD and "no spawn 'roof'" in err[2] and "main, far" in err[2]
    inst = wire.hub.sessions[c.sid].instance
    assert inst is not None and inst.spec.id == "test"  # still where they stood


def test_a_young_instance_merges_only_into_an_earlier_one_that_fits_and_only_when_fill_first() -> None:
    young = Slot("hall#1001", 3, 8)
    earlier, later = Remote("hall#1", 4, 8, ":9001"), Remote("hall#2001", 0, 8, ":9003")
    assert merge_into(young, 0, [later, earlier], "fill-first", 100) == earlier
    assert merge_into(young, 0, [later], "fill-first", 100) is None  # never towards a higher number
    assert merge_into(young, 0, [Remote("hall#1", 6, 8, ":9001")], "fill-first", 100) is None  # 6 + 3 > 8
    assert merge_into(young, 0, [earlier], "balanced", 100) is None  # spreading people is that policy's point
    assert merge_into(young, 0, [earlier], "fill-first", MERGE_WINDOW_MS + 1) is None  # settled in: they stay


def _moved_and_closed(wire: Wire, c: Client) -> str:
    (moved,) = c.take(MsgType.MOVED)
    assert wire.closed[c.sid] == CloseCode.MOVED
    return str(moved[1]["instance"])


def test_the_people_of_an_instance_opened_in_a_race_are_moved_into_the_earlier_one() -> None:
    remote: list[Remote] = []
    wire = _hub(remote)
    wire.hub.index_base = 1000  # this is the second worker: its instances are test#1001, ...
    ada, bo = Client(wire).hello("Ada"), Client(wire).hello("Bo", now=20)
    assert ada.welcome["instance"] == bo.welcome["instance"] == "test#1001"
    assert wire.hub.consolidate(40) == 0  # nothing earlier elsewhere: they stay
    remote.append(Remote("test#1", 3, 8, ":9001"))  # news: the first worker opened test#1 too
    assert wire.hub.consolidate(60) == 2
    assert _moved_and_closed(wire, ada) == _moved_and_closed(wire, bo) == "test#1"
    assert wire.hub.instances["test"] == []  # the empty second instance closed


def test_an_instance_that_has_been_open_for_seconds_is_left_alone() -> None:
    wire = _hub([Remote("test#1", 3, 8, ":9001")])
    wire.hub.index_base = 1000
    wire.hub.elsewhere = lambda world: []  # at join, test#1 was not known yet
    cy = Client(wire).hello("Cy")
    wire.hub.elsewhere = lambda world: [Remote("test#1", 3, 8, ":9001")]
    assert wire.hub.consolidate(MERGE_WINDOW_MS + 1) == 0
    assert cy.take(MsgType.MOVED) == [] and cy.sid not in wire.closed
