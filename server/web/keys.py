"""Typed application keys: the shared objects every route and duty reaches through ``app[...]``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from aiohttp import web

from server.assets import AssetService
from server.catalog import Catalog
from server.cluster.link import Cluster
from server.config import ServerConfig
from server.hosting import Hosting
from server.hub import Hub
from server.persist import WriteBehind
from server.recommend import RecommenderService
from server.storage import Storage
from server.suggest import AnswerCache, LiveSnapshot, SignalFeed
from server.web.duties import Duties
from server.web.edge import Edge


@dataclass(slots=True)
class Recommender:
    """Filled once the model is built in a thread; None until then (or when disabled)."""

    service: RecommenderService | None = None
    failed: bool = False  # it could not be built: not retried every second
    feed: SignalFeed | None = None  # fresh signals for service.observe (server.suggest)
    answers: AnswerCache = field(default_factory=AnswerCache)  # answers still the model's
    snapshot: LiveSnapshot | None = None  # who is where, as of the latest request's tick
    # One thread scores every request, off the event loop: more would only queue for the GIL
    # (and each switch keeps the loop, and so the ticks, waiting for it).
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="recsys-serve")
    )


CONFIG = web.AppKey("config", ServerConfig)
CATALOG = web.AppKey("catalog", Catalog)
HUB = web.AppKey("hub", Hub)
STORAGE = web.AppKey("storage", Storage)
HOSTING = web.AppKey("hosting", Hosting)
ASSETS = web.AppKey("assets", AssetService)
RECS = web.AppKey("recs", Recommender)
EDGE = web.AppKey("edge", Edge)
DUTIES = web.AppKey("duties", Duties)
WRITE_BEHIND = web.AppKey("write_behind", WriteBehind)
STARTED = web.AppKey("started", float)
CLUSTER = web.AppKey("cluster", Cluster)  # presence across workers (server/cluster/)
# Password hashing (scrypt, ~0.35 s and 128 MiB each) queues here, never in the default
# executor: a burst of sign-ins must not hold the threads that saving and scoring use.
HASHER = web.AppKey("hasher", ThreadPoolExecutor)
