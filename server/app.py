"""The aiohttp layer: sockets, clocks and files at the edge; everything else is in the Hub.

``create_app`` builds a frozen application: typed ``AppKey``s for shared state, tick loops
and the write-behind flusher as cleanup contexts, websockets closed with 1001 on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import WSCloseCode, WSMsgType, web

from server.assets import GEN_URL_PREFIX, AssetService, Pending, fill_placeholder, placeholders
from server.catalog import Catalog, load_catalog, spec_from_config, staff_names
from server.codec import packb
from server.errors import CloseConnection
from server.hosting import Hosting, HostingError, Principal, SQLiteHostingStore, table_json
from server.hub import Hub, Session
from server.interest import InterestSettings
from server.protocol import (
    HELLO_TIMEOUT_S,
    MAX_FRAME_BYTES,
    SLOW_CLIENT_BUFFER_BYTES,
    SLOW_CLIENT_CLOSE_S,
    CloseCode,
    ErrorCode,
    MsgType,
    NoticeKind,
)
from server.recommend import HashingEncoder, RecommenderService
from server.recommend.signals import Visit
from server.storage import SQLiteStorage, Storage
from server.suggest import catalogue_items, live_context, to_json
from server.worldconfig import ValidationIssue, WorldConfig, diff_worlds, watch_worlds

log = logging.getLogger("plaza")
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    worlds_dir: Path = REPO / "worlds"
    data_dir: Path = Path.home() / ".local" / "share" / "plaza"
    web_dir: Path = REPO / "web_client"
    interest: InterestSettings = field(default_factory=InterestSettings)
    flush_every_s: float = 1.0
    slow_client_bytes: int = SLOW_CLIENT_BUFFER_BYTES
    slow_client_close_s: float = SLOW_CLIENT_CLOSE_S
    # A small kernel send buffer keeps a backlog visible to us (where newest-state-wins and
    # the slow-client policy apply) instead of letting seconds of stale poses queue in the kernel.
    socket_sndbuf: int = 64 * 1024
    watch: bool = True  # live reload of worlds_dir
    recommender: bool = True
    recommender_encoder: str = "minilm"  # or "hashing": no model load (tests)
    retention_days: float = 180.0  # signals older than this are neither used nor kept
    chat_words: tuple[str, ...] = ()  # words the chat filter masks
    generate_placeholders: bool = True  # generate world files' `generate = "..."` objects at start


def now_ms() -> int:
    # Monotonic, and the same clock in every process on this machine (the benchmark relies
    # on that to compare sender timestamps with receive times).
    return time.monotonic_ns() // 1_000_000


@dataclass(slots=True)
class Connection:
    ws: web.WebSocketResponse
    backlogged_since: float | None = None


CONFIG = web.AppKey("config", ServerConfig)
CATALOG = web.AppKey("catalog", Catalog)
HUB = web.AppKey("hub", Hub)
STORAGE = web.AppKey("storage", Storage)
CONNECTIONS = web.AppKey("connections", dict[int, Connection])
STARTED = web.AppKey("started", float)
ASSETS = web.AppKey("assets", AssetService)
HOSTING = web.AppKey("hosting", Hosting)
HOSTING_ROLLED = web.AppKey("hosting_rolled", list[float])
RECS = web.AppKey("recs", RecommenderService | None)
TICKS = web.AppKey("ticks", dict[str, asyncio.Task[None]])


def _buffered(ws: web.WebSocketResponse) -> int:
    tr = ws._req.transport if ws._req is not None else None
    return tr.get_write_buffer_size() if tr is not None else 0


async def flush(app: web.Application) -> None:
    """Send every session's pending output, then close the sessions the hub ended (kick, ban).

    Never blocks on a slow peer: the transport's high-water mark is raised at connect."""
    hub, conns = app[HUB], app[CONNECTIONS]
    if hub.to_close:
        ending, hub.to_close = hub.to_close, {}
        for sid, (code, reason) in ending.items():
            for d in hub.drain(sid):
                conn = conns.get(sid)
                if conn is not None and not conn.ws.closed:
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await conn.ws.send_bytes(d)
            _close_soon(app, sid, code, reason)
    for sid in list(hub.with_output):
        data = hub.drain(sid)
        conn = conns.get(sid)
        if conn is None or conn.ws.closed:
            continue
        try:
            for d in data:
                await conn.ws.send_bytes(d)
        except (ConnectionError, RuntimeError):
            pass  # the reader side notices and cleans up


