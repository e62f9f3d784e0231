"""A WebSocket client for tests against a real server: join a world, send, read until a
condition holds (applying STATE to a mirror of the world); accounts over HTTP."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import msgpack

from server.mirror import StateMirror
from server.protocol import CloseCode, MsgType
from tests.serverproc import ServerProcess

IDENT = [0.0, 0.0, 0.0, 1.0]


class Client:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, welcome: dict[str, Any]) -> None:
        self.ws = ws
        self.welcome = welcome
        self.id: int = welcome["id"]
        self.mirror = StateMirror()
        self.inbox: list[list[Any]] = []
        self.moved: dict[str, Any] | None = None  # the MOVED that brought it to this worker

    async def send(self, msg: list[Any]) -> None:
        await self.ws.send_bytes(msgpack.packb(msg))

    async def pose(self, head: tuple[float, float, float], ts: int = 0) -> None:
        x, y, z = head
        await self.send(
            [
                MsgType.POSE,
                ts,
                [x, y, z, *IDENT],
                [x - 0.3, y - 0.4, z - 0.3, *IDENT],
                [x + 0.3, y - 0.4, z - 0.3, *IDENT],
            ]
        )

    async def until(self, pred: Any, timeout: float = 3.0) -> list[Any]:
        """Read frames (applying STATE to the mirror) until pred(msg) is true for one."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("condition not met")
            msg = await self.ws.receive(timeout=left)
            if msg.type != aiohttp.WSMsgType.BINARY:
                raise ConnectionError(f"socket closed: {msg.type} {self.ws.close_code}")
            m = msgpack.unpackb(msg.data, strict_map_key=False)
            if m[0] == MsgType.STATE:
                self.mirror.apply(m)
            if pred(m):
                return m
            self.inbox.append(m)

    def spawn_head(self) -> tuple[float, float, float]:
        x, y, z, _ = self.welcome["spawn"]
        return (x, y + 1.6, z)


async def join(
    http: aiohttp.ClientSession,
    srv: ServerProcess,
    name: str,
    world: str = "lobby",
    token: str | None = None,
    instance: str | None = None,
) -> Client:
    """HELLO at the server's public url, following a MOVED (a cluster worker's own port) as the
    SDK does; ``Client.moved`` is the MOVED body when there was one."""
    url, hello = srv.ws_url, {"v": [1], "name": name, "world": world}
    if token:
        hello["token"] = token
    if instance:
        hello["instance"] = instance
    moved: dict[str, Any] | None = None
    for _ in range(2):  # a MOVED connection is never moved again
        ws = await http.ws_connect(url)
        await ws.send_bytes(msgpack.packb([MsgType.HELLO, hello]))
        m = msgpack.unpackb((await ws.receive(timeout=5)).data, strict_map_key=False)
        if m[0] != MsgType.MOVED:
            break
        moved = m[1]
        await ws.receive(timeout=5)  # the close 4012
        assert ws.close_code == CloseCode.MOVED, ws.close_code
        url, hello = moved["url"], {**hello, "world": moved["world"], "instance": moved["instance"]}
    assert m[0] == MsgType.WELCOME, m
    c = Client(ws, m[1])
    c.moved = moved
    return c


async def account(http: aiohttp.ClientSession, srv: ServerProcess, user: str, password: str = "correct horse") -> str:
    """Register ``user``; a name the world files give a role to is claimed with the one-time
    setup token the server wrote at start (as its operator would)."""
    body = {"user": user, "password": password}
    setup = srv.data_dir / "setup-token"
    if setup.exists():
        body["setup_token"] = setup.read_text().strip()
    async with http.post(srv.url + "/api/accounts", json=body) as r:
        body = await r.json()
        assert r.status == 201, body
        return str(body["token"])


def grabbable(c: Client) -> tuple[str, int, list[float]]:
    objs = [o for o in c.welcome["world_info"]["objects"] if o.get("grabbable")]
    sx, _, sz, _ = c.welcome["spawn"]
    o = min(objs, key=lambda o: (o["position"][0] - sx) ** 2 + (o["position"][2] - sz) ** 2)
    return o["id"], c.welcome["objects"][o["id"]], o["position"]
