"""Spec: a crash (kill -9 of a real server) loses at most about one write-behind period of
changes — also for an object still held and moving — and a moderator's removal, once people
saw it, is never undone by a crash."""

from __future__ import annotations

import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from server.protocol import MsgType
from tests.serverproc import REPO, ServerProcess
from tests.waiting import eventually
from tests.worldfiles import LOBBY, club_world, world_dir
from tests.wsclient import IDENT, account, grabbable, join


def stored_position(srv: ServerProcess, world: str, object_id: str) -> tuple[float, ...] | None:
    """Where the server's plaza.sqlite3 has ``object_id`` now: what a crash would keep."""
    db = sqlite3.connect(f"file:{srv.data_dir / 'plaza.sqlite3'}?mode=ro", uri=True)
    try:
        row = db.execute(
            "SELECT px, py, pz FROM object_state WHERE world = ? AND object = ?", (world, object_id)
        ).fetchone()
    finally:
        db.close()
    return tuple(row) if row else None


def crash(srv: ServerProcess) -> None:
    assert srv.proc is not None
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(10)


async def test_a_held_object_keeps_where_it_was_carried_after_kill_9(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    srv = ServerProcess.in_dir(tmp_path, REPO / "worlds")
    try:
        a = await join(http, srv, "Ada")
        oid, eid, _ = grabbable(a)
        x, y, z = a.spawn_head()
        await a.pose((x, y, z))
        await a.send([MsgType.GRAB, eid])
        assert (await a.until(lambda m: m[0] == MsgType.GRAB_RESULT))[1:] == [eid, True, 0]
        target = [x + 0.4, 1.2, z - 0.4]
        await a.send([MsgType.OBJECT_MOVE, eid, [*target, *IDENT]])  # still held: never released

        def saved() -> bool:
            return stored_position(srv, "lobby", oid) == pytest.approx(tuple(target), abs=1e-3)

        await eventually(saved, timeout=5.0, what="the carried pose in plaza.sqlite3 (a write-behind flush)")
        crash(srv)
        srv.start()
        c = await join(http, srv, "Cy")
        eid2 = c.welcome["objects"][oid]
        await c.pose(c.spawn_head())
        await c.until(lambda m: m[0] == MsgType.STATE and eid2 in c.mirror.entities)
        assert c.mirror.entities[eid2].position == pytest.approx(tuple(target), abs=6e-4)
    finally:
        srv.stop()


async def test_a_removal_people_saw_survives_kill_9(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    worlds = world_dir(tmp_path, {"lobby": LOBBY, "club": club_world(datetime.now(UTC) - timedelta(minutes=10))})
    srv = ServerProcess.in_dir(tmp_path, worlds)
    try:
        mira = await join(http, srv, "mira", "club", await account(http, srv, "mira"))
        eid = mira.welcome["objects"]["speaker"]
        await mira.send([MsgType.TELEPORT, [0, 0, -23]])
        await mira.pose((0, 1.6, -23))
        await mira.until(lambda m: m[0] == MsgType.STATE and eid in mira.mirror.entities)
        await mira.send([MsgType.MODERATE, "remove_object", eid, {"reason": "broken"}])
        await mira.until(lambda m: m[0] == MsgType.STATE and eid not in mira.mirror.entities)
        crash(srv)  # right after the moderator saw it go
        srv.start()
        again = await join(http, srv, "mira", "club", await account_token(http, srv))
        assert "speaker" not in again.welcome["objects"]
    finally:
        srv.stop()


async def account_token(http: aiohttp.ClientSession, srv: ServerProcess) -> str:
    async with http.post(srv.url + "/api/signin", json={"user": "mira", "password": "correct horse"}) as r:
        return str((await r.json())["token"])
