"""Plaza's control client of Janus' HTTP API (VideoRoom plugin): the only I/O of room control.

Plaza opens one Janus session with one VideoRoom handle and sends synchronous plugin
requests on it (create, allowed, kick, moderate, listparticipants, destroy). A keepalive
every 20 s holds the session (Janus drops it after ``session_timeout``, 60 s in our config).
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

import aiohttp


class JanusError(Exception):
    """Janus answered with an error (or not at all)."""


class JanusControl:
    def __init__(self, url: str, admin_key: str, http: aiohttp.ClientSession) -> None:
        self.url = url.rstrip("/")
        self.admin_key = admin_key
        self.http = http
        self.session: int | None = None
        self.handle: int | None = None

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(6)}
        try:
            async with self.http.post(self.url + path, json=body, timeout=aiohttp.ClientTimeout(total=5)) as r:
                out: dict[str, Any] = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise JanusError(f"{self.url}: {type(e).__name__}: {e}") from None
        if out.get("janus") == "error":
            err = out.get("error", {})
            raise JanusError(f"janus error {err.get('code')}: {err.get('reason')}")
        return out

    async def info(self) -> dict[str, Any]:
        try:
            async with self.http.get(self.url + "/info", timeout=aiohttp.ClientTimeout(total=3)) as r:
                out: dict[str, Any] = await r.json(content_type=None)
                return out
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise JanusError(f"{self.url}/info: {type(e).__name__}: {e}") from None

    async def connect(self) -> None:
        self.session = int((await self._post("", {"janus": "create"}))["data"]["id"])
        out = await self._post(f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})
        self.handle = int(out["data"]["id"])

    async def keepalive(self) -> None:
        if self.session is not None:
            await self._post(f"/{self.session}", {"janus": "keepalive"})

    async def close(self) -> None:
        if self.session is not None:
            with contextlib.suppress(JanusError):
                await self._post(f"/{self.session}", {"janus": "destroy"})
            self.session = self.handle = None

    async def request(self, **body: Any) -> dict[str, Any]:
        """One synchronous VideoRoom request; its ``plugindata.data``. Raises JanusError."""
        if self.session is None:
            await self.connect()
        out = await self._post(f"/{self.session}/{self.handle}", {"janus": "message", "body": body})
        data: dict[str, Any] = out.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise JanusError(f"videoroom error {data.get('error_code')}: {data['error']}")
        return data

    # ----- the requests Plaza uses ------------------------------------------------------------
    async def create_room(self, room: int, secret: str, pin: str, publishers: int) -> None:
        await self.request(
            request="create", admin_key=self.admin_key, room=room, secret=secret, pin=pin, is_private=True,
            publishers=publishers, audiocodec="opus", videocodec="vp8", require_pvtid=True, allowed=[],
            audiolevel_event=False, notify_joining=False,
        )  # fmt: skip

    async def destroy_room(self, room: int, secret: str) -> None:
        await self.request(request="destroy", room=room, secret=secret)

    async def allowed(self, room: int, secret: str, token: str, add: bool) -> None:
        await self.request(request="allowed", room=room, secret=secret, action="add" if add else "remove",
                           allowed=[token])  # fmt: skip

    async def kick(self, room: int, secret: str, feed: int) -> None:
        await self.request(request="kick", room=room, secret=secret, id=feed)

    async def moderate(self, room: int, secret: str, feed: int, mute: bool) -> None:
        # Janus 1.x: per stream (mid); an audio-only publisher's one stream is mid "0".
        await self.request(request="moderate", room=room, secret=secret, id=feed, mid="0", mute=mute)

    async def participants(self, room: int) -> dict[int, bool] | None:
        """feed id -> publishing; None when the room does not exist (Janus restarted)."""
        try:
            data = await self.request(request="listparticipants", room=room)
        except JanusError as e:
            if "426" in str(e) or "No such room" in str(e):
                return None
            raise
        return {int(p["id"]): bool(p.get("publisher")) for p in data.get("participants", [])}
