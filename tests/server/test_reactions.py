"""REACT (18) / REACTION (80): emoji reactions over an avatar, a fixed set, rate limited."""

from __future__ import annotations

import aiohttp

from server.protocol import REACT_MIN_INTERVAL_MS, ErrorCode, MsgType, Reaction
from tests.serverproc import ServerProcess
from tests.wsclient import join


async def test_a_reaction_reaches_everyone_in_the_instance(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    a = await join(http, server, "Ada")
    b = await join(http, server, "Bo")
    await a.send([MsgType.REACT, int(Reaction.HEART)])
    for c in (a, b):  # the sender sees it too (it floats over their own head for others)
        m = await c.until(lambda m: m[0] == MsgType.REACTION)
        assert m == [MsgType.REACTION, a.id, int(Reaction.HEART)]


async def test_unknown_reactions_are_refused_precisely(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    a = await join(http, server, "Cy")
    for bad in (0, 7, "heart", True, 2.5, None):
        await a.send([MsgType.REACT, bad])
        m = await a.until(lambda m: m[0] == MsgType.ERROR)
        assert (m[1], m[3]) == (ErrorCode.BAD_FIELD, MsgType.REACT), m
        assert "react.reaction: expected one of [1, 2, 3, 4, 5, 6]" in m[2]
    await a.send([MsgType.REACT])
    m = await a.until(lambda m: m[0] == MsgType.ERROR)
    assert (m[1], m[3]) == (ErrorCode.BAD_FIELD, MsgType.REACT), m


async def test_reactions_are_rate_limited(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    a = await join(http, server, "Di")
    await a.send([MsgType.REACT, int(Reaction.WAVE)])
    await a.send([MsgType.REACT, int(Reaction.CLAP)])  # well within REACT_MIN_INTERVAL_MS
    await a.until(lambda m: m[0] == MsgType.REACTION)
    m = await a.until(lambda m: m[0] in (MsgType.ERROR, MsgType.REACTION))
    assert (m[0], m[1], m[3]) == (MsgType.ERROR, ErrorCode.RATE_LIMITED, MsgType.REACT), m
    assert f"{REACT_MIN_INTERVAL_MS} ms" in m[2]
