"""Recommendations over HTTP and the protocol, signal logging, and the privacy endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp

from server.protocol import MsgType
from tests.serverproc import ServerProcess
from tests.waiting import eventually
from tests.wsclient import join

JSON = {"Content-Type": "application/json"}


async def test_visits_are_logged_exported_and_deleted(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    ada = await join(http, server, "Ada", "gallery")
    await ada.send([MsgType.TRAVEL, "lobby"])  # leaving the gallery ends a visit
    welcome = await ada.until(lambda m: m[0] == MsgType.WELCOME)
    headers = {"X-Plaza-Session": welcome[1]["session"]}

    async def exported() -> dict[str, Any] | None:
        async with http.get(server.url + "/api/me/export", headers=headers) as r:
            data: dict[str, Any] = await r.json()
        return data if data["signals"]["visits"] else None

    data = await eventually(exported, what="the visit in the export (the next write-behind flush)")
    assert data["user"] == welcome[1]["user"] and data["user"].startswith("g:")  # a guest id, not the name
    signals = data["signals"]
    assert [v["world"] for v in signals["visits"]] == ["gallery"]
    assert "chat" not in str(signals["visits"][0]).replace("chat_count", "")  # counts, never content
    async with http.delete(server.url + "/api/me/data", headers=headers) as r:
        assert (await r.json())["deleted_rows"] >= 1
    async with http.get(server.url + "/api/me/export", headers=headers) as r:
        assert (await r.json())["signals"]["visits"] == []


async def test_recommendations_have_reasons_and_skip_where_you_just_were(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    ada = await join(http, server, "Ada", "gallery")
    await ada.send([MsgType.TRAVEL, "lobby"])
    welcome = await ada.until(lambda m: m[0] == MsgType.WELCOME)
    headers = {"X-Plaza-Session": welcome[1]["session"]}

    async def recommended() -> dict[str, Any] | None:
        async with http.get(server.url + "/api/recommendations?limit=8", headers=headers) as r:
            body: dict[str, Any] = await r.json()
        return body if body["items"] else None

    body = await eventually(recommended, interval=0.2, what="recommendations (the model fits after start)")
    assert body["user"] == welcome[1]["user"]
    items = body["items"]
    assert 1 <= len(items) <= 8
    assert all(i["reason"] and i["kind"] in ("space", "event") and i["components"] for i in items)
    assert "gallery" not in [i["id"] for i in items]  # the world just left is not suggested back
    # ...and the same arrives pushed over the socket.
    pushed = await ada.until(lambda m: m[0] == MsgType.SUGGESTIONS, timeout=10)
    assert pushed[1] and all(s["reason"] for s in pushed[1])


async def test_follow_and_like_need_a_known_caller(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    async with http.post(server.url + "/api/follow", json={"name": "Bo"}) as r:
        assert r.status == 401 and (await r.json())["error"] == "unknown_user"
    ada = await join(http, server, "Ada")
    bo = await join(http, server, "Bo")
    headers = {"X-Plaza-Session": ada.welcome["session"]}
    async with http.post(server.url + "/api/follow", json={"name": "Nobody"}, headers=headers) as r:
        assert r.status == 404
    async with http.post(server.url + "/api/follow", json={"name": "Bo"}, headers=headers) as r:
        assert (await r.json())["follows"] == [bo.welcome["user"]]
    async with http.post(server.url + "/api/follow", data=b"{nope", headers=headers | JSON) as r:
        assert r.status == 400 and (await r.json())["error"] == "bad_json"
    async with http.post(server.url + "/api/likes", json={"item": "gallery"}, headers=headers) as r:
        assert (await r.json())["liked"] is True
    async with http.get(server.url + "/api/recommendations?limit=zero") as r:
        assert r.status == 400
    async with http.get(server.url + "/api/me/export", headers=headers) as r:
        data = await r.json()
    assert data["signals"]["follows"] == [bo.welcome["user"]] and data["signals"]["likes"][0]["item"] == "gallery"


async def test_events_are_the_same_list_with_one_time_format_everywhere(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    ada = await join(http, server, "Ada", "lobby")
    in_welcome = ada.welcome["events"]
    async with http.get(server.url + "/api/events?world=lobby") as r:
        listed = await r.json()
    assert in_welcome, "the bundled lobby has scheduled events"
    assert {e["key"] for e in listed} == {e["key"] for e in in_welcome}
    async with http.get(server.url + "/api/worlds/lobby") as r:
        in_world = (await r.json())["events"]
    for e in [*listed, *in_welcome, *in_world]:
        assert datetime.fromisoformat(e["start"]).tzinfo is not None and isinstance(e["live"], bool)
    await ada.ws.close()
