"""Spec: a graceful stop (SIGINT) with a crowd connected is quick and tells everyone: each
client gets close code 1001, and the process exits in a bounded time (measured here: ~0.2 s
for 200 clients)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp
import msgpack

from server.protocol import CloseCode, MsgType
from tests.serverproc import REPO, ServerProcess

CROWD = 200


async def _hello(http: aiohttp.ClientSession, url: str, i: int) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(url)
    await ws.send_bytes(msgpack.packb([MsgType.HELLO, {"v": [1], "name": f"p{i}", "world": "bench-field"}]))
    return ws


async def _close_code(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    while (await ws.receive(timeout=10)).type == aiohttp.WSMsgType.BINARY:
        pass
    return ws.close_code


async def test_a_graceful_stop_closes_every_client_with_1001_and_exits_quickly(tmp_path: Path) -> None:
    srv = ServerProcess.in_dir(tmp_path, REPO / "worlds")
    assert srv.proc is not None
    # No pool limit: aiohttp's default (100) would queue the rest of the crowd client-side.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        clients = [await _hello(http, srv.ws_url, i) for i in range(CROWD)]
        await asyncio.sleep(1.0)  # nobody reads meanwhile: backlogs build up
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGINT)
        codes = await asyncio.gather(*(_close_code(ws) for ws in clients))
        await asyncio.to_thread(srv.proc.wait, 15)
        took = time.monotonic() - t0
    assert set(codes) == {CloseCode.GOING_AWAY}
    assert srv.proc.returncode == 0
    assert took < 5.0, took  # generous for a noisy machine; measured ~0.2 s here