def _close_soon(app: web.Application, sid: int, code: int, reason: str) -> None:
    conn = app[CONNECTIONS].get(sid)
    if conn is None:
        return
    app[HUB].disconnect(sid, now_ms())
    ws = conn.ws
    log.info("closing session %s: %s %s", sid, code, reason)

    async def close() -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code=code, message=reason.encode()), 2.0)

    task = asyncio.get_running_loop().create_task(close())
    task.add_done_callback(lambda t: None)


async def ws_handler(request: web.Request) -> web.WebSocketResponse:
    app = request.app
    hub, conns = app[HUB], app[CONNECTIONS]
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=30.0, compress=False)
    await ws.prepare(request)
    if request.transport is not None:
        sock = request.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, app[CONFIG].socket_sndbuf)
        # A high write-buffer mark means send_bytes never waits on one slow peer; the tick
        # loop watches the buffer itself and skips or closes slow clients.
        request.transport.set_write_buffer_limits(high=8 * app[CONFIG].slow_client_bytes)
    session = hub.connect(now_ms())
    sid = session.sid
    conns[sid] = Connection(ws)
    try:
        first = True
        while True:
            try:
                msg = await ws.receive(timeout=HELLO_TIMEOUT_S if first else None)
            except TimeoutError:
                await ws.close(code=CloseCode.HELLO_TIMEOUT, message=b"no HELLO in time")
                break
            first = False
            if msg.type == WSMsgType.BINARY:
                try:
                    hub.receive(sid, msg.data, now_ms())
                except CloseConnection as c:
                    log.info("closing session %s: %s %s", sid, int(c.code), c.reason)
                    await flush(app)
                    await ws.close(code=c.code, message=c.reason.encode()[:120])
                    break
                if hub.with_output or hub.to_close:  # most poses produce no output until the tick
                    await flush(app)
            elif msg.type == WSMsgType.TEXT:
                await ws.close(code=CloseCode.NOT_BINARY, message=b"frames must be binary msgpack")
                break
            elif msg.type == WSMsgType.ERROR:
                # aiohttp closes oversized frames with 1009 itself.
                break
            else:  # CLOSE, CLOSING, CLOSED
                break
    except Exception:
        log.exception("session %s failed", sid)
        if not ws.closed:
            await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")
    finally:
        conns.pop(sid, None)
        hub.disconnect(sid, now_ms())
        await flush(app)
    return ws


async def tick_loop(app: web.Application, world: str) -> None:
    hub, conns, cfg = app[HUB], app[CONNECTIONS], app[CONFIG]
    rate = app[CATALOG].specs[world].tick_rate
    period = 1.0 / rate
    next_t = time.monotonic()
    while True:
        next_t += period
        delay = next_t - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -5 * period:
            next_t = time.monotonic()  # far behind (machine stalled): resync, don't burst
        now = time.monotonic()
        skip: set[int] = set()
        for inst in hub.instances.get(world, []):
            for sid in inst.members:
                conn = conns.get(sid)
                if conn is None:
                    continue
                if _buffered(conn.ws) > cfg.slow_client_bytes:
                    skip.add(sid)
                    if conn.backlogged_since is None:
                        conn.backlogged_since = now
                    elif now - conn.backlogged_since > cfg.slow_client_close_s:
                        _close_soon(app, sid, CloseCode.SLOW_CLIENT, "cannot keep up with updates")
                else:
                    conn.backlogged_since = None
        try:
            hub.tick(world, now_ms(), skip)
        except Exception:
            log.exception("tick of %s failed", world)
        await flush(app)


def _start_ticking(app: web.Application, world: str) -> None:
    app[TICKS][world] = asyncio.get_running_loop().create_task(tick_loop(app, world))


