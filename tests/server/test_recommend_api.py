"""Recommendations over HTTP and the protocol, signal logging, and the privacy endpoints."""

from __future__ import annotations

import asyncio

import aiohttp

from server.protocol import MsgType
from tests.serverproc import ServerProcess
from tests.wsclient import join

JSON = {"Content-Type": "application/json"}


async def test_visits_are_logged_exported_and_deleted(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    ada = await join(http, server, "Ada", "gallery")
    await ada.send([MsgType.TRAVEL, "lobby"])  # leaving the gallery ends a visit
    welcome = await ada.until(lambda m: m[0] == MsgType.WELCOME)
    headers = {"X-Plaza-Session": welcome[1]["session"]}
    await asyncio.sleep(1.5)  # write-behind flush
    async with http.get(server.url + "/api/me/export", headers=headers) as r:
        data = await r.json()
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
    for _ in range(50):  # the model fits in the background after start
        async with http.get(server.url + "/api/recommendations?limit=8", headers=headers) as r:
            body = await r.json()
        if body["items"]:
            break
        await asyncio.sleep(0.2)
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
