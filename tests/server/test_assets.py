"""Generated assets through the real server with the shipped model: the HTTP job API, immutable
GLB URLs, world-file placeholders filled live, and /generate making an object for everyone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from genmodels.api import DEFAULT_CHECKPOINT
from server.protocol import ErrorCode, MsgType
from tests.serverproc import ServerProcess
from tests.waiting import eventually
from tests.worldfiles import LOBBY, world_dir
from tests.wsclient import account, join

pytestmark = pytest.mark.skipif(not DEFAULT_CHECKPOINT.is_file(), reason="no shipped genmodels checkpoint")

ROOM = (
    LOBBY
    + """
[[objects]]
id = "rock"
generate = "a mossy boulder"
position = [2, 0.5, -2]
"""
)


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[ServerProcess]:
    s = ServerProcess.in_dir(tmp_path, world_dir(tmp_path, {"lobby": ROOM}), generate=True)
    yield s
    s.stop()


async def test_generation_end_to_end(srv: ServerProcess, http: aiohttp.ClientSession) -> None:
    guest = await join(http, srv, "Guest")
    # The world file's placeholder is generated at start and swapped in live.
    info = guest.welcome["world_info"]
    rock = next(o for o in info["objects"] if o["id"] == "rock")
    if rock["generate"]["status"] != "ready":
        update = await guest.until(lambda m: m[0] == MsgType.WORLD_UPDATE, timeout=60)
        rock = next(o for o in update[1]["objects"] if o["id"] == "rock")
    assert rock["generate"]["status"] == "ready" and rock["generate"]["url"].startswith("/assets/gen/")
    async with http.get(srv.url + rock["generate"]["url"]) as r:
        assert r.status == 200 and "immutable" in r.headers["Cache-Control"]
        assert (await r.read())[:4] == b"glTF"

    # Guests may not spawn generated objects; members may, and everyone sees them.
    await guest.send([MsgType.CHAT, "/generate a tall pine tree"])
    assert (await guest.until(lambda m: m[0] == MsgType.ERROR))[1] == ErrorCode.FORBIDDEN
    maker_token = await account(http, srv, "maker")
    maker = await join(http, srv, "maker", "lobby", maker_token)
    await maker.pose(maker.spawn_head())
    await maker.send([MsgType.CHAT, "/generate a tall pine tree"])

    def spawned() -> bool:
        return any(e.info.get("label") == "a tall pine tree" for e in guest.mirror.entities.values())

    await guest.pose(guest.spawn_head())
    await guest.until(lambda m: m[0] == MsgType.STATE and spawned(), timeout=60)
    tree = next(e for e in guest.mirror.entities.values() if e.info.get("label") == "a tall pine tree")
    assert str(tree.info["model"]).startswith("/assets/gen/")

    # The HTTP API: submit, poll, fetch; bad prompts get a clear error.
    async with http.post(srv.url + "/api/assets", json={"prompt": "a glowing crystal"}) as r:
        assert r.status == 401  # no token: generating needs an account
    async with http.post(srv.url + "/api/guest", json={"name": "Gus"}) as r:
        guest_auth = {"Authorization": f"Bearer {(await r.json())['token']}"}
    async with http.post(srv.url + "/api/assets", json={"prompt": "a glowing crystal"}, headers=guest_auth) as r:
        assert r.status == 403 and (await r.json())["error"] == "permission_denied"
    auth = {"Authorization": f"Bearer {maker_token}"}
    async with http.post(srv.url + "/api/assets", json={"prompt": ""}, headers=auth) as r:
        assert r.status == 400
    async with http.post(srv.url + "/api/assets", json={"prompt": "a glowing crystal", "seed": 3}, headers=auth) as r:
        assert r.status == 202
        job = (await r.json())["job"]

    async def finished() -> dict[str, Any] | None:
        async with http.get(srv.url + f"/api/assets/jobs/{job}") as r:
            st: dict[str, Any] = await r.json()
        return st if st["state"] in ("done", "failed", "timeout") else None

    st = await eventually(finished, timeout=60, interval=0.5, what=f"asset job {job} to finish")
    assert st["state"] == "done" and st["triangles"] > 0, st
    async with http.get(srv.url + "/api/assets/jobs/nope") as r:
        assert r.status == 404

    # What people made stays: after a restart the tree is where it was, for a newcomer too.
    for c in (guest, maker):
        await c.ws.close()
    srv.stop()  # graceful: the write-behind buffer is flushed
    srv.start()
    late = await join(http, srv, "Late")
    await late.pose(late.spawn_head())

    def tree_back() -> bool:
        return any(e.info.get("label") == "a tall pine tree" for e in late.mirror.entities.values())

    await late.until(lambda m: m[0] == MsgType.STATE and tree_back(), timeout=30)
    back = next(e for e in late.mirror.entities.values() if e.info.get("label") == "a tall pine tree")
    assert back.info["model"] == tree.info["model"]
    assert back.position == pytest.approx(tree.position, abs=1e-3)
    async with http.get(srv.url + str(back.info["model"])) as r:
        assert r.status == 200
