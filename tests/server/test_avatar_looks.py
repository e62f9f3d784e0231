"""HELLO ``avatar``: a look and an accessory from fixed lists, relayed to everyone else wherever
the colour is (STATE enters, WELCOME roster); anything else is refused with BAD_FIELD. Real
server on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgpack

from server.protocol import AVATAR_ACCESSORIES, AVATAR_LOOKS, CloseCode, ErrorCode, MsgType
from tests.serverproc import ServerProcess
from tests.wsclient import Client


async def _hello(
    http: aiohttp.ClientSession, srv: ServerProcess, **extra: Any
) -> tuple[aiohttp.ClientWebSocketResponse, list[Any]]:
    ws = await http.ws_connect(srv.ws_url)
    await ws.send_bytes(
        msgpack.packb([MsgType.HELLO, {"v": [1], "name": extra.pop("name", "Ada"), "world": "lobby", **extra}])
    )
    return ws, msgpack.unpackb((await ws.receive(timeout=5)).data, strict_map_key=False)


async def test_another_client_sees_the_chosen_look_and_accessory_and_old_clients_get_the_default(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    ws, m = await _hello(http, server, name="Ada", color="#ff8800", avatar={"look": "fox", "accessory": "headphones"})
    assert m[0] == MsgType.WELCOME
    a = Client(ws, m[1])
    ws, m = await _hello(http, server, name="Bo")  # an old client: no avatar key
    b = Client(ws, m[1])
    fox = {"look": "fox", "accessory": "headphones"}
    assert [a.id, "Ada", "#ff8800", fox] in b.welcome["roster"]
    await a.pose(a.spawn_head())
    await b.until(lambda m: m[0] == MsgType.STATE and a.id in b.mirror.entities)
    assert b.mirror.entities[a.id].info == {"name": "Ada", "color": "#ff8800", "avatar": fox}
    await b.pose(b.spawn_head())
    await a.until(lambda m: m[0] == MsgType.STATE and b.id in a.mirror.entities)
    assert a.mirror.entities[b.id].info["avatar"] == {"look": AVATAR_LOOKS[0], "accessory": AVATAR_ACCESSORIES[0]}
    # Only one of the two keys: the other is its default.
    ws, m = await _hello(http, server, name="Cy", avatar={"accessory": "hat"})
    assert [m[1]["id"], "Cy"] == m[1]["roster"][-1][:2]
    assert m[1]["roster"][-1][3] == {"look": "classic", "accessory": "hat"}
    for w in (a.ws, b.ws, ws):
        await w.close()


BAD = [
    ({"look": "dragon"}, "hello.avatar.look: expected one of classic, robot, fox, ghost, got 'dragon'"),
    ({"accessory": "crown" * 1000}, "hello.avatar.accessory: expected one of none, hat, glasses, headphones"),
    ({"look": 3}, "hello.avatar.look: expected one of classic, robot, fox, ghost, got int"),
    ({"look": "fox", "wings": "yes"}, "hello.avatar: unknown keys ['wings']"),
    ("fox", "hello.avatar: expected a map {look, accessory}, got str"),
]


async def test_a_bad_avatar_is_bad_field_and_closes_4002(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    for avatar, says in BAD:  # one server for all of them: each start costs seconds
        ws, err = await _hello(http, server, avatar=avatar)
        assert err[0] == MsgType.ERROR and err[1] == ErrorCode.BAD_FIELD and err[3] == MsgType.HELLO, avatar
        assert says in err[2] and len(err[2]) < 300, err[2]
        closed = await ws.receive(timeout=5)
        assert closed.type == aiohttp.WSMsgType.CLOSE and ws.close_code == CloseCode.BAD_HELLO
