"""When a worker's instances go into the directory, and which other entries it trusts (no
Redis needed: the rule is pure, the probe uses sockets on loopback)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from server.cluster.link import advertise, alive, listening
from server.cluster.presence import InstanceInfo


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