async def _run_ticks(app: web.Application) -> AsyncIterator[None]:
    for w in app[CATALOG].specs:
        _start_ticking(app, w)
    yield
    tasks = list(app[TICKS].values())
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def apply_reload(app: web.Application, configs: dict[str, WorldConfig], issues: list[ValidationIssue]) -> None:
    """Live reload: bring the running worlds in line with the files, without disconnecting anyone."""
    catalog, hub = app[CATALOG], app[HUB]
    diff = diff_worlds(catalog.configs, configs)
    now = now_ms()
    for wid in diff.added:
        spec = spec_from_config(configs[wid])
        catalog.put(configs[wid], spec)
        hub.add_world(spec)
        _start_ticking(app, wid)
        log.info("world %s added", wid)
    for wid, od in diff.changed.items():
        spec = spec_from_config(configs[wid])
        old_rate = catalog.specs[wid].tick_rate
        catalog.put(configs[wid], spec)
        # Saved poses of objects the author changed or removed are stale now.
        app[STORAGE].reset_objects(wid, [*od.changed, *od.removed])
        hub.update_world(spec, set(od.changed))
        if spec.tick_rate != old_rate:
            task = app[TICKS].pop(wid, None)
            if task is not None:
                task.cancel()
            _start_ticking(app, wid)
        hub.notify_names(wid, staff_names(configs[wid]), NoticeKind.WORLD_RELOADED, f"{wid} reloaded")
        log.info("world %s reloaded: %s", wid, od)
    for wid in diff.removed:
        catalog.drop(wid)
        task = app[TICKS].pop(wid, None)
        if task is not None:
            task.cancel()
        for sid in hub.remove_world(wid, now):
            _close_soon(app, sid, CloseCode.WORLD_CLOSED, f"{wid} was closed")
        log.info("world %s removed", wid)
    # A broken file keeps its last good version running; its staff hear why.
    by_world: dict[str, list[str]] = {}
    for issue in issues:
        by_world.setdefault(Path(issue.file).stem, []).append(str(issue))
    for wid, lines in by_world.items():
        cfg = configs.get(wid)
        if cfg is not None:
            text = "world file error (last good version still running):\n" + "\n".join(lines[:10])
            hub.notify_names(wid, staff_names(cfg), NoticeKind.WORLD_FILE_ERROR, text)
    catalog.issues = issues
    app[HOSTING].load_worlds(catalog.configs.values(), time.time())
    await flush(app)


async def _watch(app: web.Application) -> AsyncIterator[None]:
    stop = asyncio.Event()

    async def on_change(configs: dict[str, WorldConfig], issues: list[ValidationIssue]) -> None:
        await apply_reload(app, configs, issues)

    task = asyncio.create_task(watch_worlds(app[CONFIG].worlds_dir, on_change, stop))
    yield
    stop.set()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def wall_time(ms: int) -> float:
    """Server monotonic milliseconds -> Unix seconds (for stored signals)."""
    return time.time() - (now_ms() - ms) / 1000.0


def _flush_objects(app: web.Application) -> None:
    hub, storage = app[HUB], app[STORAGE]
    rows = hub.drain_dirty_objects()
    if rows:
        storage.save_objects(rows)
    if hub.spawned:
        spawned, hub.spawned = hub.spawned, []
        storage.save_spawned(spawned)
    if hub.removed_objects:
        removed, hub.removed_objects = hub.removed_objects, []
        storage.mark_removed(removed)
    if hub.visits:
        records, hub.visits = hub.visits, []
        visits = []
        for r in records:
            friends = storage.follows_of(r.user_id) & set(r.others)
            v = Visit(
                r.user_id, r.world, r.instance, wall_time(r.start_ms), wall_time(r.end_ms), tuple(sorted(friends))
            )
            visits.append((v, r.chat_count))
        storage.log_visits(visits)


