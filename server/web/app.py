"""``create_app``: the frozen aiohttp application — shared objects under typed keys, the
background duties as one cleanup context, the routes of every domain, static files.

Where things live: WebSocket frames in ``edge.py``, HTTP routes in ``routes/<domain>.py``,
background duties in ``background.py`` on the one periodic helper of ``duties.py``.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web

from server.assets import AssetService
from server.backends import open_stores
from server.catalog import Catalog, load_catalog
from server.cluster import link as cluster_link
from server.cluster.supervisor import INDEX_STRIDE, worker_index
from server.config import ServerConfig
from server.hosting import Hosting
from server.hosting.admin import startup_notes
from server.hosting.identity import HASH_SLOTS
from server.hub import Hub
from server.persist import SavedState, WriteBehind
from server.web import background, metrics, security, voice
from server.web.api import errors_middleware, html_error
from server.web.duties import Duties
from server.web.edge import Edge, wall_time
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
    STARTED,
    STORAGE,
    WRITE_BEHIND,
    Recommender,
)
from server.web.routes import ALL
from server.worldconfig.models import ID_RE

log = logging.getLogger("plaza")


def create_app(config: ServerConfig, catalog: Catalog | None = None) -> web.Application:
    app = web.Application(middlewares=[errors_middleware], client_max_size=256 * 1024)
    cat = catalog if catalog is not None else load_catalog(config.worlds_dir)
    stores = open_stores(config)  # SQLite in data_dir, or the cluster's PostgreSQL (--database)
    storage = stores.storage
    hosting = Hosting(stores.hosting, chat_words=config.chat_words, data_dir=config.data_dir)
    hosting.load_worlds(cat.configs.values(), time.time())
    for note in startup_notes(hosting):  # unclaimed role names, the one-time setup token
        log.warning("%s", note)
    # Read once here, before the loop serves anyone; afterwards instances open from memory.
    saved = SavedState.load(storage)
    hub = Hub(
        cat.specs,
        load_objects=saved.load_objects,
        interest=config.interest,
        hosting=hosting,
        wall=wall_time,
        load_removed=saved.removed_objects,
        load_spawned=saved.load_spawned,
    )
    hub.index_base = worker_index() * INDEX_STRIDE  # worker k of --workers N: its own instance numbers
    write_behind = WriteBehind(storage, saved, wall_time)
    app[CONFIG] = config
    app[CATALOG] = cat
    app[STORAGE] = storage
    app[HOSTING] = hosting
    app[HUB] = hub
    app[WRITE_BEHIND] = write_behind
    app[EDGE] = Edge(hub, config, write_behind)
    app[DUTIES] = Duties()
    app[ASSETS] = AssetService(config.data_dir / "assets")
    app[RECS] = Recommender()
    app[STARTED] = time.monotonic()
    app[CLUSTER] = cluster_link.make(config.redis)  # LocalPresence unless --redis
    app[HASHER] = ThreadPoolExecutor(max_workers=HASH_SLOTS, thread_name_prefix="scrypt")
    app.cleanup_ctx.append(background.run)
    app.cleanup_ctx.append(cluster_link.run)  # after the duties start; stops before the last save
    app.on_shutdown.append(cluster_link.withdraw)  # first: no MOVED here while sockets close
    app.on_shutdown.append(background.close_sockets)
    security.install(app, config)  # CSP and friends on every response; settings checked

    metrics.setup(app)  # the app's own Prometheus registry, its observers and middleware
    app.router.add_get("/ws", app[EDGE].handle)
    app.router.add_get("/metrics", metrics.serve_metrics)  # Prometheus text, not a JSON API route
    voice.install(app)  # the media server, room control, and /janus (before the static catch-all)
    for r in ALL:
        app.router.add_routes(r.table)
    _static(app, config)
    return app


# Not in every system's mime.types (aiohttp guesses from those): lobby thumbnails are WebP,
# and under nosniff an octet-stream answer would be a broken image.
EXTRA_TYPES = {".webp": "image/webp"}


def _static(app: web.Application, config: ServerConfig) -> None:
    if (config.worlds_dir / "assets").is_dir():
        add_files(app, "/assets/", config.worlds_dir / "assets")
    if config.sdk_dir.is_dir():
        add_files(app, "/sdk/", config.sdk_dir)
    index: Path = config.web_dir / "index.html"
    if index.is_file():

        async def page(request: web.Request) -> web.StreamResponse:
            world = request.match_info.get("world")
            # Not even a world id (bad percent-encoding, capitals, spaces): a page that says so,
            # not the client booting into a black world. A well-formed unknown id goes to the
            # client, which returns to the lobby and says the world does not exist.
            if world is not None and not ID_RE.match(world):
                why = f"{world!r} is not a world address: world ids are lowercase letters, digits, - and _."
                return html_error(404, "Not Found", why)
            return web.FileResponse(index)

        app.router.add_get("/", page)
        app.router.add_get("/w/{world}", page)
        add_files(app, "/", config.web_dir)


def add_files(app: web.Application, prefix: str, directory: Path) -> None:
    """Files under ``directory`` at ``prefix``. Unlike ``add_static``, a missing file is a
    plain 404 raised here (which the error middleware words), not an empty download."""
    root = directory.resolve()

    async def serve(request: web.Request) -> web.FileResponse:
        rel = request.match_info["path"]
        if rel.startswith("api/"):  # never a file: a known API path with another method is 405
            await _refuse_other_method(request)
        try:
            path = (root / rel).resolve()
            found = path.is_relative_to(root) and path.is_file()
        except (OSError, ValueError):  # a name too long for the file system, a NUL byte
            found = False
        if not found:
            raise web.HTTPNotFound()
        kind = EXTRA_TYPES.get(path.suffix.lower())
        return web.FileResponse(path, headers={"Content-Type": kind} if kind else None)

    app.router.add_get(prefix + "{path:.+}", serve)


async def _refuse_other_method(request: web.Request) -> None:
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if isinstance(resource, web.Resource) and resource.canonical != "/{path}":
            _, methods = await resource.resolve(request)
            allowed |= methods
    allowed.discard("HEAD")
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, sorted(allowed))
    raise web.HTTPNotFound()
