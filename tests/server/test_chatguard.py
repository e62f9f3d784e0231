"""The chat toxicity assist on a real server: likely abuse is flagged to the world's
moderators and, where the world file says so, held back instead of shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from server.protocol import MsgType, NoticeKind
from tests.serverproc import ServerProcess
from tests.worldfiles import LOBBY, world_dir
from tests.wsclient import account, join

HOLDING = """
id = "cafe"
name = "Cafe"
[bounds]
min = [-20, -1, -20]
max = [20, 10, 20]
[[spawns]]
name = "default"
position = [0, 0, 0]
[roles]
owner = "kofi"
moderators = ["mira"]
[chat_assist]
mode = "hold"
hold_at = 0.9
"""


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[ServerProcess]:
    s = ServerProcess.in_dir(tmp_path, world_dir(tmp_path, {"lobby": LOBBY, "cafe": HOLDING}))
    yield s
    s.stop()


def moderation(m: list) -> bool:
    return m[0] == MsgType.NOTICE and m[1] == NoticeKind.MODERATION


async def test_abuse_is_held_and_flagged_while_ordinary_chat_flows(
    srv: ServerProcess, http: aiohttp.ClientSession
) -> None:
    mira = await join(http, srv, "mira", "cafe", token=await account(http, srv, "mira"))
    bystander = await join(http, srv, "sam", "cafe")
    troll = await join(http, srv, "rex", "cafe")

    await troll.send([MsgType.CHAT, "you are a stupid idiot"])
    held = await troll.until(moderation)
    assert held[3] == {"held": True}
    flag = await mira.until(moderation)
    assert flag[3]["flag"]["held"] is True and flag[3]["flag"]["name"] == "rex"
    assert flag[3]["flag"]["text"] == "you are a stupid idiot" and flag[3]["flag"]["score"] >= 0.9

    # Ordinary chat (a word list's false alarm included) goes through, unflagged; the held
    # line never reached anyone.
    await troll.send([MsgType.CHAT, "that drop was sick"])
    line = await bystander.until(lambda m: m[0] == MsgType.CHAT_MSG)
    assert line[3] == "that drop was sick"
    assert not any(m[0] == MsgType.CHAT_MSG for m in bystander.inbox)
    assert not any(moderation(m) for m in bystander.inbox)
    await mira.until(lambda m: m[0] == MsgType.CHAT_MSG and m[3] == "that drop was sick")
    assert not any(moderation(m) for m in mira.inbox)
