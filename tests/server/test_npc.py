"""The lobby's guide on a real server: a server-side avatar everyone sees, that greets a
newcomer in chat and, asked in plain words, walks them to a portal."""

from __future__ import annotations

import math
import time
from typing import Any

import aiohttp
import pytest

from server.protocol import MsgType, NoticeKind
from tests.serverproc import ServerProcess
from tests.wsclient import Client, join

FIRST_ANSWER_S = 90.0  # the first request loads MiniLM (seconds on a busy CI machine)
GALLERY_PORTAL = (0.0, -16.0)  # worlds/lobby.toml, portal "to-gallery"


def npc_of(c: Client) -> Any:
    return next((e for e in c.mirror.entities.values() if e.info.get("npc")), None)


@pytest.mark.timeout(300)
async def test_the_guide_greets_a_newcomer_and_walks_them_to_a_portal(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    c = await join(http, server, "newcomer")
    greet = await c.until(lambda m: m[0] == MsgType.CHAT_MSG and m[2] == "Nova", 10)
    assert "newcomer" in greet[3]
    # Visible like a person: an avatar entity with a name tag, never in the roster.
    await c.until(lambda m: m[0] == MsgType.STATE and npc_of(c) is not None, 10)
    nova = npc_of(c)
    assert nova.id == greet[1] and nova.info["name"] == "Nova" and nova.kind == 0
    assert all(r[0] != nova.id for r in c.welcome["roster"])

    await c.send([MsgType.CHAT, "@Nova show me the gallery portal"])
    note = await c.until(lambda m: m[0] == MsgType.NOTICE and m[1] == NoticeKind.INFO, FIRST_ANSWER_S)
    assert note[3]["assistant"]["intent"] == "guide" and note[3]["assistant"]["place"] == "portal:to-gallery"

    # Follow the guide (it waits for people who fall behind) until it says we are there.
    x, y, z = c.spawn_head()
    deadline = time.monotonic() + 90
    start = nova.position
    arrived = None
    while arrived is None and time.monotonic() < deadline:
        nx, _, nz = npc_of(c).position
        d = math.hypot(nx - x, nz - z)
        if d > 1.5:
            step = min(0.3, d - 1.5)
            x, z = x + (nx - x) / d * step, z + (nz - z) / d * step
        await c.pose((x, y, z))
        try:
            m = await c.until(lambda m: m[0] in (MsgType.STATE, MsgType.CHAT_MSG), 1.0)
        except TimeoutError:
            continue
        if m[0] == MsgType.CHAT_MSG and m[2] == "Nova" and "Gallery" in m[3] and "Here" in m[3]:
            arrived = m
    assert arrived is not None, "the guide never arrived"
    nx, _, nz = npc_of(c).position
    assert math.hypot(nx - GALLERY_PORTAL[0], nz - GALLERY_PORTAL[1]) < 2.5
    assert math.hypot(nx - start[0], nz - start[2]) > 15  # it walked, it did not teleport
