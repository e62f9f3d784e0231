"""The real server on 127.0.0.1: protocol round trips over WebSockets, persistence across a
restart, bad input at the socket level, and slow-client isolation."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import pytest

from server.protocol import HELLO_TIMEOUT_S, CloseCode, ErrorCode, MsgType, Presence
from tests.serverproc import ANY_PORT, REPO, ServerProcess
from tests.wsclient import IDENT, grabbable, join


async def test_http_api_lists_worlds_with_occupancy(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    a = await join(http, server, "Ada")
    async with http.get(server.url + "/api/worlds") as r:
        worlds = {w["id"]: w for w in await r.json()}
    assert {"lobby", "gallery", "concert-hall", "forest-park", "meeting-room"} <= set(worlds)
    lobby = worlds["lobby"]
    assert lobby["occupancy"] == 1 and lobby["instances"] == [
        {"id": "lobby#1", "occupancy": 1, "capacity": lobby["capacity"]}
    ]
    assert lobby["name"] and lobby["description"] and lobby["tags"]
    async with http.get(server.url + "/api/worlds/lobby") as r:
        assert (await r.json())["world_info"]["id"] == "lobby"
    async with http.get(server.url + "/api/worlds/atlantis") as r:
        assert r.status == 404 and (await r.json())["error"] == "unknown_world"
    async with http.get(server.url + "/api/health") as r:
        assert (await r.json())["status"] == "ok"
    await a.ws.close()


async def test_two_clients_see_each_other_chat_and_ping(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    a = await join(http, server, "Ada")
    b = await join(http, server, "Bo")
    assert [a.id, "Ada"] == b.welcome["roster"][0][:2]
    await a.until(lambda m: m[0] == MsgType.PRESENCE and m[1:3] == [Presence.JOINED, b.id])
    x, y, z = a.spawn_head()
    await a.pose((x + 0.4, y, z - 0.2), ts=4242)
    await b.until(lambda m: m[0] == MsgType.STATE and a.id in b.mirror.entities and b.mirror.entities[a.id].ts == 4242)
    assert b.mirror.entities[a.id].position == pytest.approx((x + 0.4, y, z - 0.2), abs=6e-4)
    await a.send([MsgType.CHAT, "hi Bo"])
    chat = await b.until(lambda m: m[0] == MsgType.CHAT_MSG and m[1] == a.id)  # not the lobby guide's greeting
    assert chat[1:4] == [a.id, "Ada", "hi Bo"]
    await b.send([MsgType.PING, 123.5])
    pong = await b.until(lambda m: m[0] == MsgType.PONG)
    assert pong[1] == 123.5 and isinstance(pong[2], int)
    await b.ws.close()
    await a.until(lambda m: m[0] == MsgType.PRESENCE and m[1:3] == [Presence.LEFT, b.id])
    await a.ws.close()


async def test_a_moved_object_is_still_moved_after_a_restart(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    data = tmp_path / "data"
    data.mkdir()
    srv = ServerProcess(ANY_PORT, data, REPO / "worlds").start()
    try:
        a = await join(http, srv, "Ada")
        oid, eid, pos = grabbable(a)
        x, y, z = a.spawn_head()
        await a.pose((x, y, z))
        await a.send([MsgType.GRAB, eid])
        granted = await a.until(lambda m: m[0] == MsgType.GRAB_RESULT)
        assert granted[1:] == [eid, True, 0]
        target = [x + 0.5, 1.3, z - 0.5]
        await a.send([MsgType.OBJECT_MOVE, eid, [*target, *IDENT]])
        await a.send([MsgType.RELEASE, eid, [*target, *IDENT], [0, 0, 0]])

        def at_rest_there(m: list[Any]) -> bool:
            obj = a.mirror.entities.get(eid)
            return (
                m[0] == MsgType.STATE
                and obj is not None
                and obj.holder == 0
                and obj.position == pytest.approx(tuple(target), abs=6e-4)
            )

        await a.until(at_rest_there)  # the server has the release before the socket closes
        await a.ws.close()
    finally:
        srv.stop()  # graceful: the write-behind buffer is flushed
    srv2 = ServerProcess(srv.port, data, REPO / "worlds").start()
    try:
        c = await join(http, srv2, "Cy")
        assert c.welcome["objects"][oid] > 0
        eid2 = c.welcome["objects"][oid]
        await c.pose(c.spawn_head())
        await c.until(lambda m: m[0] == MsgType.STATE and eid2 in c.mirror.entities)
        assert c.mirror.entities[eid2].position == pytest.approx(tuple(target), abs=6e-4)
        assert pos != pytest.approx(target)
        await c.ws.close()
    finally:
        srv2.stop()


async def test_bad_frames_get_errors_and_other_clients_carry_on(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    a = await join(http, server, "Ada")
    b = await join(http, server, "Bo")
    await a.ws.send_bytes(b"\xc1\xc1")
    err = await a.until(lambda m: m[0] == MsgType.ERROR)
    assert err[1] == ErrorCode.MALFORMED
    x, y, z = a.spawn_head()
    await a.send([MsgType.POSE, 0, [float("nan"), y, z, *IDENT], [x, 1.2, z, *IDENT], [x, 1.2, z, *IDENT]])
    err = await a.until(lambda m: m[0] == MsgType.ERROR)
    assert err[1] == ErrorCode.NOT_FINITE and "pose.head[0]" in err[2]
    await a.send([MsgType.POSE, 0, [x, y, 9999, *IDENT], [x, 1.2, 9999, *IDENT], [x, 1.2, 9999, *IDENT]])
    assert (await a.until(lambda m: m[0] == MsgType.ERROR))[1] == ErrorCode.OUT_OF_BOUNDS
    # An oversized frame closes only that socket, with 1009.
    await a.ws.send_bytes(msgpack.packb([MsgType.CHAT, "x" * 20000]))
    msg = await a.ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert a.ws.close_code == 1009
    # B never noticed.
    await b.pose(b.spawn_head(), ts=7)
    await b.send([MsgType.PING, 1])
    assert (await b.until(lambda m: m[0] == MsgType.PONG))[1] == 1
    await b.ws.close()


@pytest.mark.parametrize(
    ("frame", "close"),
    [
        (msgpack.packb([MsgType.HELLO, {"v": 1, "name": "x", "world": "atlantis"}]), CloseCode.UNKNOWN_WORLD),
        (msgpack.packb([MsgType.HELLO, {"v": [7, 8], "name": "x", "world": "lobby"}]), CloseCode.UNSUPPORTED_VERSION),
        (msgpack.packb([MsgType.HELLO, {"v": 1, "name": 5, "world": "lobby"}]), CloseCode.BAD_HELLO),
        ("hello as text", CloseCode.NOT_BINARY),
    ],
)
async def test_a_bad_hello_closes_with_its_code(
    server: ServerProcess, http: aiohttp.ClientSession, frame: bytes | str, close: CloseCode
) -> None:
    ws = await http.ws_connect(server.ws_url)
    if isinstance(frame, str):
        await ws.send_str(frame)
    else:
        await ws.send_bytes(frame)
    while (msg := await ws.receive(timeout=5)).type == aiohttp.WSMsgType.BINARY:
        assert msgpack.unpackb(msg.data)[0] == MsgType.ERROR
    assert ws.close_code == close


def _raw_ws_client(port: int, rcvbuf: int) -> socket.socket:
    """A WebSocket client that joins and then never reads: the slow peer."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    resp = b""
    while b"\r\n\r\n" not in resp:
        resp += s.recv(1)
    assert b" 101 " in resp.split(b"\r\n", 1)[0]
    _send_masked(s, msgpack.packb([MsgType.HELLO, {"v": 1, "name": "slow", "world": "bench-field"}]))
    return s


