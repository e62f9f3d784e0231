"""The ``Presence`` contract (server/cluster/presence.py): two nodes, in process and on a real Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import pytest

from server.cluster.presence import Handler, InstanceInfo, LocalBroker, LocalPresence, Presence, RedisPresence
from tests.services import RedisServer, redis_missing


class Nodes(Protocol):
    def __call__(self, name: str, on_moderation: Handler | None = None) -> Awaitable[Presence]: ...


@pytest.fixture(params=["local", "redis"])
async def nodes(request: pytest.FixtureRequest) -> AsyncIterator[Nodes]:
    """Makes nodes (started presences) that share one broker / one Redis."""
    made: list[Presence] = []
    broker = LocalBroker()
    if request.param == "redis":
        srv: RedisServer = request.getfixturevalue("redis_server")
        import redis

        r = redis.Redis(unix_socket_path=str(srv.sock))
        r.flushall()
        r.close()

    async def make(name: str, on_moderation: Handler | None = None) -> Presence:
        p: Presence = LocalPresence(name, broker) if request.param == "local" else RedisPresence(srv.url, name)
        if on_moderation is not None:  # channels are subscribed before start()
            p.subscribe("moderation", on_moderation)
        made.append(p)
        await p.start()
        return p

    yield make
    for p in made:
        await p.close()


def info(key: str, node: str, occupancy: int = 1) -> InstanceInfo:
    return InstanceInfo(key, key.split("#")[0], node, occupancy, 40, f"10.0.0.1:{8000 + len(node)}")


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_directory_lists_every_nodes_instances_until_they_expire(nodes: Nodes) -> None:
    a, b = await nodes("a"), await nodes("b")
    await a.put_instances([info("hall#1", "a", 30), info("plaza#1", "a")], ttl_s=30)
    await b.put_instances([info("hall#2", "b", 5)], ttl_s=0.3)
    assert [i.key for i in await b.instances("hall")] == ["hall#1", "hall#2"]
    assert {i.key: i.occupancy for i in await a.instances()} == {"hall#1": 30, "hall#2": 5, "plaza#1": 1}
    assert (await a.instances("hall"))[0] == info("hall#1", "a", 30)  # every field round-trips
    await a.put_instances([info("hall#1", "a", 31)], ttl_s=30)  # a refresh replaces the entry
    assert next(i.occupancy for i in await b.instances("hall")) == 31
    await eventually(lambda: _keys(a, "hall", ["hall#1"]))  # b stopped refreshing: hall#2 is gone
    await b.put_instances([info("plaza#1", "b", 7)], ttl_s=30)  # the same name on another worker: its own entry
    assert [(i.node, i.occupancy) for i in await a.instances("plaza")] == [("a", 1), ("b", 7)]
    await a.drop_instance("plaza", "plaza#1")  # a drops its own, not b's
    assert [i.node for i in await a.instances("plaza")] == ["b"]
    await b.drop_instance("plaza", "plaza#1")
    assert await b.instances("plaza") == [] and await b.instances("nowhere") == []


async def _keys(p: Presence, world: str, want: list[str]) -> bool:
    return [i.key for i in await p.instances(world)] == want


async def test_messages_reach_other_nodes_not_the_sender(nodes: Nodes) -> None:
    got: dict[str, list[dict[str, Any]]] = {"a": [], "b": [], "c": []}
    a = await nodes("a", got["a"].append)
    b = await nodes("b", got["b"].append)
    await nodes("c", got["c"].append)
    await a.publish("moderation", {"kind": "expel", "world": "hall", "user": "g:x", "n": [1, 2]})
    await b.publish("other", {"ignored": True})
    await eventually(lambda: _ready(len(got["b"]) == len(got["c"]) == 1))
    assert got["b"] == got["c"] == [{"kind": "expel", "world": "hall", "user": "g:x", "n": [1, 2]}]
    assert got["a"] == []


async def _ready(done: bool) -> bool:
    return done


async def test_rate_limits_hold_across_nodes(nodes: Nodes) -> None:
    a, b = await nodes("a"), await nodes("b")
    assert [await a.hit("signin:1.2.3.4", 3, 60) for _ in range(2)] == [True, True]
    assert await b.hit("signin:1.2.3.4", 3, 60)
    assert not await a.hit("signin:1.2.3.4", 3, 60) and not await b.hit("signin:1.2.3.4", 3, 60)
    assert await b.hit("signin:5.6.7.8", 3, 60)  # per key
    assert await a.count("signin:1.2.3.4", 60) == 5 and await b.count("signin:5.6.7.8", 60) == 1
    assert await a.count("never", 60) == 0


async def test_rate_limit_windows_slide_rather_than_reset_on_a_boundary(nodes: Nodes) -> None:
    a, b = await nodes("a"), await nodes("b")
    assert await a.hit("slide", 2, 1.0)
    await asyncio.sleep(0.6)
    assert await b.hit("slide", 2, 1.0)
    assert not await a.hit("slide", 2, 1.0)  # two within the last second, whatever the clock says
    await asyncio.sleep(0.6)  # the first hit is now older than the window; the other two are not
    assert await a.count("slide", 1.0) == 2


async def test_one_leader_at_a_time_and_a_new_one_when_it_goes(nodes: Nodes) -> None:
    a, b = await nodes("a"), await nodes("b")
    assert await a.lead("duties", ttl_s=0.5) and not await b.lead("duties", ttl_s=0.5)
    assert await a.lead("duties", ttl_s=0.5)  # renewed by its holder
    assert await b.lead("other", ttl_s=5)  # per role
    await eventually(lambda: b.lead("duties", ttl_s=5))  # a stopped renewing: its lease ran out
    assert not await a.lead("duties", ttl_s=5)
    await b.resign("duties")
    assert await a.lead("duties", ttl_s=5)


async def test_losing_redis_degrades_with_a_log_line_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    if (why := redis_missing()) is not None:
        pytest.skip(why)
    srv = RedisServer().start()
    got: list[dict[str, Any]] = []
    a, b = RedisPresence(srv.url, "a", retry_s=0.1), RedisPresence(srv.url, "b", retry_s=0.1)
    b.subscribe("moderation", got.append)
    try:
        await a.start()
        await b.start()
        assert await a.lead("duties", 30) and await b.hit("k", 1, 60)
        srv.kill()
        with caplog.at_level(logging.WARNING, logger="plaza.cluster"):
            await a.publish("moderation", {"n": 1})  # dropped, never raised
            assert await a.instances("hall") == []
            assert await a.lead("duties", 30)  # the leader stays leader while Redis is away
            assert not await b.lead("duties", 30)  # ... and no second one appears
            assert await b.hit("k2", 1, 60) and not await b.hit("k2", 1, 60)  # local counters
            assert not a.available
        assert any("cross-worker features off" in r.getMessage() for r in caplog.records)
        srv.start()  # same socket path: the same URL
        with caplog.at_level(logging.WARNING, logger="plaza.cluster"):
            await eventually(lambda: _published(a, b, got), timeout=10)
        assert a.available and b.available
        assert any("is back" in r.getMessage() for r in caplog.records)
    finally:
        await a.close()
        await b.close()
        srv.stop()


async def _published(a: RedisPresence, b: RedisPresence, got: list[dict[str, Any]]) -> bool:
    await a.publish("moderation", {"n": 2})
    await asyncio.sleep(0.05)
    return {"n": 2} in got
