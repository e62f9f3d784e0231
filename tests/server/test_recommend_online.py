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
    # The stay is the reason given: the Gallery itself, or (while one of its events is on, which
    # depends on the hour the test runs) its events, "at The Gallery, a world you enjoy".
    learnt = ("Because you visited The Gallery", "At The Gallery, a world you enjoy")
    assert any(i["reason"].startswith(learnt) for i in items), [i["reason"] for i in items]
    assert "lobby" not in [i["id"] for i in items]  # where Ada is now


async def test_limit_zero_is_an_empty_list(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    async with http.get(server.url + "/api/recommendations?limit=0") as r:
        assert r.status == 200 and (await r.json())["items"] == []
    async with http.get(server.url + "/api/recommendations?limit=51") as r:
        assert r.status == 400


async def answers(http: aiohttp.ClientSession, srv: ServerProcess, source: str) -> float:
    async with http.get(srv.url + "/metrics") as r:
        text = await r.text()
    name = f'plaza_recommender_answers_total{{source="{source}"}}'
    line = next((ln for ln in text.splitlines() if ln.startswith(name)), None)
    return float(line.split()[-1]) if line else 0.0


async def test_asking_again_reuses_the_answer_until_what_it_depends_on_changes(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    ada = await join(http, server, "Ada", "lobby")
    bo = await join(http, server, "Bo", "lobby")
    headers = {"X-Plaza-Session": ada.welcome["session"]}
    async with http.post(server.url + "/api/follow", json={"name": "Bo"}, headers=headers) as r:
        assert r.status == 200
    await eventually(lambda: recs(http, server, headers), what="the first fit")

    # Asked twice with nothing changed: the second is the stored answer, the same list.
    async def asked_twice() -> bool:
        stored = await answers(http, server, "stored")
        a, b = await recs(http, server, headers), await recs(http, server, headers)
        return a == b and await answers(http, server, "stored") > stored

    await eventually(asked_twice, timeout=10, what="a repeated ask answered from the stored answer")

    async def friend_in(world: str) -> bool:
        items = await recs(http, server, headers)
        return any(i["id"] == world and "a friend is here" in i["reason"].lower() for i in items)

    # Once the follow has reached the model, Bo's whereabouts show in Ada's suggestions...
    await bo.send([MsgType.TRAVEL, "forest-park"])
    await bo.until(lambda m: m[0] == MsgType.WELCOME)
    await eventually(lambda: friend_in("forest-park"), timeout=15, what="the follow learnt")
    # ...and when Bo moves on, Ada's very next ask says so: the live context changed, so the
    # stored answer (still young, same model) is not used.
    await bo.send([MsgType.TRAVEL, "gallery"])
    await bo.until(lambda m: m[0] == MsgType.WELCOME)
    assert await friend_in("gallery")
    assert not await friend_in("forest-park")
