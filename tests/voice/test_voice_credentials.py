"""Who may enter a voice room: only the holder of a fresh credential, as its own publisher,
in its own instance's room. Driven from Python over Janus' JSON API through Plaza's /janus
(no media needed to prove a refusal)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.protocol import ErrorCode, MsgType
from tests.serverproc import ANY_PORT, ServerProcess
from tests.voice.conftest import voice_toml
from tests.waiting import eventually
from tests.worldfiles import LOBBY, world_dir
from tests.wsclient import Client, join


class Probe:
    """A Janus API client as a browser would be, through Plaza's /janus."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.url = http, base + "/janus"
        self.events: list[dict[str, Any]] = []

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(self.url + path, json={**body, "transaction": secrets.token_hex(4)}) as r:
            out: dict[str, Any] = await r.json(content_type=None)
            return out

    async def open(self) -> Probe:
        self.session = (await self.post("", {"janus": "create"}))["data"]["id"]
        self.handle = (await self.post(f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"}))[
            "data"
        ]["id"]
        return self

    async def request(self, **body: Any) -> dict[str, Any]:
        """An asynchronous VideoRoom request (join): its event's plugin data."""
        out = await self.post(f"/{self.session}/{self.handle}", {"janus": "message", "body": body})
        assert out["janus"] == "ack", out
        for _ in range(20):
            async with self.http.get(f"{self.url}/{self.session}?maxev=5") as r:
                evs = await r.json(content_type=None)
            for ev in evs if isinstance(evs, list) else [evs]:
                self.events.append(ev)
                if ev.get("transaction") == out["transaction"]:
                    data: dict[str, Any] = ev["plugindata"]["data"]
                    return data
        raise AssertionError("no answer")

    async def poll(self) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.url}/{self.session}?maxev=5") as r:
            evs = await r.json(content_type=None)
        got = evs if isinstance(evs, list) else [evs]
        self.events += got
        return got


async def credential(c: Client) -> dict[str, Any]:
    await c.send([MsgType.VOICE_JOIN, {}])
    m = await c.until(lambda m: m[0] == MsgType.VOICE_CREDENTIAL, timeout=5)
    return dict(m[1])


def publisher_join(cred: dict[str, Any], **override: Any) -> dict[str, Any]:
    body = {"request": "join", "ptype": "publisher", "room": cred["room"], "pin": cred["pin"],
            "token": cred["token"], "id": cred["id"], "display": cred["display"]}  # fmt: skip
    return {**body, **override}


async def test_a_credential_admits_its_holder_once(voice_server: ServerProcess, http: aiohttp.ClientSession) -> None:
    c = await join(http, voice_server, "una")
    assert c.welcome["voice"] == {"available": True}
    cred = await credential(c)
    assert cred["url"] == "/janus" and cred["display"] == str(c.id) and cred["instance"] == "lobby#1"
    p = await Probe(http, voice_server.url).open()
    joined = await p.request(**publisher_join(cred))
    assert joined.get("videoroom") == "joined" and joined["id"] == cred["id"], joined

    # Spent: once Plaza has seen the join, the same token admits nobody else.
    async def refused() -> bool:
        q = await Probe(http, voice_server.url).open()  # (a kicked handle is unusable: a new one each time)
        out = await q.request(**publisher_join(cred, id=cred["id"] + 1))
        return "not in the allowed list" in str(out.get("error"))

    await eventually(refused, timeout=5, what="the spent token refused")


