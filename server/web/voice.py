"""Voice at the edge: the media server's life (cleanup context), Plaza's room control loop,
and ``/janus``, a byte-for-byte proxy of Janus' client API on Plaza's own origin.

The proxy is why browsers need no second origin, certificate or CSP entry: with ``--https``
the voice API is as secure as the page. Only the shape of Janus' client API passes
(``/janus``, ``/janus/<session>``, ``/janus/<session>/<handle>``, ``/janus/info``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from server.voice.core import Allow, CreateRoom, DestroyRoom, Kick, ListParticipants, Mute, Op, VoiceCore
from server.voice.janus import JanusControl, JanusError
from server.voice.supervisor import Janus, start_janus, stop_janus
from server.web.api import ApiError
from server.web.edge import now_ms
from server.web.keys import CONFIG, DUTIES, EDGE, HUB

log = logging.getLogger("plaza.voice")

SYNC_EVERY_S = 0.1  # leave, kick, ban and moderator mute reach the media server within this (+ a request)
LIST_EVERY = 2  # participants are listed every 2nd sync (5 Hz): strangers and new publishers
KEEPALIVE_EVERY_S = 20.0
PROXY_MAX_BYTES = 256 * 1024  # an SDP offer with every candidate is a few KiB
PROXY_TIMEOUT_S = 65.0  # Janus holds a long-poll GET for up to 30 s
_PATH = re.compile(r"(/info|(/[0-9]{1,20}){0,2})")


@dataclass(slots=True)
class VoiceRuntime:
    """What is known about voice in this process; ``url`` None: voice is unavailable."""

    url: str | None = None  # Janus' HTTP API as Plaza reaches it
    reason: str = ""  # why voice is unavailable
    janus: Janus | None = None  # ours, when we started it
    core: VoiceCore | None = None
    control: JanusControl | None = None
    http: aiohttp.ClientSession | None = None
    stats: dict[str, int] = field(default_factory=lambda: {"ops": 0, "op_errors": 0})
    steps: int = 0


VOICE = web.AppKey("voice", VoiceRuntime)


def install(app: web.Application) -> None:
    app[VOICE] = VoiceRuntime()
    app.cleanup_ctx.append(_lifetime)
    app.router.add_route("GET", "/janus{tail:.*}", proxy)
    app.router.add_route("POST", "/janus{tail:.*}", proxy)


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    rt, cfg = app[VOICE], app[CONFIG]
    st = cfg.voice
    rt.http = aiohttp.ClientSession()
    admin_key = st.admin_key
    if not st.enabled:
        rt.reason = "voice is disabled (voice.enabled = false)"
    elif st.url:
        rt.url = st.url.rstrip("/")
    else:
        try:
            rt.janus = await start_janus(st, cfg.host, cfg.data_dir)
            rt.url, admin_key = rt.janus.url, rt.janus.admin_key
        except Exception as e:
            rt.reason = str(e)
    if rt.url is not None:
        rt.control = JanusControl(rt.url, admin_key, rt.http)
        try:
            await rt.control.connect()
        except JanusError as e:
            log.warning("voice: media server %s does not answer yet: %s", rt.url, e)
    public = (st.public_url or "/janus") if rt.url is not None else None
    hub = app[HUB]
    rt.core = VoiceCore(st, hub.emit, public, rt.reason)
    hub.voice = rt.core  # when unavailable, it answers VOICE_JOIN with VOICE_UNAVAILABLE and why
    if rt.url is None:
        log.warning("voice unavailable: %s", rt.reason)
    else:
        log.info("voice: media server %s, clients use %s", rt.url, public)
    app[DUTIES].start("voice", SYNC_EVERY_S, lambda: _step(app), first_delay=0.0)
    yield
    await app[DUTIES].stop("voice")
    hub.voice = None
    if rt.control is not None:
        await rt.control.close()
    if rt.janus is not None:
        await stop_janus(rt.janus)
    await rt.http.close()


async def _step(app: web.Application) -> None:
    rt = app[VOICE]
    core, control = rt.core, rt.control
    if core is None or control is None:
        return
    rt.steps += 1
    ops = core.sync(app[HUB], now_ms(), listing=rt.steps % LIST_EVERY == 0)
    await app[EDGE].deliver()
    t = asyncio.get_running_loop().time()
    if t - getattr(control, "_kept", 0.0) > KEEPALIVE_EVERY_S:
        control._kept = t  # type: ignore[attr-defined]
        try:
            await control.keepalive()
        except JanusError:
            control.session = None  # reconnect with the next request
    for op in ops:
        await _perform(rt, core, control, op)
    core.announce(app[HUB], now_ms())  # credentials the server just took go out now
    await app[EDGE].deliver()


async def _perform(rt: VoiceRuntime, core: VoiceCore, control: JanusControl, op: Op) -> None:
    rt.stats["ops"] += 1
    try:
        match op:
            case CreateRoom():
                try:
                    await control.create_room(op.room, op.secret, op.pin, op.publishers)
                    core.room_created(op.room, True)
                except JanusError:
                    core.room_created(op.room, False)
                    raise
            case DestroyRoom():
                await control.destroy_room(op.room, op.secret)
            case Allow():
                await control.allowed(op.room, op.secret, op.token, op.add)
                if op.add:
                    core.allowed(op.feed)
            case Kick():
                await control.kick(op.room, op.secret, op.feed)
            case Mute():
                await control.moderate(op.room, op.secret, op.feed, op.mute)
            case ListParticipants():
                core.observe(op.room, await control.participants(op.room))
    except JanusError as e:
        rt.stats["op_errors"] += 1
        if "No such user" not in str(e) and "No such feed" not in str(e):  # kicked twice: fine
            log.warning("voice: %s failed: %s", type(op).__name__, e)
        if "session" in str(e).lower() or "Connect" in str(e):
            control.session = None


async def proxy(request: web.Request) -> web.StreamResponse:
    rt = request.app[VOICE]
    if rt.url is None or rt.http is None:
        raise ApiError(503, "voice_unavailable", f"voice is unavailable on this server: {rt.reason}")
    tail = request.match_info["tail"]
    if not _PATH.fullmatch(tail):
        raise ApiError(404, "not_found", "not a Janus API path")
    body = None
    if request.method == "POST":
        if (request.content_length or 0) > PROXY_MAX_BYTES:
            raise ApiError(413, "too_big", f"at most {PROXY_MAX_BYTES} bytes")
        body = await request.content.read(PROXY_MAX_BYTES + 1)
        if len(body) > PROXY_MAX_BYTES:
            raise ApiError(413, "too_big", f"at most {PROXY_MAX_BYTES} bytes")
    try:
        async with rt.http.request(
            request.method, rt.url + tail, params=request.query, data=body,
            headers={"Content-Type": "application/json"}, timeout=aiohttp.ClientTimeout(total=PROXY_TIMEOUT_S),
        ) as r:  # fmt: skip
            data = await r.read()
            status = r.status
    except (aiohttp.ClientError, TimeoutError) as e:
        raise ApiError(502, "voice_unreachable", f"the media server did not answer: {type(e).__name__}") from None
    return web.Response(body=data, status=status, content_type="application/json")
