"""``plaza bots``: bots stay inside any world's bounds and measure only their own clock."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import aiohttp
import msgpack

from server.bots import EDGE_MARGIN_M, fit_walk, run_bots
from server.protocol import MsgType
from tests.serverproc import REPO, ServerProcess

LOBBY_BOUNDS = [[-30.0, -2.0, -30.0], [30.0, 20.0, 30.0]]


def test_every_walk_fits_inside_the_bounds() -> None:
    for bounds in (LOBBY_BOUNDS, [[-4.0, 0.0, -6.0], [4.0, 5.0, 2.0]], [[-50.0, -1.0, -50.0], [50.0, 20.0, 50.0]]):
        for u in [(0.0, 0.0, 0.0), (0.999, 0.999, 0.999), (0.5, 0.1, 0.9), (0.999, 0.0, 0.999)]:
            w = fit_walk(u, bounds, 0.0, 50.0)
            assert bounds[0][0] + EDGE_MARGIN_M <= w.cx - w.radius and w.cx + w.radius <= bounds[1][0] - EDGE_MARGIN_M
            assert bounds[0][2] + EDGE_MARGIN_M <= w.cz - w.radius and w.cz + w.radius <= bounds[1][2] - EDGE_MARGIN_M
            assert w.radius >= 0.5


async def _person_with_another_clock(url: str, stop: asyncio.Event) -> None:
    """A browser-like client whose POSE ts is its own clock (here: a fixed far-off number)."""
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        await ws.send_bytes(msgpack.packb([MsgType.HELLO, {"v": 1, "name": "Human", "world": "lobby"}]))
        w = msgpack.unpackb((await ws.receive()).data, strict_map_key=False)
        x, y, z, _ = w[1]["spawn"]
        ts = 123_456
        while not stop.is_set():
            ts += 50
            head = [x, y + 1.6, z, 0.0, 0.0, 0.0, 1.0]
            await ws.send_bytes(msgpack.packb([MsgType.POSE, ts, head, head, head]))
            await asyncio.sleep(0.05)


def test_thirty_bots_in_the_lobby_stay_connected_and_measure_only_bots(server: ServerProcess) -> None:
    async def scenario() -> dict[str, object]:
        stop = asyncio.Event()
        person = asyncio.create_task(_person_with_another_clock(server.ws_url, stop))
        await asyncio.sleep(0.5)
        res = await asyncio.to_thread(run_bots, server.ws_url, 30, 4.0, "lobby", 1, 4, 1.0)
        stop.set()
        await person
        return res

    res = asyncio.run(scenario())
    assert res["connected_at_end"] == 30 and res["failures"] == [], res
    assert res["latency_samples"] > 0 and res["implausible_latencies"] == 0, res
    assert res["p99_ms"] < 5_000, res  # one machine: milliseconds, never another clock's offset


def test_cli_prints_json_for_the_lobby(server: ServerProcess) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", "bots", "--url", server.ws_url, "--world", "lobby", "--n", "6",
         "--seconds", "2", "--warmup", "0.5"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["connected_at_end"] == 6 and res["failures"] == [], res