def _every(
    seconds: float,
    step: Callable[[web.Application], Awaitable[None]],
    what: str,
    on_stop: Callable[[web.Application], None],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running ``step`` every ``seconds`` until shutdown, then ``on_stop``.
    A failing step is logged and retried next time: background duties never take the server down."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(seconds)
                try:
                    await step(app)
                except Exception:
                    log.exception("%s failed; will retry", what)

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        on_stop(app)

    return ctx


async def _flush_step(app: web.Application) -> None:
    _flush_objects(app)


def _final_flush(app: web.Application) -> None:
    _flush_objects(app)  # nothing moved is lost on a clean shutdown
    app[STORAGE].close()


# ----- recommendations -------------------------------------------------------------------
SUGGEST_EVERY_S = 60.0
RETRAIN_EVERY_S = 600.0
ITEMS_EVERY_S = 60.0


def _build_recommender(app: web.Application) -> RecommenderService:
    cfg = app[CONFIG]
    encoder = HashingEncoder() if cfg.recommender_encoder == "hashing" else None
    items = catalogue_items(app[CATALOG], app[HOSTING], datetime.now(UTC))
    svc = RecommenderService(
        items, app[STORAGE].load_signals(time.time() - cfg.retention_days * 86400), encoder=encoder
    )
    svc.fit(time.time())
    return svc


def recommend_for(
    app: web.Application, user_id: str, limit: int, just_left: str | None = None
) -> list[dict[str, object]]:
    svc = app[RECS]
    if svc is None:
        return []
    now = datetime.now(UTC)
    friends = app[STORAGE].follows_of(user_id)
    ctx = live_context(app[HUB], app[HOSTING], user_id, friends, just_left, now.timestamp())
    recs = svc.recommend(user_id, now.timestamp(), ctx, limit)
    return [to_json(r, svc.model.catalogue, app[CATALOG]) for r in recs]


async def _recommender(app: web.Application) -> AsyncIterator[None]:
    app[RECS] = None
    stop = asyncio.Event()

    async def run() -> None:
        try:
            app[RECS] = await asyncio.to_thread(_build_recommender, app)
        except Exception:
            log.exception("recommender failed to start; /api/recommendations will be empty")
            return
        pushed: dict[int, float] = {}
        last_train = last_items = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(1.0)
            svc = app[RECS]
            assert svc is not None
            if time.monotonic() - last_items > ITEMS_EVERY_S:  # new events, edited worlds
                last_items = time.monotonic()
                svc.update_items(catalogue_items(app[CATALOG], app[HOSTING], datetime.now(UTC)))
            if time.monotonic() - last_train > RETRAIN_EVERY_S:
                last_train = time.monotonic()
                signals = app[STORAGE].load_signals(time.time() - app[CONFIG].retention_days * 86400)
                await asyncio.wrap_future(svc.retrain_async(signals, time.time()))
            hub = app[HUB]
            now = time.monotonic()
            for sid, s in list(hub.sessions.items()):
                if s.instance is None or now - pushed.get(sid, -1e9) < SUGGEST_EVERY_S:
                    continue
                pushed[sid] = now
                recs = recommend_for(app, s.user_id, 5, s.last_left)
                hub.emit(sid, packb([MsgType.SUGGESTIONS, recs]))
            for sid in [k for k in pushed if k not in hub.sessions]:
                del pushed[sid]
            await flush(app)

    task = asyncio.create_task(run())
    yield
    stop.set()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    if app[RECS] is not None:
        app[RECS].close()


def _principal(request: web.Request) -> Principal | None:
    """Who is asking: ``Authorization: Bearer <token>`` (account or guest token), or the
    ``X-Plaza-Session`` id from WELCOME of a live connection. Never a URL parameter."""
    auth = request.headers.get("Authorization", "")
    hosting = request.app[HOSTING]
    if auth.startswith("Bearer "):
        try:
            return hosting.identity.authenticate(auth[7:].strip(), time.time(), hosting.reserved())
        except HostingError as e:
            raise _http_error(web.HTTPUnauthorized, e.code, e.message) from None
    s = _session_for(request)
    return s.principal if s is not None else None


def _caller(request: web.Request) -> str | None:
    p = _principal(request)
    if p is not None:
        return p.key
    s = _session_for(request)
    return s.user_id if s is not None and s.user_id else None


def _http_error(cls: type[web.HTTPException], error: str, message: str) -> web.HTTPException:
    return cls(text=json.dumps({"error": error, "message": message}), content_type="application/json")


def _session_for(request: web.Request) -> Session | None:
    token = request.headers.get("X-Plaza-Session")
    return next((s for s in request.app[HUB].sessions.values() if token and s.token == token), None)


def _json_error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


async def recommendations(request: web.Request) -> web.Response:
    try:
        limit = max(1, min(50, int(request.query.get("limit", "10"))))
    except ValueError:
        return _json_error(400, "bad_limit", "limit must be an integer 1..50")
    s = _session_for(request)
    user = s.user_id if s is not None else (_caller(request) or "anonymous")
    recs = recommend_for(request.app, user, limit, s.last_left if s is not None else None)
    return web.json_response({"user": user, "items": recs})


async def _body(request: web.Request) -> dict[str, object]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(
            text='{"error": "bad_json", "message": "body must be JSON"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "bad_json", "message": "body must be a JSON object"}', content_type="application/json"
        )
    return body


def _require_caller(request: web.Request) -> str:
    user = _caller(request)
    if user is None:
        raise _http_error(
            web.HTTPUnauthorized, "unknown_user", "send Authorization: Bearer <token> or X-Plaza-Session from WELCOME"
        )
    return user


def _require_principal(request: web.Request) -> Principal:
    p = _principal(request)
    if p is None:
        raise _http_error(web.HTTPUnauthorized, "unknown_user", "send Authorization: Bearer <token>")
    return p


def _str_field(body: dict[str, object], key: str) -> str:
    v = body.get(key)
    if not isinstance(v, str):
        raise _http_error(web.HTTPBadRequest, "bad_field", f"{key}: expected a string")
    return v


_HOSTING_STATUS = {
    "bad_credentials": 401,
    "invalid_token": 401,
    "token_expired": 401,
    "sign_in_rate_limited": 429,
    "permission_denied": 403,
    "not_found": 404,
    "unknown_event": 404,
    "unknown_world": 404,
    "user_name_taken": 409,
    "event_full": 409,
}


def _hosting_response(e: HostingError) -> web.Response:
    body: dict[str, object] = {"error": e.code, "message": e.message}
    retry = getattr(e, "retry_after_s", None)
    headers = {"Retry-After": str(max(1, round(retry)))} if retry else None
    if retry:
        body["retry_after_s"] = retry
    return web.json_response(body, status=_HOSTING_STATUS.get(e.code, 400), headers=headers)


async def register(request: web.Request) -> web.Response:
    body = await _body(request)
    h, now = request.app[HOSTING], time.time()
    try:
        p = h.identity.register(_str_field(body, "user"), _str_field(body, "password"), now)
        token = h.identity.sign_in(_str_field(body, "user"), _str_field(body, "password"), request.remote or "", now)
    except HostingError as e:
        return _hosting_response(e)
    return web.json_response({"user": p.account, "token": token}, status=201)


async def sign_in(request: web.Request) -> web.Response:
    body = await _body(request)
    h = request.app[HOSTING]
    try:
        token = h.identity.sign_in(
            _str_field(body, "user"), _str_field(body, "password"), request.remote or "", time.time()
        )
    except HostingError as e:
        return _hosting_response(e)
    return web.json_response({"user": _str_field(body, "user").lower(), "token": token})


async def guest_token(request: web.Request) -> web.Response:
    body = await _body(request)
    h = request.app[HOSTING]
    try:
        token = h.identity.guest(_str_field(body, "name"), time.time(), h.reserved())
    except HostingError as e:
        return _hosting_response(e)
    return web.json_response({"token": token})


async def permissions(request: web.Request) -> web.Response:
    return web.json_response(table_json())


async def list_events(request: web.Request) -> web.Response:
    h, now = request.app[HOSTING], time.time()
    user = _caller(request)
    world = request.query.get("world")
    return web.json_response(
        [h.events.to_client(e.key, now, user) for e, status in h.events.lobby(now) if world in (None, e.world)]
    )


async def create_event(request: web.Request) -> web.Response:
    actor = _require_principal(request)
    body = await _body(request)
    h, now = request.app[HOSTING], time.time()
    world = request.match_info["world"]
    try:
        start = datetime.fromisoformat(_str_field(body, "start")).timestamp()
        dur = body.get("duration_minutes", 60)
        if isinstance(dur, bool) or not isinstance(dur, int | float):
            raise _http_error(web.HTTPBadRequest, "bad_field", "duration_minutes: expected a number")
        tags = body.get("tags", [])
        cap = body.get("capacity")
        info = h.events.create(
            world,
            actor,
            now,
            title=_str_field(body, "title"),
            start=start,
            duration_s=float(dur) * 60,
            description=str(body.get("description", "")),
            tags=tuple(tags) if isinstance(tags, list) else (),
            capacity=cap if isinstance(cap, int) and not isinstance(cap, bool) else None,
            stage=str(body.get("stage", "main")),
        )
    except ValueError as e:
        return _json_error(400, "bad_field", f"start: expected an ISO 8601 date-time with offset ({e})")
    except HostingError as e:
        return _hosting_response(e)
    return web.json_response(h.events.to_client(info.key, now, actor.key), status=201)


async def rsvp(request: web.Request) -> web.Response:
    actor = _require_principal(request)
    h, now = request.app[HOSTING], time.time()
    key = request.match_info["key"]
    try:
        if request.method == "POST":
            h.events.rsvp(key, actor, now)
        else:
            h.events.cancel_rsvp(key, actor)
    except HostingError as e:
        return _hosting_response(e)
    return web.json_response(h.events.to_client(key, now, actor.key))


async def world_reports(request: web.Request) -> web.Response:
    actor = _require_principal(request)
    h = request.app[HOSTING]
    world = request.match_info["world"]
    try:
        rows = (
            h.moderation.reports(world, actor)
            if request.path.endswith("/reports")
            else h.moderation.audit_log(world, actor)
        )
    except HostingError as e:
        return _hosting_response(e)
    return web.json_response([r.to_json() if hasattr(r, "to_json") else dataclasses.asdict(r) for r in rows])


async def grant_role(request: web.Request) -> web.Response:
    actor = _require_principal(request)
    body = await _body(request)
    h, now = request.app[HOSTING], time.time()
    world = request.match_info["world"]
    try:
        if request.method == "POST":
            h.roles.grant(world, actor, _str_field(body, "user"), _str_field(body, "role"), now)
        else:
            h.roles.revoke(world, actor, _str_field(body, "user"), now)
    except HostingError as e:
        return _hosting_response(e)
    return web.json_response({"world": world, "grants": [dataclasses.asdict(g) for g in h.roles.grants(world)]})


async def make_invite(request: web.Request) -> web.Response:
    actor = _require_principal(request)
    body = await _body(request)
    h, now = request.app[HOSTING], time.time()
    world = request.match_info["world"]
    hours = body.get("hours", 24)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 90:
        return _json_error(400, "bad_field", "hours: expected a number of hours, at most 90 days")
    try:
        token = h.roles.make_invite(world, now + float(hours) * 3600, actor, now)
    except HostingError as e:
        return _hosting_response(e)
    return web.json_response({"world": world, "invite": token, "expires_in_hours": hours}, status=201)


async def revoke_invite(request: web.Request) -> web.Response:
    _require_principal(request)
    h = request.app[HOSTING]
    ok = h.roles.revoke_invite(request.match_info["id"], time.time())
    return web.json_response({"revoked": ok}, status=200 if ok else 404)


def _resolve_person(app: web.Application, name: str) -> str | None:
    """A display name -> the user key to follow: the account of that name, else someone here now."""
    if app[HOSTING].store.get_account(name.casefold()) is not None:
        return Principal.for_account(name).key
    for s in app[HUB].sessions.values():
        if s.name.casefold() == name.casefold() and s.user_id:
            return s.user_id
    return None


async def follow(request: web.Request) -> web.Response:
    user = _require_caller(request)
    body = await _body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        return _json_error(400, "bad_field", "name: expected the display name of the person to follow")
    target = _resolve_person(request.app, name.strip())
    if target is None:
        return _json_error(404, "unknown_user", f"nobody called {name.strip()!r} has an account or is here now")
    app_storage = request.app[STORAGE]
    app_storage.follow(user, target, time.time(), on=request.method == "POST")
    return web.json_response({"user": user, "follows": sorted(app_storage.follows_of(user))})


async def like(request: web.Request) -> web.Response:
    user = _require_caller(request)
    body = await _body(request)
    item = body.get("item")
    if not isinstance(item, str) or not item:
        return _json_error(400, "bad_field", "item: expected a world id or event id")
    request.app[STORAGE].like(user, item, time.time(), on=request.method == "POST")
    return web.json_response({"user": user, "item": item, "liked": request.method == "POST"})


async def interests(request: web.Request) -> web.Response:
    user = _require_caller(request)
    body = await _body(request)
    tags = body.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags) or len(tags) > 20:
        return _json_error(400, "bad_field", "tags: expected up to 20 strings")
    request.app[STORAGE].set_interests(user, [t.strip().casefold() for t in tags if t.strip()])
    return web.json_response({"user": user, "tags": tags})


