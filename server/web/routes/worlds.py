"""The world list and one world's details."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from server.hosting.events import iso_utc
from server.web.api import ApiError, ApiRoutes, Model
from server.web.auth import principal
from server.web.keys import CATALOG, CLUSTER, HOSTING, HUB

routes = ApiRoutes("worlds")


class InstanceInfo(BaseModel):
    id: str
    occupancy: int
    capacity: int


class WorldEvent(BaseModel):
    id: str
    key: str
    world: str
    title: str
    description: str
    tags: list[str]
    start: str  # ISO 8601
    end: str
    live: bool
    capacity: int | None
    host: str


class WorldSummary(BaseModel):
    id: str
    name: str
    description: str
    tags: list[str]
    visibility: str
    thumbnail: str | None = Field(description="the lobby picture's same-origin URL path, or null: draw a placeholder")
    capacity: int
    occupancy: int
    instances: list[InstanceInfo]
    events: list[WorldEvent]


class WorldDetail(WorldSummary):
    world_info: dict[str, Any]


def world_events(app: web.Application, world: str, days: float = 7.0) -> list[WorldEvent]:
    """A world's live and upcoming events for the world list, from the one event book."""
    now = time.time()
    out: list[WorldEvent] = []
    for e in sorted(app[HOSTING].events.events(world), key=lambda e: e.start):
        if e.end <= now or e.start > now + days * 86400:
            continue
        out.append(
            WorldEvent(
                id=e.id,
                key=e.key,
                world=e.world,
                title=e.title,
                description=e.description,
                tags=list(e.tags),
                start=iso_utc(e.start),
                end=iso_utc(e.end),
                live=e.start <= now < e.end,
                capacity=e.capacity,
                host=e.host,
            )
        )
    return out


class WorldQuery(Model):
    invite: str | None = Field(default=None, max_length=512, description="an invite to this private world")


@routes.get(
    "/api/worlds",
    summary="Public worlds (and those you have a role in) with live occupancy and upcoming events",
    response=list[WorldSummary],
    auth="optional",
)
async def list_worlds(request: web.Request) -> list[dict[str, object]]:
    app = request.app
    cat = app[CATALOG]
    listed = [w for w in app[HOSTING].listed_worlds(principal(request)) if w in cat.specs]
    cluster = app[CLUSTER]  # other workers' instances of the same worlds: live occupancy everywhere
    return [
        cluster.add_remote(cat.summary(w, app[HUB], [e.model_dump() for e in world_events(app, w)])) for w in listed
    ]


@routes.get(
    "/api/worlds/{world}",
    summary="One world, with its full description (private worlds: members and invite holders)",
    query=WorldQuery,
    response=WorldDetail,
    errors=[404],
    auth="optional",
)
async def get_world(request: web.Request, query: WorldQuery) -> dict[str, object]:
    app = request.app
    wid = request.match_info["world"]
    # A private world you may not see is answered exactly like one that does not exist.
    if wid not in app[CATALOG].specs or not app[HOSTING].can_see(wid, principal(request), query.invite, time.time()):
        raise ApiError(404, "unknown_world", f"no world {wid[:64]!r}")
    return app[CATALOG].detail(wid, app[HUB], [e.model_dump() for e in world_events(app, wid)])
