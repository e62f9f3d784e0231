"""A person's own signals: follows, likes, interests; export and delete what is stored."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from server.hosting import Principal
from server.privacy import delete_person, export_person
from server.storage import InvalidSignal
from server.suggest import load_signals
from server.web.api import ApiError, ApiRoutes, Model
from server.web.auth import client_of, principal, require_caller
from server.web.keys import CONFIG, HOSTING, HUB, RECS, STORAGE
from server.web.routes.hosting import hashing

routes = ApiRoutes("privacy")


class FollowRequest(Model):
    name: str = Field(min_length=1, max_length=64, description="display name of the person")


class Follows(BaseModel):
    user: str
    follows: list[str]


class LikeRequest(Model):
    item: str = Field(min_length=1, max_length=128, description="a world id or event item id")


class Liked(BaseModel):
    user: str
    item: str
    liked: bool


class InterestsRequest(Model):
    tags: list[str] = Field(max_length=20)


class Interests(BaseModel):
    user: str
    tags: list[str]


class Deleted(BaseModel):
    user: str
    deleted_rows: int
    tables: dict[str, int]
    kept: str


class Confirm(Model):
    password: str | None = Field(default=None, max_length=1024, description="accounts: your password again")


def _resolve_person(app: web.Application, name: str) -> str | None:
    """A display name -> the user key to follow: the account of that name, else someone here now."""
    if app[HOSTING].store.get_account(name.casefold()) is not None:
        return Principal.for_account(name).key
    for s in app[HUB].sessions.values():
        if s.name.casefold() == name.casefold() and s.user_id:
            return s.user_id
    return None


async def _follow(request: web.Request, body: FollowRequest, on: bool) -> Follows:
    user = require_caller(request)
    name = body.name.strip()
    target = _resolve_person(request.app, name)
    if target is None:
        raise ApiError(404, "unknown_user", f"nobody called {name[:64]!r} has an account or is here now")
    st = request.app[STORAGE]
    await asyncio.to_thread(st.follow, user, target, time.time(), on)
    return Follows(user=user, follows=sorted(await asyncio.to_thread(st.follows_of, user)))


@routes.post(
    "/api/follow", summary="Follow someone", body=FollowRequest, response=Follows, errors=[404], auth="optional"
)
async def follow(request: web.Request, body: FollowRequest) -> Follows:
    return await _follow(request, body, True)


@routes.delete(
    "/api/follow", summary="Stop following someone", body=FollowRequest, response=Follows, errors=[404], auth="optional"
)
async def unfollow(request: web.Request, body: FollowRequest) -> Follows:
    return await _follow(request, body, False)


async def _like(request: web.Request, body: LikeRequest, on: bool) -> Liked:
    user = require_caller(request)
    try:
        await asyncio.to_thread(request.app[STORAGE].like, user, body.item, time.time(), on)
    except InvalidSignal as e:
        raise ApiError(400, e.code, e.message) from None
    return Liked(user=user, item=body.item, liked=on)


@routes.post("/api/likes", summary="Like a world or event", body=LikeRequest, response=Liked, auth="optional")
async def like(request: web.Request, body: LikeRequest) -> Liked:
    return await _like(request, body, True)


@routes.delete("/api/likes", summary="Remove a like", body=LikeRequest, response=Liked, auth="optional")
async def unlike(request: web.Request, body: LikeRequest) -> Liked:
    return await _like(request, body, False)


@routes.post(
    "/api/interests", summary="Set your interest tags", body=InterestsRequest, response=Interests, auth="optional"
)
async def interests(request: web.Request, body: InterestsRequest) -> Interests:
    user = require_caller(request)
    tags = [t.strip().casefold() for t in body.tags if t.strip()]
    try:
        await asyncio.to_thread(request.app[STORAGE].set_interests, user, tags)
    except InvalidSignal as e:
        raise ApiError(400, e.code, e.message) from None
    return Interests(user=user, tags=body.tags)


@routes.get("/api/me/export", summary="Everything stored about you", response=dict[str, Any], auth="optional")
async def export_me(request: web.Request) -> dict[str, Any]:
    user = require_caller(request)
    return await asyncio.to_thread(export_person, request.app[STORAGE], request.app[HOSTING], user)


async def forget_in_recommender(app: web.Application, user: str, now: float) -> None:
    """The recommender learnt from the deleted rows: it drops the person's profile at once, then
    retrains on what is left before answering, so nothing of theirs shapes anyone's suggestions."""
    recs = app[RECS]
    svc = recs.service
    if svc is None:
        return
    svc.forget(user)
    recs.answers.clear()
    if recs.feed is not None:
        recs.feed.forget(user)
    since = now - app[CONFIG].retention_days * 86400
    signals = await asyncio.to_thread(load_signals, app[STORAGE], app[HOSTING], since)
    await asyncio.wrap_future(svc.retrain_async(signals, now))


@routes.delete(
    "/api/me/data",
    summary="Delete everything about you, and your account (accounts confirm with their password)",
    body=Confirm,
    response=Deleted,
    errors=[401, 429],
    auth="optional",
)
async def delete_me(request: web.Request, body: Confirm) -> Deleted:
    user = require_caller(request)
    p = principal(request)
    h, now = request.app[HOSTING], time.time()
    if p is not None and p.account is not None:
        # A stolen token alone must not be enough to erase an account.
        if body.password is None:
            raise ApiError(401, "password_required", "deleting an account needs its password in the body")
        await hashing(request, h.identity.confirm_password, p, body.password, client_of(request), now)
    counts = await asyncio.to_thread(delete_person, request.app[STORAGE], h, user, now)
    await forget_in_recommender(request.app, user, now)
    return Deleted(
        user=user,
        deleted_rows=sum(counts.values()),
        tables=counts,
        kept="reports about you, without the reporter, for 90 days (for moderation); then deleted",
    )
