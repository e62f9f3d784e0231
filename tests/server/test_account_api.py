"""Spec: a person manages their own account over HTTP — change the password, sign out
everywhere, delete the account — with the account's own token (a connection's session id is
not enough), and only the right people revoke invites."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import aiohttp

from server.hosting.admin import create_account
from server.recommend.signals import Visit
from server.storage import SQLiteStorage
from tests.serverproc import REPO, ServerProcess, free_port
from tests.waiting import eventually
from tests.wsclient import account, join


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_password_change_and_sign_out_everywhere_end_old_tokens(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    old = await account(http, server, "nia")
    other_device = await account_sign_in(http, server, "nia", "correct horse")
    body = {"old_password": "wrong one", "new_password": "a new secret"}
    async with http.post(server.url + "/api/me/password", json=body, headers=bearer(old)) as r:
        assert r.status == 401
    body = {"old_password": "correct horse", "new_password": "a new secret"}
    async with http.post(server.url + "/api/me/password", json=body, headers=bearer(old)) as r:
        assert r.status == 200
        fresh = (await r.json())["token"]
    for stale in (old, other_device):
        async with http.get(server.url + "/api/me/export", headers=bearer(stale)) as r:
            assert r.status == 401, "a token from before the change must stop working"
    assert await account_sign_in(http, server, "nia", "a new secret")
    # A connection's session id may read your data but not act on the account itself.
    ws = await join(http, server, "nia", "lobby", fresh)
    session = {"X-Plaza-Session": ws.welcome["session"]}
    async with http.post(server.url + "/api/me/signout-everywhere", headers=session) as r:
        assert r.status == 401
    async with http.post(server.url + "/api/me/signout-everywhere", headers=bearer(fresh)) as r:
        assert r.status == 200
    async with http.get(server.url + "/api/me/export", headers=bearer(fresh)) as r:
        assert r.status == 401
    await ws.ws.close()


async def test_deleting_an_account_needs_its_password_and_ends_sign_in(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    token = await account(http, server, "oma")
    async with http.delete(server.url + "/api/me/data", headers=bearer(token)) as r:
        assert r.status == 401 and (await r.json())["error"] == "password_required"
    async with http.delete(server.url + "/api/me/data", json={"password": "correct horse"}, headers=bearer(token)) as r:
        body = await r.json()
        assert r.status == 200 and body["user"] == "a:oma" and "90 days" in body["kept"]
    async with http.post(server.url + "/api/signin", json={"user": "oma", "password": "correct horse"}) as r:
        assert r.status == 401


async def test_only_the_inviter_or_a_moderator_revokes_an_invite(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    owner = await account(http, server, "kofi")  # the lobby's owner in the bundled world files
    async with http.post(server.url + "/api/worlds/lobby/invites", json={"hours": 1}, headers=bearer(owner)) as r:
        assert r.status == 201, await r.text()
        invite = (await r.json())["invite"]
    # The invite's id is readable from the link (base64 JSON payload), as anyone holding it sees.
    invite_id = json.loads(base64.urlsafe_b64decode(invite.split(".")[1] + "=="))[0]
    stranger = await account(http, server, "rando")
    async with http.delete(server.url + f"/api/invites/{invite_id}", headers=bearer(stranger)) as r:
        assert r.status == 403, await r.text()
    async with http.delete(server.url + f"/api/invites/{invite_id}", headers=bearer(owner)) as r:
        assert r.status == 200 and (await r.json())["revoked"] is True


async def account_sign_in(http: aiohttp.ClientSession, srv: ServerProcess, user: str, password: str) -> str:
    async with http.post(srv.url + "/api/signin", json={"user": user, "password": password}) as r:
        assert r.status == 200, await r.text()
        return str((await r.json())["token"])


async def test_after_deleting_your_data_suggestions_forget_your_history(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    create_account(data, REPO / "worlds", "pia", "correct horse")
    now = time.time()
    storage = SQLiteStorage(data / "plaza.sqlite3")  # a regular of the gallery, before the server starts
    storage.log_visits([(Visit("a:pia", "gallery", "gallery#1", now - d * 86400, now - d * 86400 + 1800), 0)
                        for d in range(1, 9)])  # fmt: skip
    storage.close()
    srv = ServerProcess(free_port(), data, REPO / "worlds").start()
    try:
        token = await account_sign_in(http, srv, "pia", "correct horse")

        async def personal() -> list[str]:
            """Reasons that come from this person's own history (habits, regular spaces)."""
            async with http.get(srv.url + "/api/recommendations?limit=50", headers=bearer(token)) as r:
                items = (await r.json())["items"]
            return [str(i["reason"]) for i in items if any(w in str(i["reason"]) for w in ("often around", "regular"))]

        assert await eventually(personal, timeout=20)  # the model fits in the background after start
        gone = {"password": "correct horse"}
        async with http.delete(srv.url + "/api/me/data", json=gone, headers=bearer(token)) as r:
            assert r.status == 200
        # Someone registers the freed name: same user key, none of the old history.
        token = await account(http, srv, "pia")
        assert await personal() == []
    finally:
        srv.stop()