async def test_forged_tokens_and_strangers_are_refused(
    voice_server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    c = await join(http, voice_server, "vic")
    cred = await credential(c)
    p = await Probe(http, voice_server.url).open()
    out = await p.request(**publisher_join(cred, token="forged-" + secrets.token_urlsafe(8)))
    assert out.get("error_code") and "not in the allowed list" in out["error"], out
    # (Knowing room and pin is not enough to listen either: test_voice_browser.py, a publishing feed.)
    # A valid token with an id of one's own choosing: in for a moment, then kicked by Plaza.
    out = await p.request(**publisher_join(cred, id=cred["id"] + 7))
    assert out.get("videoroom") == "joined", out

    async def kicked() -> bool:
        await p.poll()
        return any(e.get("plugindata", {}).get("data", {}).get("reason") == "kicked" or e.get("janus") == "hangup"
                   for e in p.events)  # fmt: skip

    await eventually(kicked, timeout=5, what="the stranger kicked")


async def test_another_instances_room_refuses_my_token(
    voice_server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    here = await join(http, voice_server, "wes", "lobby")
    there = await join(http, voice_server, "xia", "field")
    mine, theirs = await credential(here), await credential(there)
    assert mine["room"] != theirs["room"]
    p = await Probe(http, voice_server.url).open()
    out = await p.request(**publisher_join(theirs, token=mine["token"], id=mine["id"]))
    assert "not in the allowed list" in str(out.get("error")), out


async def test_an_unused_credential_expires(voice_server: ServerProcess, http: aiohttp.ClientSession) -> None:
    c = await join(http, voice_server, "yan")
    cred = await credential(c)
    assert cred["expires_s"] == 3.0
    err = await c.until(lambda m: m[0] == MsgType.ERROR and m[1] == ErrorCode.VOICE_EXPIRED, timeout=8)
    assert "VOICE_JOIN again" in err[2]
    p = await Probe(http, voice_server.url).open()
    out = await p.request(**publisher_join(cred))
    assert "not in the allowed list" in str(out.get("error")), out


async def test_leaving_revokes_the_credential(voice_server: ServerProcess, http: aiohttp.ClientSession) -> None:
    c = await join(http, voice_server, "zed")
    cred = await credential(c)
    await c.ws.close()

    async def refused() -> bool:
        p = await Probe(http, voice_server.url).open()
        out = await p.request(**publisher_join(cred))
        return "not in the allowed list" in str(out.get("error"))

    await eventually(refused, timeout=5, what="the leaver's token refused")


@pytest.mark.parametrize(
    ("msg", "text"),
    [
        ([MsgType.VOICE, {"muted": "yes"}], "muted: expected true or false"),
        ([MsgType.VOICE, {"loud": True}], "unknown keys"),
        ([MsgType.VOICE], "expected [14, {...}]"),
        ([MsgType.VOICE_JOIN, {"room": 1}], "the map must be empty"),
        ([MsgType.VOICE_JOIN, [1]], "must be a map"),
    ],
)
async def test_bad_voice_messages_get_precise_errors(
    voice_server: ServerProcess, http: aiohttp.ClientSession, msg: list[Any], text: str
) -> None:
    c = await join(http, voice_server, "bad")
    await c.send(msg)
    err = await c.until(lambda m: m[0] == MsgType.ERROR)
    assert err[1] == ErrorCode.BAD_FIELD and text in err[2] and err[3] == msg[0], err
    await c.send([MsgType.PING, 1.0])  # the session goes on
    await c.until(lambda m: m[0] == MsgType.PONG)


async def test_without_a_media_server_plaza_runs_and_says_so(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    worlds = world_dir(tmp_path, {"lobby": LOBBY})
    data = tmp_path / "data"
    data.mkdir()
    (data / "plaza.toml").write_text(voice_toml(tmp_path / "no-such-janus"))
    srv = ServerProcess(ANY_PORT, data, worlds, extra_args=("--no-recommender",)).start()
    try:
        c = await join(http, srv, "nova")
        assert c.welcome["voice"] == {"available": False}
        await c.send([MsgType.VOICE_JOIN, {}])
        err = await c.until(lambda m: m[0] == MsgType.ERROR)
        assert err[1] == ErrorCode.VOICE_UNAVAILABLE and "no-such-janus not found" in err[2], err
        async with http.post(srv.url + "/janus", data=b"{}") as r:
            assert r.status == 503 and (await r.json())["error"] == "voice_unavailable"
        await asyncio.sleep(0)  # the world still works:
        await c.send([MsgType.PING, 2.0])
        await c.until(lambda m: m[0] == MsgType.PONG)
    finally:
        srv.stop()
