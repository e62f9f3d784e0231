"""Suggestions for a person: spaces and events, with reasons."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.suggest import Answer, context_key, current_snapshot, live_context, to_json
from server.web.api import ApiRoutes, Model
from server.web.auth import caller, session_for
from server.web.keys import CATALOG, HOSTING, HUB, RECS, STORAGE
from server.web.metrics import METRICS

routes = ApiRoutes("recommendations")
T = TypeVar("T")


class RecQuery(Model):
    limit: int = Field(default=10, ge=0, le=50, description="how many items, 0..50 (0: an empty list)")


class RecItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    kind: str
    score: float
    reason: str


class Recommendations(BaseModel):
    user: str
    items: list[RecItem]


async def suggestions(
    app: web.Application, user: str, limit: int, just_left: str | None, here: str | None = None
) -> list[dict[str, Any]]:
    """Scored off the event loop: the live context (who is where) is read on the loop, where
    the hub lives; the SQLite read and the scoring run on the recommender's one thread.
    ``here``: the world the person is in, never suggested to them."""
    return await _off_loop(app, user, limit, just_left, here, lambda items: items)


async def _off_loop(
    app: web.Application,
    user: str,
    limit: int,
    just_left: str | None,
    here: str | None,
    finish: Callable[[list[dict[str, Any]]], T],
) -> T:
    """A stored answer when it is still the model's (``AnswerCache``), checked on the loop;
    else one trip to the recommender's thread for the follows read, the scoring, the
    formatting and ``finish`` (the HTTP route serialises its JSON there too). Who is where is
    copied on the loop (``current_snapshot``: again only when someone moved), so that thread never touches the hub."""
    recs = app[RECS]
    svc = recs.service
    if svc is None or limit <= 0:
        return finish([])
    with app[METRICS].recommend_seconds.time():  # plaza_recommender_latency_seconds
        now = time.time()
        snap = recs.snapshot = current_snapshot(app[HUB], app[HOSTING], now, recs.snapshot)
        question = (limit, just_left, here)
        stamp = svc.stamp(user)
        stored = recs.answers.candidate(user, question, stamp, now)
        if stored is not None and stored.context == context_key(
            live_context(snap, user, stored.friends, just_left, here)
        ):
            app[METRICS].recommend_answers.labels("stored").inc()
            return finish(stored.items)
        app[METRICS].recommend_answers.labels("scored").inc()
        storage, catalog = app[STORAGE], app[CATALOG]

        def run() -> tuple[T, Answer]:
            friends = frozenset(storage.follows_of(user))
            ctx = live_context(snap, user, friends, just_left, here)
            items = [to_json(r, svc.model.catalogue, catalog) for r in svc.recommend(user, now, ctx, limit)]
            return finish(items), Answer(stamp, context_key(ctx), friends, now + recs.answers.ttl, items)

        out, answer = await asyncio.get_running_loop().run_in_executor(recs.pool, run)
        recs.answers.put(user, question, answer)
        return out


@routes.get(
    "/api/recommendations",
    summary="Spaces and events for the caller (an anonymous newcomer without a session)",
    query=RecQuery,
    response=Recommendations,
    auth="optional",
)
async def recommendations(request: web.Request, query: RecQuery) -> web.Response:
    s = session_for(request)
    user = s.user_id if s is not None else (caller(request) or "anonymous")
    here = s.instance.spec.id if s is not None and s.instance is not None else None
    just_left = s.last_left if s is not None else None

    def body(items: list[dict[str, Any]]) -> bytes:  # the declared model's JSON, built in the thread
        return json.dumps({"user": user, "items": items}, separators=(",", ":")).encode()

    payload = await _off_loop(request.app, user, query.limit, just_left, here, body)
    return web.Response(body=payload, content_type="application/json")
