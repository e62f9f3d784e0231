"""When a worker's instances go into the directory, and which other entries it trusts (no
Redis needed: the rule is pure, the probe uses sockets on loopback)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from server.cluster.link import NEWS_S, Cluster, advertise, alive, listening
from server.cluster.presence import InstanceInfo, LocalPresence


def test_a_worker_is_advertised_only_while_its_socket_listens_and_not_once_stopping() -> None:
    assert advertise(":8080", is_listening=True, stopping=False)
    assert not advertise(":8080", is_listening=False, stopping=False)  # bound, site not started yet
    assert not advertise(":8080", is_listening=True, stopping=True)  # shutdown has started
    assert advertise("", is_listening=False, stopping=False)  # no address: occupancy only, never MOVED to
    assert not advertise("", is_listening=False, stopping=True)


@pytest.fixture
def bound() -> Iterator[socket.socket]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    yield s
    s.close()


def test_listening_is_the_sockets_own_state(bound: socket.socket) -> None:
    assert not listening(None)
    assert not listening(bound)  # bound only: a connect would be refused
    bound.listen()
    assert listening(bound)
    bound.close()
    assert not listening(bound)


async def test_dead_local_peers_are_dropped_and_other_machines_kept(bound: socket.socket) -> None:
    live = socket.socket()
    live.bind(("127.0.0.1", 0))
    live.listen()
    dead_port = bound.getsockname()[1]  # bound, not listening: refuses like a dead worker's port
    here, live_port = socket.gethostname(), live.getsockname()[1]
    infos = [
        InstanceInfo("club#1", "club", f"{here}:101", 1, 2, f":{live_port}"),
        InstanceInfo("club#2", "club", f"{here}/w1", 1, 2, f":{dead_port}"),
        InstanceInfo("club#3", "club", "elsewhere.example:7", 1, 2, f"elsewhere.example:{dead_port}"),
        InstanceInfo("club#4", "club", f"{here}:102", 1, 2, ""),  # no address: nobody is MOVED there
    ]
    try:
        kept = await alive(infos, "127.0.0.1")
    finally:
        live.close()
    assert [i.key for i in kept] == ["club#1", "club#3", "club#4"]


def _info(key: str, node: str, occupancy: int, world: str = "concert-hall") -> InstanceInfo:
    return InstanceInfo(key, world, node, occupancy, 50, ":9001" if node == "them" else ":9000")


def test_instance_news_stands_in_for_the_directory_until_it_catches_up() -> None:
    c = Cluster(LocalPresence("me"))
    c.remote = [_info("lobby#1", "them", 3, "lobby")]  # the directory as last read
    assert [i.key for i in c.others(0.0)] == ["lobby#1"]
    # The other worker opened concert-hall#1001 and filled lobby#1 since: heard at once.
    c.heard([_info("concert-hall#1001", "them", 1), _info("lobby#1", "them", 9, "lobby")], now=10.0)
    c.heard([_info("concert-hall#1", "me", 4)], now=10.0)  # our own echo is not news
    assert {i.key: i.occupancy for i in c.others(10.5)} == {"lobby#1": 9, "concert-hall#1001": 1}
    # After NEWS_S the directory alone counts again (by then it holds the owner's own entry).
    assert {i.key: i.occupancy for i in c.others(10.0 + NEWS_S)} == {"lobby#1": 3}


def test_a_worker_announces_instances_that_opened_or_changed_occupancy() -> None:
    c = Cluster(LocalPresence("me"))
    first = [_info("concert-hall#1", "me", 1)]
    assert c.changed(first) == first  # opened
    assert c.changed(first) == []  # nothing new
    grown = [_info("concert-hall#1", "me", 2), _info("lobby#1", "me", 1, "lobby")]
    assert c.changed(grown) == grown
    assert c.changed(grown[1:]) == []  # one closed: the directory refresh drops it
    assert c.changed(grown) == grown[:1]  # it reopened


def test_socket_counts_go_out_whole_every_refresh_and_as_changes_between() -> None:
    a, b = Cluster(LocalPresence("a")), Cluster(LocalPresence("b"))
    ip = "203.0.113.7"
    assert a.sockets_to_tell({ip: 1}, 0.0) == (True, {ip: 1})  # the first word is whole
    assert a.sockets_to_tell({ip: 1}, 0.05) is None  # nothing changed
    assert a.sockets_to_tell({ip: 2, "198.51.100.1": 1}, 0.1) == (False, {ip: 2, "198.51.100.1": 1})
    assert a.sockets_to_tell({"198.51.100.1": 1}, 0.15) == (False, {ip: 0})  # all of ip's closed
    b.heard_sockets("a", True, {ip: 1}, 0.0)
    b.heard_sockets("a", False, {ip: 2, "198.51.100.1": 1}, 0.1)
    assert b.sockets_elsewhere(ip, 0.2) == 2
    b.heard_sockets("a", False, {ip: 0}, 0.15)
    assert b.sockets_elsewhere(ip, 0.2) == 0 and b.sockets_elsewhere("198.51.100.1", 0.2) == 1
    # A worker that stops talking (killed) no longer counts after NEWS_S.
    assert b.sockets_elsewhere("198.51.100.1", 0.15 + NEWS_S) == 0
    assert a.sockets_to_tell({"198.51.100.1": 1}, 2.5)[0] is True  # the periodic whole list