async def export_me(request: web.Request) -> web.Response:
    user = _require_caller(request)
    return web.json_response(request.app[STORAGE].export_user(user))


async def delete_me(request: web.Request) -> web.Response:
    user = _require_caller(request)
    return web.json_response({"user": user, "deleted_rows": request.app[STORAGE].delete_user(user)})


async def _hosting_step(app: web.Application) -> None:
    """Event notices, attendance, gather orders, pins and the spotlit stage; the events' weekly
    occurrences are rolled forward hourly."""
    if time.monotonic() - app[HOSTING_ROLLED][0] > 3600:
        app[HOSTING_ROLLED][0] = time.monotonic()
        app[HOSTING].load_worlds(app[CATALOG].configs.values(), time.time())
    link = app[HUB].link
    if link is not None:
        link.duties(now_ms())
    await flush(app)


# ----- generated assets ------------------------------------------------------------------
async def _assets(app: web.Application) -> AsyncIterator[None]:
    """Chat-command requests and world placeholders -> jobs -> objects in worlds."""
    svc = app[ASSETS]

    async def submit_placeholders() -> None:
        for wid, spec in list(app[CATALOG].specs.items()):
            for oid, prompt, pos in placeholders(spec.description):
                try:
                    await asyncio.to_thread(
                        svc.submit, prompt, 0, f"world:{wid}", Pending("placeholder", wid, object_id=oid, position=pos)
                    )
                except Exception as e:  # unavailable or a bad prompt in a file: keep the stand-in
                    log.warning("placeholder %s/%s not generated: %s", wid, oid, e)
                    return

    async def loop() -> None:
        if app[CONFIG].generate_placeholders:
            await submit_placeholders()
        hub = app[HUB]
        n = 0
        while True:
            await asyncio.sleep(0.25)
            requests, hub.generate_requests = hub.generate_requests, []
            for sid, user, world, instance, prompt, pos in requests:
                try:
                    job = await asyncio.to_thread(
                        svc.submit, prompt, n, user, Pending("spawn", world, instance, position=pos, requester=sid)
                    )
                    n += 1
                    hub.emit(
                        sid, packb([MsgType.NOTICE, int(NoticeKind.INFO), f"generating “{prompt}”…", {"job": job}])
                    )
                except Exception as e:
                    hub.error(sid, ErrorCode.FORBIDDEN, str(e), MsgType.CHAT)
            for pending, st in svc.finished():
                url = st.get("url")
                if pending.kind == "spawn":
                    if url:
                        info = {"model": url, "label": st["prompt"]}
                        hub.spawn_object(pending.world, pending.instance, f"gen-{st['job']}", pending.position, info)
                    text = (
                        f"“{st['prompt']}” is here"
                        if url
                        else f"could not generate “{st['prompt']}”: {st.get('error')}"
                    )
                    hub.emit(pending.requester, packb([MsgType.NOTICE, int(NoticeKind.INFO), text, st]))
                else:
                    spec = app[CATALOG].specs.get(pending.world)
                    if spec is not None:
                        fill_placeholder(spec.description, pending.object_id, url, st.get("error"))  # type: ignore[arg-type]
                        hub.update_world(spec, set())  # same objects, new look: a WORLD_UPDATE
            await flush(app)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    svc.close()


