"""Hosting on a real server: accounts, no impersonation, moderation that takes effect at once and
survives a restart, host controls, and a spotlit stage shared with an overflow instance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import msgpack
import pytest

from server.protocol import CloseCode, ErrorCode, MsgType, NoticeKind
from tests.serverproc import ServerProcess
from tests.worldfiles import LOBBY, club_world, world_dir
from tests.wsclient import account, join


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[ServerProcess]:
    worlds = world_dir(tmp_path, {"lobby": LOBBY, "club": club_world(datetime.now(UTC) - timedelta(minutes=10))})
    s = ServerProcess.in_dir(tmp_path, worlds, extra_args=("--chat-words", "heck"))
    yield s
    s.stop()


async def closed_with(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    while (await ws.receive(timeout=5)).type == aiohttp.WSMsgType.BINARY:
        pass
    return ws.close_code


async def hello_close_code(http: aiohttp.ClientSession, srv: ServerProcess, hello: dict) -> int | None:
    ws = await http.ws_connect(srv.ws_url)
    await ws.send_bytes(msgpack.packb([MsgType.HELLO, {"v": 1, **hello}]))
    return await closed_with(ws)


async def test_accounts_sign_in_with_rate_limit_and_names_cannot_be_taken(
    srv: ServerProcess, http: aiohttp.ClientSession
) -> None:
    await account(http, srv, "ada")
    async with http.post(srv.url + "/api/accounts", json={"user": "Ada", "password": "another one"}) as r:
        assert r.status == 409 and (await r.json())["error"] == "user_name_taken"
    async with http.post(srv.url + "/api/signin", json={"user": "ada", "password": "correct horse"}) as r:
        assert r.status == 200 and (await r.json())["token"].startswith("p1.")
    statuses = []
    for _ in range(6):
        async with http.post(srv.url + "/api/signin", json={"user": "ada", "password": "wrong"}) as r:
            statuses.append(r.status)
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    # A guest may not use an account's name, nor a name the world file gives a role to.
    assert await hello_close_code(http, srv, {"name": "ADA", "world": "lobby"}) == CloseCode.UNAUTHORIZED
    assert await hello_close_code(http, srv, {"name": "kofi", "world": "lobby"}) == CloseCode.UNAUTHORIZED
    assert await hello_close_code(http, srv, {"name": "x", "world": "lobby", "token": "p1.forged.mac"}) == (
        CloseCode.UNAUTHORIZED
    )
    async with http.get(srv.url + "/api/permissions") as r:
        table = await r.json()
    assert "kick" in str(table)


async def test_kick_and_ban_take_effect_at_once_and_bans_survive_a_restart(
    srv: ServerProcess, http: aiohttp.ClientSession
) -> None:
    mira = await join(http, srv, "mira", "club", await account(http, srv, "mira"))
    assert mira.welcome["role"] == "moderator" and "kick" in mira.welcome["permissions"]
    guest = await join(http, srv, "Troll", "club")
    guest_token = guest.welcome["token"]
    assert guest.welcome["role"] in ("guest", "member") and "kick" not in guest.welcome["permissions"]
    # A guest cannot moderate.
    await guest.send([MsgType.MODERATE, "kick", mira.id, {}])
    err = await guest.until(lambda m: m[0] == MsgType.ERROR)
    assert err[1] == ErrorCode.FORBIDDEN
    # Kick: gone now, and cannot come back until allowed.
    await mira.send([MsgType.MODERATE, "kick", guest.id, {"reason": "spam"}])
    assert await closed_with(guest.ws) == CloseCode.KICKED
    assert await hello_close_code(http, srv, {"name": "Troll", "world": "club", "token": guest_token}) == (
        CloseCode.REFUSED
    )
    await mira.send([MsgType.MODERATE, "allow", 0, {"user": guest.welcome["user"]}])
    await mira.until(lambda m: m[0] == MsgType.NOTICE and "allow" in m[2])
    guest = await join(http, srv, "Troll", "club", guest_token)
    # Ban, then restart the server: still banned.
    await mira.send([MsgType.MODERATE, "ban", guest.id, {"reason": "again"}])
    assert await closed_with(guest.ws) == CloseCode.REFUSED
    await mira.ws.close()
    srv.stop()
    srv.start()
    assert await hello_close_code(http, srv, {"name": "Troll", "world": "club", "token": guest_token}) == (
        CloseCode.REFUSED
    )
    async with http.post(srv.url + "/api/signin", json={"user": "mira", "password": "correct horse"}) as r:
        mira_token = (await r.json())["token"]
    async with http.get(srv.url + "/api/worlds/club/audit", headers={"Authorization": f"Bearer {mira_token}"}) as r:
        actions = [row["action"] for row in await r.json()]
    assert {"kick", "allow_rejoin", "ban"} <= set(actions)


async def test_chat_filter_and_chat_rate_limit(srv: ServerProcess, http: aiohttp.ClientSession) -> None:
    a = await join(http, srv, "Ada", "lobby")
    await a.send([MsgType.CHAT, "what the heck"])
    msg = await a.until(lambda m: m[0] == MsgType.CHAT_MSG)
    assert "heck" not in msg[3] and "***" in msg[3]
    for i in range(6):
        await a.send([MsgType.CHAT, f"line {i}"])
    err = await a.until(lambda m: m[0] == MsgType.ERROR)
    assert err[1] == ErrorCode.RATE_LIMITED


async def test_spotlight_reaches_far_listeners_and_overflow_instances(
    srv: ServerProcess, http: aiohttp.ClientSession
) -> None:
    dj = await join(http, srv, "djsol", "club", await account(http, srv, "djsol"))
    far = await join(http, srv, "Far", "club")
    other = await join(http, srv, "Other", "club")  # capacity 2: a second instance opens
    assert dj.welcome["instance"] == far.welcome["instance"] != other.welcome["instance"]
    event = next(e for e in dj.welcome["events"] if e["title"] == "Late set")
    await far.send([MsgType.TELEPORT, [80, 0, 80]])  # far outside the interest radius
    await far.until(lambda m: m[0] == MsgType.TELEPORTED)
    await far.pose((80.0, 1.6, 80.0))
    await dj.send([MsgType.TELEPORT, [0, 0, -20]])
    await dj.until(lambda m: m[0] == MsgType.TELEPORTED)
    await dj.pose((0.0, 1.6, -20.0), ts=77)
    if dj.id in far.mirror.entities:  # seen at the spawn: wait until it leaves far's view
        await far.until(lambda m: m[0] == MsgType.STATE and dj.id not in far.mirror.entities)
    await dj.send([MsgType.HOST, event["key"], "start", {}])
    await dj.send([MsgType.HOST, event["key"], "spotlight", {"ids": ["me", "speaker"]}])
    await dj.send([MsgType.HOST, event["key"], "pin", {"text": "Requests in chat!"}])
    # Same instance, 100 m away: the performer is visible anyway.
    await far.until(lambda m: m[0] == MsgType.STATE and dj.id in far.mirror.entities, timeout=5)
    assert far.mirror.entities[dj.id].position == pytest.approx((0.0, 1.6, -20.0), abs=1e-3)
    # The overflow instance gets a read-only stand-in that follows the performer.
    await dj.pose((0.5, 1.6, -20.0), ts=78)

    def mirrored() -> bool:
        return any(e.info.get("mirror") and e.info.get("name") == "djsol" for e in other.mirror.entities.values())

    await other.until(lambda m: m[0] == MsgType.STATE and mirrored(), timeout=5)
    stand_in = next(e for e in other.mirror.entities.values() if e.info.get("mirror"))
    await other.until(lambda m: m[0] == MsgType.STATE and abs(stand_in.position[0] - 0.5) < 1e-3, timeout=5)
    speaker = other.welcome["objects"]["speaker"]
    await other.send([MsgType.GRAB, speaker])
    assert (await other.until(lambda m: m[0] == MsgType.GRAB_RESULT))[2:] == [False, ErrorCode.FORBIDDEN]
    pins = [m for m in other.inbox if m[0] == MsgType.NOTICE and m[1] == NoticeKind.PINNED]
    pin = pins[0] if pins else await other.until(lambda m: m[0] == MsgType.NOTICE and m[1] == NoticeKind.PINNED)
    assert pin[2] == "Requests in chat!"
    # Gather brings everyone to the stage.
    await dj.send([MsgType.HOST, event["key"], "gather", {}])
    tp = await far.until(lambda m: m[0] == MsgType.TELEPORTED, timeout=5)
    assert abs(tp[1][0]) < 4 and abs(tp[1][2] + 20) < 4
