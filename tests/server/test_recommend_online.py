"""The running server's recommender learns online and never suggests where you are.

(Forgetting on DELETE /api/me/data: tests/server/test_account_api.py over HTTP and
tests/recommend/test_recommend_truth.py against a model trained without the person.)"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from server.protocol import MsgType
from tests.serverproc import ServerProcess
from tests.waiting import eventually
from tests.wsclient import join

STAY_S = 31.0  # a stay under 30 s counts as a misclick (server/recommend/signals.py VISIT_FLOOR_S)


async def recs(http: aiohttp.ClientSession, srv: ServerProcess, headers: dict[str, str], q: str = "") -> list[Any]:
    async with http.get(srv.url + "/api/recommendations" + q, headers=headers) as r:
        assert r.status == 200, await r.text()
        items: list[Any] = (await r.json())["items"]
        return items


async def test_a_visit_changes_the_next_suggestions_within_seconds(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    ada = await join(http, server, "Ada", "lobby")
    headers = {"X-Plaza-Session": ada.welcome["session"]}
    first = await eventually(lambda: recs(http, server, headers), what="the first fit")
    assert all("content" not in i["components"] for i in first)  # a newcomer: nothing personal yet
    await ada.send([MsgType.TRAVEL, "gallery"])
    await ada.until(lambda m: m[0] == MsgType.WELCOME)
    in_gallery = await recs(http, server, headers)
    assert "gallery" not in [i["id"] for i in in_gallery]  # never the world you are in
    await asyncio.sleep(STAY_S)  # the stay itself (not a condition): what is measured starts when it ends
    await ada.send([MsgType.TRAVEL, "lobby"])
    await ada.until(lambda m: m[0] == MsgType.WELCOME)
    left = time.monotonic()

    async def personal() -> list[Any] | None:
        items = await recs(http, server, headers)
        return items if any("content" in i["components"] for i in items) else None

    items = await eventually(personal, timeout=15, interval=0.2, what="suggestions learnt from the stay")
    assert time.monotonic() - left < 15
    assert any(i["reason"].startswith("Because you visited") for i in items), [i["reason"] for i in items]
    assert "lobby" not in [i["id"] for i in items]  # where Ada is now


async def test_limit_zero_is_an_empty_list(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    async with http.get(server.url + "/api/recommendations?limit=0") as r:
        assert r.status == 200 and (await r.json())["items"] == []
    async with http.get(server.url + "/api/recommendations?limit=51") as r:
        assert r.status == 400