async def submit_asset(request: web.Request) -> web.Response:
    user = _caller(request) or f"ip:{request.remote}"
    body = await _body(request)
    prompt = body.get("prompt")
    seed = body.get("seed", 0)
    if not isinstance(prompt, str):
        return _json_error(400, "bad_field", "prompt: expected a string")
    if isinstance(seed, bool) or not isinstance(seed, int):
        return _json_error(400, "bad_field", "seed: expected an integer")
    try:
        job = await asyncio.to_thread(request.app[ASSETS].submit, prompt, seed, user, None)
    except RuntimeError as e:
        return _json_error(503, "unavailable", str(e))
    except Exception as e:  # genmodels' PromptError / RateLimited / QueueFull: user-facing messages
        status = 429 if type(e).__name__ in ("RateLimited", "QueueFull") else 400
        return _json_error(status, type(e).__name__.lower(), str(e))
    return web.json_response({"job": job, "status_url": f"/api/assets/jobs/{job}"}, status=202)


async def asset_job(request: web.Request) -> web.Response:
    try:
        return web.json_response(request.app[ASSETS].status(request.match_info["id"]))
    except KeyError:
        return _json_error(404, "unknown_job", "no such job")
    except RuntimeError as e:
        return _json_error(503, "unavailable", str(e))


