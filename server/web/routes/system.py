"""Health and the API's own description."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from server.web.api import ApiRoutes, openapi_document
from server.web.keys import CATALOG, DUTIES, HUB, STARTED

routes = ApiRoutes("system")


class DutyState(BaseModel):
    name: str
    alive: bool
    stuck: bool
    runs: int
    failures: int


class Health(BaseModel):
    status: str  # "ok" | "unhealthy"
    worlds: int
    sessions: int
    uptime_s: float
    problems: list[str]
    duties: list[DutyState]
    tick_failures: dict[str, int]


@routes.get("/api/health", summary="Liveness: worlds, sessions, every background duty", response=Health)
async def health(request: web.Request) -> Health:
    app = request.app
    now = time.monotonic()
    duties = app[DUTIES].health(asyncio.get_running_loop().time())
    problems = [f"{d['name']} is {'stuck' if d['alive'] else 'dead'}" for d in duties if d["stuck"] or not d["alive"]]
    body = Health(
        status="unhealthy" if problems else "ok",
        worlds=len(app[CATALOG].specs),
        sessions=len(app[HUB].sessions),
        uptime_s=round(now - app[STARTED], 1),
        problems=problems,
        duties=[DutyState.model_validate(d) for d in duties],
        tick_failures=dict(app[HUB].tick_failures),
    )
    if problems:
        raise web.HTTPServiceUnavailable(text=body.model_dump_json(), content_type="application/json")
    return body


@routes.get("/api/openapi.json", summary="This API as an OpenAPI 3.1 document", response=dict[str, Any])
async def openapi(request: web.Request) -> dict[str, Any]:
    from server.web.routes import ALL

    return openapi_document((op for r in ALL for op in r.operations), "Plaza", "1")
