"""Natural-language commands on a real server: "@plaza ..." chat lines are understood by the
trained model and answered privately, or acted on through the same path as the explicit
message — with the same permission checks."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from server.protocol import ErrorCode, MsgType, NoticeKind
from tests.serverproc import ServerProcess
from tests.wsclient import Client, join

FIRST_ANSWER_S = 90.0  # the first request loads MiniLM (seconds on a busy CI machine)


def assistant(m: list[Any]) -> bool:
    return m[0] == MsgType.NOTICE and m[1] == NoticeKind.INFO and "assistant" in m[3]


async def ask(c: Client, text: str, timeout: float = 20.0) -> list[Any]:
    await c.send([MsgType.CHAT, f"@plaza {text}"])
    return await c.until(assistant, timeout)


@pytest.mark.timeout(240)
async def test_take_me_to_the_gallery_travels_there(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    c = await join(http, server, "wanderer")
    await c.send([MsgType.CHAT, "@plaza take me to the gallery"])
    welcome = await c.until(lambda m: m[0] == MsgType.WELCOME, FIRST_ANSWER_S)
    assert welcome[1]["world"] == "gallery"
    note = await c.until(assistant)
    assert note[3]["assistant"]["intent"] == "travel" and note[3]["assistant"]["done"] is True
    # Asking for the world you are in is an answer, not a TRAVEL.
    again = await ask(c, "go to the galery please")
    assert "already" in again[2] and "done" not in again[3]["assistant"]


@pytest.mark.timeout(240)
async def test_a_guest_saying_ban_bo_is_refused_like_a_guest_moderate(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    bo = await join(http, server, "Bo")
    guest = await join(http, server, "pat")
    await guest.send([MsgType.CHAT, "@plaza ban Bo"])
    err = await guest.until(lambda m: m[0] == MsgType.ERROR, FIRST_ANSWER_S)
    assert err[1] == ErrorCode.FORBIDDEN and err[3] == MsgType.MODERATE
    note = await guest.until(assistant)
    assert note[3]["assistant"]["intent"] == "ban" and note[3]["assistant"]["done"] is False
    assert note[2].startswith("I can't do that")
    # Bo is still here and never saw the request: it was not chat.
    await guest.send([MsgType.CHAT, "hello Bo"])
    line = await bo.until(lambda m: m[0] == MsgType.CHAT_MSG and m[1] == guest.id)  # not the guide's
    assert line[3] == "hello Bo"
    assert not any(m[0] == MsgType.CHAT_MSG and m[1] == guest.id for m in bo.inbox)


@pytest.mark.timeout(240)
async def test_answers_unclear_requests_and_bad_input(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    bo = await join(http, server, "Bo")
    c = await join(http, server, "quinn")
    here = await ask(c, "who's here?", FIRST_ANSWER_S)
    assert here[3]["assistant"]["intent"] == "who_here" and "Bo" in here[2]
    odd = await ask(c, "banana")
    assert odd[3]["assistant"].get("clarify") is True
    # A moderation request naming nobody present is a question back, never an action.
    nobody = await ask(c, "mute Zebulon")
    assert nobody[3]["assistant"].get("clarify") is True
    await c.send([MsgType.CHAT, "@plaza"])
    err = await c.until(lambda m: m[0] == MsgType.ERROR)
    assert err[1] == ErrorCode.BAD_FIELD and err[3] == MsgType.CHAT
    await bo.ws.close()
