"""The background duties, all on the periodic helper (``duties.Duties``):

- ``tick:<world>``  — one per world at its tick rate: slow-client check, ``Hub.tick``, deliver;
- ``save``          — write-behind of moved objects, spawned/removed objects and visits (in a thread);
- ``hosting``       — event notices, attendance, gather orders, pins, the spotlit stage;
- ``assets``        — chat ``/generate`` requests to the asset service, finished jobs into worlds;
- ``commands``      — "@plaza ..." requests: understood in a thread, answered or applied (server.commands);
- ``recommender``   — items refresh, periodic retrain, SUGGESTIONS pushed to people in worlds;
- ``retention``     — signals older than the retention period are deleted.

The world-file watcher is event-driven (watchfiles) and applies ``server.reload``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from server import privacy
from server.assets import Pending, placeholders
from server.codec import packb
from server.commands.service import CommandService
from server.generated import job_finished, job_refused, job_started
from server.protocol import CloseCode, MsgType
from server.recommend import HashingEncoder, RecommenderService
from server.reload import apply_reload
from server.suggest import SignalFeed, catalogue_items, load_signals
from server.web.edge import now_ms
from server.web.keys import (
    ASSETS,
    CATALOG,
    CLUSTER,
    CONFIG,
    DUTIES,
    EDGE,
    HASHER,
    HOSTING,
    HUB,
    RECS,
    STORAGE,
    WRITE_BEHIND,
)
from server.web.metrics import METRICS
from server.web.routes.recommendations import suggestions
from server.worldconfig import ValidationIssue, WorldConfig, watch_worlds

log = logging.getLogger("plaza")

SUGGEST_EVERY_S = 60.0
FEED_EVERY_S = 2.0  # fresh signals reach the model this often (observe, no retrain)
RETRAIN_EVERY_S = 600.0
ITEMS_EVERY_S = 60.0
ROLL_EVENTS_EVERY_S = 3600.0
RETENTION_EVERY_S = 3600.0


# ----- world ticks ---------------------------------------------------------------------------
def start_ticking(app: web.Application, world: str) -> None:
    edge, hub = app[EDGE], app[HUB]
    rate = app[CATALOG].specs[world].tick_rate

    async def tick() -> None:
        skip = edge.backlogged(world)
        hub.tick(world, now_ms(), skip)
        await edge.deliver()

    app[DUTIES].start(f"tick:{world}", 1.0 / rate, tick, first_delay=0.0)


# ----- saving --------------------------------------------------------------------------------
def _saver(app: web.Application) -> Callable[[], Awaitable[None]]:
    lock = asyncio.Lock()  # batches reach the disk in the order they were taken

    async def save() -> None:
        async with lock:
            wb = app[WRITE_BEHIND]
            batch = wb.take(app[HUB].drain_dirty_objects())
            if batch:
                app[METRICS].flush_seconds.observe(await asyncio.to_thread(wb.write, batch))

    return save


# ----- hosting -------------------------------------------------------------------------------
def _hosting(app: web.Application) -> Callable[[], Awaitable[None]]:
    rolled = [time.monotonic()]

    async def step() -> None:
        if time.monotonic() - rolled[0] > ROLL_EVENTS_EVERY_S:  # weekly events roll forward
            rolled[0] = time.monotonic()
            app[HOSTING].load_worlds(app[CATALOG].configs.values(), time.time())
        link = app[HUB].link
        if link is not None:
            link.duties(now_ms())
        await app[EDGE].deliver()

    return step


# ----- generated assets ----------------------------------------------------------------------
async def _submit_placeholders(app: web.Application) -> None:
    if not await app[CLUSTER].first_election():  # once per cluster: the leader submits them
        return
    svc = app[ASSETS]
    for wid, spec in list(app[CATALOG].specs.items()):
        for oid, prompt, pos in placeholders(spec.description):
            try:
                await asyncio.to_thread(
                    svc.submit, prompt, 0, f"world:{wid}", Pending("placeholder", wid, object_id=oid, position=pos)
                )
            except Exception as e:  # unavailable or a bad prompt in a file: keep the stand-in
                log.warning("placeholder %s/%s not generated: %s", wid, oid, e)
                return


def _assets(app: web.Application) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        svc, hub, edge = app[ASSETS], app[HUB], app[EDGE]
        requests, edge.generate = edge.generate, []
        for r in requests:
            try:
                job = await asyncio.to_thread(
                    svc.submit,
                    r.prompt,
                    0,
                    r.user,
                    Pending("spawn", r.world, r.instance, position=r.position, requester=r.sid),
                )
                job_started(hub, r.sid, r.prompt, job)
            except Exception as e:  # unavailable, a bad prompt, a quota: the requester hears why
                job_refused(hub, r.sid, str(e))
        for pending, st in svc.finished():
            job_finished(hub, pending, st)
        await edge.deliver()

    return step


# ----- natural-language commands ---------------------------------------------------------
def _commands(app: web.Application, svc: CommandService) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        edge = app[EDGE]
        asks, edge.asks = edge.asks, []
        await svc.step(app[HUB], asks, now_ms, app[STORAGE].follows_of)
        await edge.deliver()

    return step


# ----- recommendations -----------------------------------------------------------------------
def _build_recommender(app: web.Application) -> RecommenderService:
    cfg = app[CONFIG]
    encoder = HashingEncoder() if cfg.recommender_encoder == "hashing" else None
    items = catalogue_items(app[CATALOG], app[HOSTING], datetime.now(UTC))
    now = time.time()
    svc = RecommenderService(
        items, load_signals(app[STORAGE], app[HOSTING], now - cfg.retention_days * 86400), encoder=encoder
    )
    svc.fit(now)
    feed = app[RECS].feed = SignalFeed(since=now)
    feed.poll(app[STORAGE], app[HOSTING], now)  # takes stock: the model was fitted on all of it
    return svc


def _recommender(app: web.Application) -> Callable[[], Awaitable[None]]:
    pushed: dict[int, float] = {}
    last = {"train": time.monotonic(), "items": time.monotonic(), "feed": time.monotonic()}

    async def step() -> None:
        recs = app[RECS]
        if recs.service is None:
            if recs.failed:
                return
            try:
                recs.service = await asyncio.to_thread(_build_recommender, app)
            except Exception:
                recs.failed = True
                log.exception("recommender failed to start; /api/recommendations will be empty")
                return
        svc = recs.service
        now = time.monotonic()
        if recs.feed is not None and now - last["feed"] >= FEED_EVERY_S:
            last["feed"] = now
            feed = recs.feed

            def fresh() -> None:  # SQLite reads and the model update, off the loop
                svc.observe(feed.poll(app[STORAGE], app[HOSTING], time.time()))

            await asyncio.to_thread(fresh)
        if now - last["items"] > ITEMS_EVERY_S:  # new events, edited worlds
            last["items"] = now
            items = catalogue_items(app[CATALOG], app[HOSTING], datetime.now(UTC))
            await asyncio.to_thread(svc.update_items, items)
        if now - last["train"] > RETRAIN_EVERY_S:
            last["train"] = now
            signals = await asyncio.to_thread(
                load_signals, app[STORAGE], app[HOSTING], time.time() - app[CONFIG].retention_days * 86400
            )
            await asyncio.wrap_future(svc.retrain_async(signals, time.time()))
        hub = app[HUB]
        for sid, s in list(hub.sessions.items()):
            if s.instance is None or now - pushed.get(sid, -1e9) < SUGGEST_EVERY_S:
                continue
            pushed[sid] = now
            items_json = await suggestions(app, s.user_id, 5, s.last_left, s.instance.spec.id)
            hub.emit(sid, packb([MsgType.SUGGESTIONS, items_json]))
        for sid in [k for k in pushed if k not in hub.sessions]:
            del pushed[sid]
        await app[EDGE].deliver()

    return step


# ----- retention ----------------------------------------------------------------------------
def _retention(app: web.Application) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        if not app[CLUSTER].leads:  # once per cluster, not once per worker
            return
        cutoff = time.time() - app[CONFIG].retention_days * 86400
        n = await asyncio.to_thread(app[STORAGE].purge_before, cutoff)
        n += await asyncio.to_thread(privacy.purge, app[HOSTING], time.time())  # held reports past 90 days
        if n:
            log.info("retention: %d old rows deleted", n)

    return step


# ----- live reload ---------------------------------------------------------------------------
async def on_world_files(app: web.Application, configs: dict[str, WorldConfig], issues: list[ValidationIssue]) -> None:
    duties = app[DUTIES]
    result = apply_reload(app[CATALOG], app[HUB], configs, issues, now_ms())
    for line in result.log:
        log.info("%s", line)
    for wid in result.removed + result.retimed:
        await duties.stop(f"tick:{wid}")
    for wid in result.added + result.retimed:
        start_ticking(app, wid)
    for wid, oids in result.reset.items():
        if oids:
            app[WRITE_BEHIND].saved.reset(wid, oids)
            await asyncio.to_thread(app[STORAGE].reset_objects, wid, oids)
    app[HOSTING].load_worlds(app[CATALOG].configs.values(), time.time())
    await app[EDGE].deliver()


# ----- the whole set, as one cleanup context ---------------------------------------------------
async def run(app: web.Application) -> AsyncIterator[None]:
    cfg, duties = app[CONFIG], app[DUTIES]
    save = _saver(app)
    for world in app[CATALOG].specs:
        start_ticking(app, world)
    duties.start("save", cfg.flush_every_s, save)
    duties.start("hosting", 0.5, _hosting(app))
    duties.start("assets", 0.25, _assets(app))
    commands = CommandService()
    duties.start("commands", 0.05, _commands(app, commands))
    duties.start("retention", RETENTION_EVERY_S, _retention(app), first_delay=5.0)
    if cfg.recommender:
        duties.start("recommender", 1.0, _recommender(app), first_delay=0.0)
    extra: list[asyncio.Task[None]] = []
    if cfg.generate_placeholders:
        extra.append(asyncio.create_task(_submit_placeholders(app)))
    stop = asyncio.Event()
    if cfg.watch:

        async def changed(configs: dict[str, WorldConfig], issues: list[ValidationIssue]) -> None:
            await on_world_files(app, configs, issues)

        extra.append(asyncio.create_task(watch_worlds(cfg.worlds_dir, changed, stop)))
    yield
    stop.set()
    for t in extra:
        t.cancel()
    await asyncio.gather(*extra, return_exceptions=True)
    await duties.stop_all()
    await commands.close()
    await save()  # nothing moved is lost on a clean shutdown
    app[HASHER].shutdown(wait=False, cancel_futures=True)
    app[ASSETS].close()
    app[RECS].pool.shutdown(wait=False, cancel_futures=True)
    if (service := app[RECS].service) is not None:
        service.close()
    app[HOSTING].close()
    app[STORAGE].close()


async def close_sockets(app: web.Application) -> None:
    await app[EDGE].close_all(CloseCode.GOING_AWAY, "server shutdown")
