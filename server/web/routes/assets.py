"""Generated assets: submit a prompt, follow the job, fetch the GLB."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.assets import GEN_EXTRA_HINT, GEN_URL_PREFIX, missing_gen_modules
from server.web.api import ApiError, ApiRoutes, Model
from server.web.auth import require_principal
from server.web.keys import ASSETS

routes = ApiRoutes("assets")


class AssetRequest(Model):
    prompt: str = Field(max_length=2000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class JobCreated(BaseModel):
    job: str
    status_url: str


class JobStatus(BaseModel):
    model_config = ConfigDict(extra="allow")
    job: str
    prompt: str
    seed: int
    state: str
    progress: float


_QUOTA_ERRORS = ("RateLimited", "QueueFull")


@routes.post(
    "/api/assets",
    summary="Generate a GLB from a text prompt",
    body=AssetRequest,
    response=JobCreated,
    status=202,
    errors=[403, 429, 503],
    auth="bearer",
)
async def submit_asset(request: web.Request, body: AssetRequest) -> JobCreated:
    missing = missing_gen_modules()
    if missing:  # say so before asking who you are: nobody can generate here
        raise ApiError(503, "unavailable", f"{GEN_EXTRA_HINT} (missing: {', '.join(missing)})")
    who = require_principal(request)
    # The permission table: generating costs compute, so it needs an account (member or above);
    # the job queue's quotas are per account, not per address.
    if who.account is None:
        raise ApiError(403, "permission_denied", "generating assets needs an account: sign in (guests cannot)")
    user = who.key
    try:
        job = await asyncio.to_thread(request.app[ASSETS].submit, body.prompt, body.seed, user, None)
    except RuntimeError as e:
        raise ApiError(503, "unavailable", str(e)) from None
    except Exception as e:  # genmodels' PromptError / RateLimited / QueueFull: user-facing messages
        name = type(e).__name__
        raise ApiError(429 if name in _QUOTA_ERRORS else 400, name.lower(), str(e)[:300]) from None
    return JobCreated(job=job, status_url=f"/api/assets/jobs/{job}")


@routes.get("/api/assets/jobs/{id}", summary="A generation job's state", response=JobStatus, errors=[404, 503])
async def asset_job(request: web.Request) -> dict[str, Any]:
    try:
        return request.app[ASSETS].status(request.match_info["id"])
    except KeyError:
        raise ApiError(404, "unknown_job", "no such job") from None
    except RuntimeError as e:
        raise ApiError(503, "unavailable", str(e)) from None


@routes.get(
    GEN_URL_PREFIX + "{key}.glb",
    summary="A generated GLB (immutable: the key hashes prompt, seed and model version)",
    errors=[404],
    content_type="model/gltf-binary",
)
async def asset_file(request: web.Request) -> web.StreamResponse:
    path = request.app[ASSETS].file(request.match_info["key"])
    if path is None:
        raise ApiError(404, "unknown_asset", "no such asset")
    return web.FileResponse(
        path, headers={"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "model/gltf-binary"}
    )