async def asset_file(request: web.Request) -> web.StreamResponse:
    path = request.app[ASSETS].file(request.match_info["key"])
    if path is None:
        return _json_error(404, "unknown_asset", "no such asset")
    # The key hashes (prompt, seed, model version): the bytes behind a URL never change.
    return web.FileResponse(
        path, headers={"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "model/gltf-binary"}
    )


async def _close_sockets(app: web.Application) -> None:
    for conn in list(app[CONNECTIONS].values()):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.ws.close(code=CloseCode.GOING_AWAY, message=b"server shutdown"), 2)


# ----- HTTP ----------------------------------------------------------------------------
async def health(request: web.Request) -> web.Response:
    app = request.app
    return web.json_response(
        {
            "status": "ok",
            "worlds": len(app[CATALOG].specs),
            "sessions": len(app[HUB].sessions),
            "uptime_s": round(time.monotonic() - app[STARTED], 1),
        }
    )


def world_events(app: web.Application, world: str, days: float = 7.0) -> list[dict[str, object]]:
    """A world's live and upcoming events for the world list, from the one event book
    (world files' and owners' events alike)."""
    now = time.time()
    out: list[dict[str, object]] = []
    for e in sorted(app[HOSTING].events.events(world), key=lambda e: e.start):
        if e.end <= now or e.start > now + days * 86400:
            continue
        out.append(
            {
                "id": e.id,
                "key": e.key,
                "world": e.world,
                "title": e.title,
                "description": e.description,
                "tags": list(e.tags),
                "start": datetime.fromtimestamp(e.start, UTC).isoformat(),
                "end": datetime.fromtimestamp(e.end, UTC).isoformat(),
                "live": e.start <= now < e.end,
                "capacity": e.capacity,
                "host": e.host,
            }
        )
    return out


