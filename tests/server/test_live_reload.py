"""Live reload against a real server: edits reach people inside within a second, without
disconnects and without resetting what people moved; broken files keep the last good version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from server.protocol import MsgType, NoticeKind
from tests.serverproc import ServerProcess
from tests.waiting import eventually
from tests.worldfiles import LOBBY, world_dir
from tests.wsclient import IDENT, Client, account, join

ROOM = """
id = "room"
name = "Room"
[bounds]
min = [-10, -1, -10]
max = [10, 10, 10]
[[spawns]]
name = "default"
position = [0, 0, 0]
[roles]
owner = "olga"
[[objects]]
id = "cup"
shape = "cylinder"
size = [0.1, 0.15, 0.1]
position = [0.5, 1.0, -0.5]
grabbable = true
[[objects]]
id = "lamp"
shape = "sphere"
size = [0.3, 0.3, 0.3]
position = [-1, 2, -1]
material = { color = "COLOR" }
"""


@pytest.fixture
def worlds(tmp_path: Path) -> Path:
    return world_dir(tmp_path, {"lobby": LOBBY, "room": ROOM.replace("COLOR", "#ffffff")})


@pytest.fixture
def live_server(tmp_path: Path, worlds: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess.in_dir(tmp_path, worlds)
    yield srv
    srv.stop()


async def test_an_edit_updates_everyone_inside_and_keeps_moved_objects(
    live_server: ServerProcess, worlds: Path, http: aiohttp.ClientSession
) -> None:
    olga = await join(http, live_server, "olga", "room", await account(http, live_server, "olga"))
    cup = olga.welcome["objects"]["cup"]
    await olga.pose(olga.spawn_head())
    await olga.send([MsgType.GRAB, cup])
    await olga.until(lambda m: m[0] == MsgType.GRAB_RESULT and m[2])
    await olga.send([MsgType.RELEASE, cup, [1.0, 1.2, 1.0, *IDENT], [0, 0, 0]])
    await olga.until(
        lambda m: m[0] == MsgType.STATE and cup in olga.mirror.entities and olga.mirror.entities[cup].holder == 0
    )

    (worlds / "room.toml").write_text(ROOM.replace("COLOR", "#ff0000"))
    update = await olga.until(lambda m: m[0] == MsgType.WORLD_UPDATE, timeout=3.0)
    lamp = next(o for o in update[1]["objects"] if o["id"] == "lamp")
    assert lamp["material"]["color"].lower() == "#ff0000"
    assert update[2]["cup"] == cup  # untouched objects keep their entity...
    # A tick barrier: once Olga sees a pose Gus sent after the update, she has every STATE of
    # the ticks before it (a cup reset by the reload would be in one of them).
    gus = await join(http, live_server, "gus", "room")
    await gus.pose(gus.spawn_head(), ts=2)
    await olga.until(
        lambda m: m[0] == MsgType.STATE and gus.id in olga.mirror.entities and olga.mirror.entities[gus.id].ts == 2
    )
    assert olga.mirror.entities[cup].position == pytest.approx((1.0, 1.2, 1.0), abs=6e-4)  # ...and state
    assert not olga.ws.closed


async def test_a_broken_save_keeps_the_last_good_world_and_tells_the_owner(
    live_server: ServerProcess, worlds: Path, http: aiohttp.ClientSession
) -> None:
    olga = await join(http, live_server, "olga", "room", await account(http, live_server, "olga"))
    guest = await join(http, live_server, "guest", "room")
    (worlds / "room.toml").write_text(ROOM.replace("COLOR", "#ffffff").replace('shape = "sphere"', 'shape = "spehre"'))
    notice = await olga.until(lambda m: m[0] == MsgType.NOTICE, timeout=3.0)
    assert notice[1] == NoticeKind.WORLD_FILE_ERROR
    assert "room.toml:" in notice[2] and "spehre" in notice[2]
    async with http.get(live_server.url + "/api/worlds/room") as r:
        assert r.status == 200  # still served
    await guest.send([MsgType.PING, 2])
    pong = await guest.until(lambda m: m[0] == MsgType.PONG)
    assert pong[1] == 2 and not any(m[0] == MsgType.NOTICE for m in guest.inbox)


async def test_new_files_add_worlds_and_deleted_ones_send_people_to_the_lobby(
    live_server: ServerProcess, worlds: Path, http: aiohttp.ClientSession
) -> None:
    (worlds / "annex.toml").write_text(ROOM.replace('"room"', '"annex"').replace("COLOR", "#00ff00"))

    async def listed() -> bool:
        async with http.get(live_server.url + "/api/worlds") as r:
            return "annex" in {w["id"] for w in await r.json()}

    await eventually(listed, timeout=4.0, interval=0.1, what="the new world in /api/worlds")
    visitor: Client = await join(http, live_server, "vi", "annex")
    (worlds / "annex.toml").unlink()
    welcome = await visitor.until(lambda m: m[0] == MsgType.WELCOME, timeout=3.0)
    assert welcome[1]["world"] == "lobby"
    assert any(m[0] == MsgType.NOTICE and "annex" in m[2] for m in visitor.inbox)
    assert not visitor.ws.closed  # moved, not disconnected
