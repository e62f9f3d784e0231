"""Suggestions for a person: spaces and events, with reasons."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.recommend import RecommenderService
from server.suggest import live_context, to_json
from server.web.api import ApiRoutes, Model
from server.web.auth import caller, session_for
from server.web.keys import CATALOG, HOSTING, HUB, RECS, STORAGE
from server.web.metrics import METRICS

routes = ApiRoutes("recommendations")


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
    the hub lives; the SQLite read and the scoring run in a thread. ``here``: the world the
    person is in, never suggested to them."""
    svc = app[RECS].service
    if svc is None or limit <= 0:
        return []
    with app[METRICS].recommend_seconds.time():  # plaza_recommender_latency_seconds
        return await _scored(app, svc, user, limit, just_left, here)


async def _scored(
    app: web.Application, svc: RecommenderService, user: str, limit: int, just_left: str | None, here: str | None
) -> list[dict[str, Any]]:
    friends = await asyncio.to_thread(app[STORAGE].follows_of, user)
    now = time.time()
    ctx = live_context(app[HUB], app[HOSTING], user, friends, just_left, now, here)
    catalog = app[CATALOG]

    def score() -> list[dict[str, Any]]:  # scoring and formatting both off the loop
        return [to_json(r, svc.model.catalogue, catalog) for r in svc.recommend(user, now, ctx, limit)]

    return await asyncio.to_thread(score)


@routes.get(
    "/api/recommendations",
    summary="Spaces and events for the caller (an anonymous newcomer without a session)",
    query=RecQuery,
    response=Recommendations,
    auth="optional",
)
async def recommendations(request: web.Request, query: RecQuery) -> Recommendations:
    s = session_for(request)
    user = s.user_id if s is not None else (caller(request) or "anonymous")
    here = s.instance.spec.id if s is not None and s.instance is not None else None
    items = await suggestions(request.app, user, query.limit, s.last_left if s is not None else None, here)
    return Recommendations(user=user, items=[RecItem.model_validate(i) for i in items])