async def list_worlds(request: web.Request) -> web.Response:
    app = request.app
    return web.json_response([app[CATALOG].summary(w, app[HUB], world_events(app, w)) for w in app[CATALOG].listed()])


async def get_world(request: web.Request) -> web.Response:
    app = request.app
    wid = request.match_info["world"]
    if wid not in app[CATALOG].specs:
        return web.json_response({"error": "unknown_world", "message": f"no world {wid!r}"}, status=404)
    return web.json_response(app[CATALOG].detail(wid, app[HUB], world_events(app, wid)))


def create_app(config: ServerConfig, catalog: Catalog | None = None) -> web.Application:
    app = web.Application()
    cat = catalog if catalog is not None else load_catalog(config.worlds_dir)
    storage = SQLiteStorage(config.data_dir / "plaza.sqlite3")
    app[CONFIG] = config
    app[CATALOG] = cat
    app[STORAGE] = storage
    hosting = Hosting(SQLiteHostingStore(config.data_dir / "plaza.sqlite3"), chat_words=config.chat_words)
    hosting.load_worlds(cat.configs.values(), time.time())
    app[HOSTING] = hosting
    app[HUB] = Hub(
        cat.specs,
        load_objects=storage.load_objects,
        interest=config.interest,
        hosting=hosting,
        wall=wall_time,
        load_removed=storage.removed_objects,
        load_spawned=storage.load_spawned,
    )
    app[HOSTING_ROLLED] = [time.monotonic()]
    app.cleanup_ctx.append(_every(0.5, _hosting_step, "hosting duties", lambda a: a[HOSTING].close()))
    app[ASSETS] = AssetService(config.data_dir / "assets")
    app.cleanup_ctx.append(_assets)
    app[CONNECTIONS] = {}
    app[STARTED] = time.monotonic()
    app[TICKS] = {}
    app.cleanup_ctx.append(_run_ticks)
    if config.watch:
        app.cleanup_ctx.append(_watch)
    app[RECS] = None
    if config.recommender:
        app.cleanup_ctx.append(_recommender)
    app.cleanup_ctx.append(_every(config.flush_every_s, _flush_step, "saving state", _final_flush))
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/ws", ws_handler)
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/worlds", list_worlds)
    app.router.add_get("/api/worlds/{world}", get_world)
    app.router.add_get("/api/recommendations", recommendations)
    app.router.add_post("/api/assets", submit_asset)
    app.router.add_get("/api/assets/jobs/{id}", asset_job)
    app.router.add_get(GEN_URL_PREFIX + "{key}.glb", asset_file)
    app.router.add_post("/api/accounts", register)
    app.router.add_post("/api/signin", sign_in)
    app.router.add_post("/api/guest", guest_token)
    app.router.add_get("/api/permissions", permissions)
    app.router.add_get("/api/events", list_events)
    app.router.add_post("/api/worlds/{world}/events", create_event)
    app.router.add_post("/api/events/{key:.+}/rsvp", rsvp)
    app.router.add_delete("/api/events/{key:.+}/rsvp", rsvp)
    app.router.add_get("/api/worlds/{world}/reports", world_reports)
    app.router.add_get("/api/worlds/{world}/audit", world_reports)
    app.router.add_post("/api/worlds/{world}/roles", grant_role)
    app.router.add_delete("/api/worlds/{world}/roles", grant_role)
    app.router.add_post("/api/worlds/{world}/invites", make_invite)
    app.router.add_delete("/api/invites/{id}", revoke_invite)
    app.router.add_post("/api/follow", follow)
    app.router.add_delete("/api/follow", follow)
    app.router.add_post("/api/likes", like)
    app.router.add_delete("/api/likes", like)
    app.router.add_post("/api/interests", interests)
    app.router.add_get("/api/me/export", export_me)
    app.router.add_delete("/api/me/data", delete_me)
    if (config.worlds_dir / "assets").is_dir():
        app.router.add_static("/assets/", config.worlds_dir / "assets")
    web_dir = config.web_dir
    if (web_dir / "index.html").is_file():
        index = web_dir / "index.html"

        async def page(request: web.Request) -> web.FileResponse:
            return web.FileResponse(index)

        app.router.add_get("/", page)
        app.router.add_get("/w/{world}", page)
        app.router.add_static("/", web_dir)
    return app
