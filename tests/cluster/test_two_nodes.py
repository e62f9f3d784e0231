"""Two Plaza nodes on one PostgreSQL and one Redis (both real, on loopback): one database, live
occupancy across nodes, and a ban that takes effect wherever the person is."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import pytest

from server.protocol import CloseCode, MsgType, NoticeKind
from tests.serverproc import ANY_PORT, ServerProcess
from tests.services import PostgresCluster, RedisServer
from tests.worldfiles import LOBBY, club_world, world_dir
from tests.wsclient import account, join


@pytest.fixture
def nodes(tmp_path: Path, pg_cluster: PostgresCluster, redis_server: RedisServer) -> Iterator[list[ServerProcess]]:
    worlds = world_dir(tmp_path, {"lobby": LOBBY, "club": club_world(datetime.now(UTC) - timedelta(minutes=10))})
    # One data dir: the nodes share the token secret (secret.key), as a cluster's nodes must.
    data = tmp_path / "data"
    data.mkdir()
    redis_server.flush()  # no directory entries of an earlier test's nodes
    args = ("--database", pg_cluster.new_database(), "--redis", redis_server.url)
    started = []
    try:
        for _ in range(2):  # one after the other: each names its port in the shared log
            started.append(ServerProcess(ANY_PORT, data, worlds, extra_args=args).start())
        yield started
    finally:
        for s in started:
            s.stop()


async def _occupancy(http: aiohttp.ClientSession, node: ServerProcess, world: str) -> int:
    async with http.get(node.url + "/api/worlds") as r:
        return next(int(w["occupancy"]) for w in await r.json() if w["id"] == world)


async def test_a_cluster_shares_accounts_occupancy_and_bans(
    nodes: list[ServerProcess], http: aiohttp.ClientSession
) -> None:
    a, b = nodes
    token = await account(http, a, "mira")  # registered on a, stored in PostgreSQL
    async with http.post(b.url + "/api/signin", json={"user": "mira", "password": "correct horse"}) as r:
        assert r.status == 200  # ... so b signs her in
    mira = await join(http, a, "mira", "club", token)
    troll = await join(http, a, "Troll", "club")
    troll_token = troll.welcome["token"]
    assert mira.moved is None and troll.moved is None  # nobody else had opened the club

    async def occupancy_is(n: int) -> None:
        while not (await _occupancy(http, a, "club") == n and await _occupancy(http, b, "club") == n):
            await asyncio.sleep(0.1)

    # Once b's directory shows a's club instance full (capacity 2), b keeps the same guest itself
    # (a new instance on b) instead of MOVING them to a: the ban below must cross nodes.
    await asyncio.wait_for(occupancy_is(2), 10)  # the directory refreshes every 2 s
    elsewhere = await join(http, b, "Troll", "club", troll_token)
    assert elsewhere.moved is None, elsewhere.moved
    await asyncio.wait_for(occupancy_is(3), 10)

    await mira.send([MsgType.MODERATE, "ban", troll.id, {"reason": "spam"}])
    for ws in (troll.ws, elsewhere.ws):  # on a directly; on b through the relay (Redis pub/sub)
        while (await ws.receive(timeout=5)).type == aiohttp.WSMsgType.BINARY:
            pass
        assert ws.close_code == CloseCode.REFUSED
    # b applied the relay (it closed elsewhere), so it knows the ban: the guest cannot come back.
    ws = await http.ws_connect(b.ws_url)
    await ws.send_bytes(
        msgpack.packb([MsgType.HELLO, {"v": 1, "name": "Troll", "world": "club", "token": troll_token}])
    )
    while (await ws.receive(timeout=5)).type == aiohttp.WSMsgType.BINARY:
        pass
    assert ws.close_code == CloseCode.REFUSED


async def test_failed_sign_ins_count_on_every_node(nodes: list[ServerProcess], http: aiohttp.ClientSession) -> None:
    a, b = nodes
    await account(http, a, "ada")
    statuses = []
    for node in (a, b, a, b, a, b):  # a sees 3 failures and b 2 of its own: together 5, then refused
        async with http.post(node.url + "/api/signin", json={"user": "ada", "password": "wrong"}) as r:
            statuses.append(r.status)
    assert statuses == [401] * 5 + [429]


async def test_the_show_reaches_the_audience_on_the_other_node(
    nodes: list[ServerProcess], http: aiohttp.ClientSession
) -> None:
    a, b = nodes
    dj = await join(http, a, "djsol", "club", await account(http, a, "djsol"))
    early = await join(http, a, "Early", "club")  # a's club instance is full (capacity 2) ...

    async def full_on_a() -> None:  # ... as b's directory shows within 2 s
        while await _occupancy(http, b, "club") != 2:
            await asyncio.sleep(0.1)

    await asyncio.wait_for(full_on_a(), 10)
    fan = await join(http, b, "Fan", "club")
    assert early.moved is None
    assert fan.moved is None  # so the fan stands in a club instance of b's own
    event = next(e for e in dj.welcome["events"] if e["title"] == "Late set")
    await dj.send([MsgType.TELEPORT, [0, 0, -20]])  # onto the stage
    await dj.until(lambda m: m[0] == MsgType.TELEPORTED)
    await dj.pose((0.5, 1.6, -20.0), ts=5)
    for action, args in (("start", {}), ("spotlight", {"ids": ["me"]}), ("pin", {"text": "Requests in chat!"})):
        await dj.send([MsgType.HOST, event["key"], action, args])
    live = await fan.until(lambda m: m[0] == MsgType.NOTICE and m[1] == NoticeKind.EVENT, timeout=5)
    assert live[2] == "Late set is live"
    await fan.until(lambda m: m[0] == MsgType.NOTICE and m[1] == NoticeKind.PINNED, timeout=5)

    def stand_in() -> Any:
        return next((e for e in fan.mirror.entities.values() if e.info.get("name") == "djsol"), None)

    await fan.until(lambda m: m[0] == MsgType.STATE and stand_in() is not None, timeout=5)
    assert stand_in().info.get("mirror") is True
    await dj.pose((1.0, 1.6, -20.0), ts=6)  # the stand-in on b follows the performer on a
    await fan.until(lambda m: m[0] == MsgType.STATE and abs(stand_in().position[0] - 1.0) < 1e-3, timeout=5)
    await dj.send([MsgType.HOST, event["key"], "end", {}])
    ended = await fan.until(lambda m: m[0] == MsgType.NOTICE and m[1] == NoticeKind.EVENT, timeout=5)
    assert ended[2] == "Late set has ended"
    await fan.until(lambda m: m[0] == MsgType.STATE and stand_in() is None, timeout=5)