def _send_masked(s: socket.socket, payload: bytes) -> None:
    """One masked binary frame (payloads under 126 bytes), as a browser sends it."""
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    s.sendall(bytes([0x82, 0x80 | len(payload)]) + mask + masked)


def _read_until_closed(s: socket.socket) -> tuple[bytes, bool]:
    """What the peer can still read, and whether the server ended the connection (EOF or
    reset) rather than leaving it open for 3 s."""
    s.settimeout(3)
    buf, ended = b"", True
    try:
        while chunk := s.recv(1 << 20):
            buf += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        ended = False
    s.close()
    return buf, ended


async def _drain(c: Any) -> int:
    """Read what has arrived (applying STATE); returns how many STATE frames came."""
    states = 0
    while True:
        try:
            msg = await c.ws.receive(timeout=0.001)
        except TimeoutError:
            return states
        if msg.type != aiohttp.WSMsgType.BINARY:
            raise ConnectionError(f"{msg.type} {c.ws.close_code}")
        m = msgpack.unpackb(msg.data, strict_map_key=False)
        if m[0] == MsgType.STATE:
            c.mirror.apply(m)
            states += 1


async def test_closing_a_slow_client_that_travels_keeps_state_flowing_in_both_its_worlds(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """The reported freeze: a peer that stops reading while it sends TRAVEL between two worlds
    at 50/s is closed with 4005; everyone else in those instances keeps receiving STATE."""
    data = tmp_path / "data"
    data.mkdir()
    srv = ServerProcess(
        ANY_PORT,
        data,
        REPO / "worlds",
        extra_args=("--slow-client-bytes", "4096", "--slow-client-seconds", "1.0", "--socket-sndbuf", "4096"),
    ).start()
    try:
        worlds = ("bench-field", "gallery")
        watchers = {w: await join(http, srv, f"watch-{w[:5]}", w) for w in worlds}
        movers = {w: await join(http, srv, f"move-{w[:5]}", w) for w in worlds}
        slow = _raw_ws_client(srv.port, 4096)
        k = 0

        async def step() -> dict[str, int]:
            nonlocal k
            k += 1
            for m in movers.values():
                x, y, z = m.spawn_head()
                await m.pose((x + 0.02 * (k % 20), y, z), ts=k)
                await _drain(m)
            return {w: await _drain(c) for w, c in watchers.items()}

        closed = False
        t_end = time.monotonic() + 20
        while not closed and time.monotonic() < t_end:
            try:
                _send_masked(slow, msgpack.packb([MsgType.TRAVEL, worlds[k % 2], None]))
            except OSError:  # the server closed it
                closed = True
            await step()
            await asyncio.sleep(0.02)  # 50 TRAVELs a second
            occupancy = 0
            for w in worlds:
                async with http.get(srv.url + f"/api/worlds/{w}") as r:
                    occupancy += (await r.json())["occupancy"]
            closed = closed or occupancy == 4
        assert closed, "the slow peer was never closed"
        # It never reads, so it cannot see the close frame: the server aborts the socket
        # rather than keep it (and its kernel buffers) waiting for a flush that never comes.
        assert _read_until_closed(slow)[1]
        async with http.get(srv.url + "/metrics") as r:
            assert 'plaza_ws_closes_total{reason="slow_client"} 1.0' in await r.text()
        # From then on both instances keep ticking for the people in them...
        got = {w: 0 for w in worlds}
        t_end = time.monotonic() + 2.0
        while time.monotonic() < t_end:
            for w, n in (await step()).items():
                got[w] += n
            await asyncio.sleep(0.05)
        assert all(n >= 10 for n in got.values()), got  # 20 Hz for 2 s, less a noisy machine's share
        for w, c in watchers.items():  # ...with the mover's latest pose, not a frozen one
            assert c.mirror.entities[movers[w].id].ts >= k - 10
        # ...and newcomers are sent the world's objects.
        for w in worlds:
            late = await join(http, srv, f"late-{w[:5]}", w)
            await late.until(lambda m, late=late: m[0] == MsgType.STATE and len(late.mirror.entities) >= 3, timeout=5)
            await late.ws.close()
        for c in (*watchers.values(), *movers.values()):
            await c.ws.close()
    finally:
        srv.stop()


@pytest.mark.parametrize("resumes_reading", [True, False], ids=["stalls-then-reads", "never-reads"])
async def test_a_slow_client_never_delays_the_others_and_is_closed(
    tmp_path: Path, http: aiohttp.ClientSession, resumes_reading: bool
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    srv = ServerProcess(
        ANY_PORT,
        data,
        REPO / "worlds",
        extra_args=("--slow-client-bytes", "4096", "--slow-client-seconds", "1.0", "--socket-sndbuf", "4096"),
    ).start()
    try:
        slow = _raw_ws_client(srv.port, 4096)
        slow.setblocking(False)
        slow_read = bytearray()
        reading = False  # the stalled peer reads again once the server has given up on it
        ended = False

        def pump() -> None:
            nonlocal ended
            try:
                while chunk := slow.recv(1 << 20):
                    slow_read.extend(chunk)
                ended = True  # EOF
            except BlockingIOError:
                pass
            except ConnectionResetError:
                ended = True

        async def occupancy() -> int:
            async with http.get(srv.url + "/api/worlds/bench-field") as r:
                return int((await r.json())["occupancy"])

        movers = [await join(http, srv, f"m{i}", "bench-field") for i in range(12)]
        observer = movers[0]
        for i, m in enumerate(movers):
            x, _, z, _ = m.welcome["spawn"]
            await m.send([MsgType.TELEPORT, [x + i * 0.5, 0, z]])
        for m in movers:
            await m.until(lambda msg: msg[0] == MsgType.TELEPORTED)
        states = 0
        k = 0

        async def step() -> None:
            nonlocal k, states, reading
            k += 1
            for i, m in enumerate(movers):
                x, _, z, _ = m.welcome["spawn"]
                await m.pose((x + i * 0.5 + 0.02 * (k % 20), 1.6, z), ts=k)
            for m in movers:  # drain everyone so only the raw socket is slow
                while True:
                    try:
                        msg = await m.ws.receive(timeout=0.001)
                    except TimeoutError:
                        break
                    if m is observer and msg.type == aiohttp.WSMsgType.BINARY and msg.data[1] == MsgType.STATE:
                        states += 1
            if resumes_reading and not reading:
                reading = await occupancy() == len(movers)
            if reading:
                pump()

        t_end = time.monotonic() + 5.0
        while time.monotonic() < t_end:
            await step()
            await asyncio.sleep(0.05)  # the scenario: movers pace their poses like headsets do
        # The observer kept receiving ticks at (nearly) the full 20 Hz for 5 s...
        assert states >= 0.5 * 20 * 5  # (not ~0: a blocked tick loop would starve everyone)
        # ...while the server gave up on the peer that never reads (close code 4005).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and await occupancy() != len(movers):
            await step()
            await asyncio.sleep(0.1)
        assert await occupancy() == len(movers)  # the slow one is gone, the movers remain
        if not resumes_reading:
            await asyncio.sleep(2.5)  # past the 1 s the server waits for a closing peer to read
        deadline = time.monotonic() + 12
        while not ended and time.monotonic() < deadline:
            pump()
            await asyncio.sleep(0.05)
        assert ended  # the server ended the connection instead of holding it (and its buffers) open
        if resumes_reading:
            # A peer that reads again (a stalled tab) gets the close frame behind its backlog,
            # so it learns why: code 4005 SLOW_CLIENT.
            assert b"\x0f\xa5cannot keep up" in slow_read
        slow.close()
        # ...and that close did not stop the world's ticks: a newcomer is sent the movers.
        late = await join(http, srv, "late", "bench-field")
        await late.until(lambda m: m[0] == MsgType.STATE and len(late.mirror.entities) >= 3, timeout=5)
        await late.ws.close()
        for m in movers:
            await m.ws.close()
    finally:
        srv.stop()


async def test_a_socket_that_never_says_hello_is_closed_even_while_it_talks(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    ws = await http.ws_connect(server.ws_url)
    t0 = time.monotonic()
    code = None
    while time.monotonic() - t0 < HELLO_TIMEOUT_S + 5:
        try:
            await ws.send_bytes(msgpack.packb([MsgType.PING, 1.0]))  # talking, but never HELLO
        except ConnectionError:
            break
        msg = await ws.receive(timeout=2.0)  # the NOT_JOINED error, or the close
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            break
        await asyncio.sleep(1.0)  # one message a second: not a flood, not a stream of errors
    code = ws.close_code
    assert code == CloseCode.HELLO_TIMEOUT
    assert time.monotonic() - t0 < HELLO_TIMEOUT_S + 3
