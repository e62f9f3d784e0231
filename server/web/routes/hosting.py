"""Accounts and sign-in, events and RSVPs, roles, invites, reports and the audit log."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.hosting import table_json
from server.hosting.errors import BadCredentials
from server.web.api import ApiError, ApiRoutes, Model
from server.web.auth import caller, client_of, hashing, principal, require_principal, require_token
from server.web.keys import CLUSTER, HOSTING, HUB

routes = ApiRoutes("hosting")


def _changed(request: web.Request, world: str, what: str, event: str = "") -> None:
    """Roles or events changed here: the other workers of a cluster re-read theirs."""
    link = request.app[HUB].link
    if link is not None:
        link.hosting_changed(world, what, event)


class Credentials(Model):
    user: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class NewAccount(Credentials):
    setup_token: str | None = Field(
        default=None, max_length=128, description="needed for a name a world file gives a role to"
    )


class GuestRequest(Model):
    name: str = Field(max_length=256)


class SignedIn(BaseModel):
    user: str
    token: str


class GuestToken(BaseModel):
    token: str


class Event(BaseModel):
    """An event as the lobby and event panel show it (``EventBook.to_client``)."""

    model_config = ConfigDict(extra="allow")
    key: str
    world: str
    id: str
    title: str
    start: str  # ISO 8601, UTC
    end: str
    status: str  # "scheduled" | "starting_soon" | "live" | "ended"
    live: bool
    live_state: dict[str, Any]
    rsvps: int
    places_left: int | None
    rsvped: bool


class EventsQuery(Model):
    world: str | None = Field(default=None, max_length=64, description="only this world's events")


class NewEvent(Model):
    title: str = Field(max_length=200)
    start: str = Field(max_length=64, description="ISO 8601 date-time with offset")
    duration_minutes: float = Field(default=60, gt=0, le=7 * 24 * 60)
    description: str = Field(default="", max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    stage: str = Field(default="main", max_length=64)


class RoleChange(Model):
    user: str = Field(max_length=64)
    role: str | None = Field(default=None, max_length=32)


class Grants(BaseModel):
    world: str
    grants: list[dict[str, Any]]


class InviteRequest(Model):
    hours: float = Field(default=24, gt=0, le=24 * 90)


class Invite(BaseModel):
    world: str
    invite: str
    expires_in_hours: float


class Revoked(BaseModel):
    revoked: bool


@routes.post(
    "/api/accounts",
    summary="Create an account; returns a token",
    body=NewAccount,
    response=SignedIn,
    status=201,
    errors=[403, 409, 429],
)
async def register(request: web.Request, body: NewAccount) -> SignedIn:
    h, now = request.app[HOSTING], time.time()
    # scrypt is deliberately slow: never on the event loop (one hash: register signs in too).
    p, token = await hashing(request, h.register, body.user, body.password, now, client_of(request), body.setup_token)
    return SignedIn(user=p.account or body.user, token=token)


@routes.post("/api/signin", summary="Sign in; returns a token", body=Credentials, response=SignedIn, errors=[401, 429])
async def sign_in(request: web.Request, body: Credentials) -> SignedIn:
    h, cluster, client = request.app[HOSTING], request.app[CLUSTER], client_of(request)
    await cluster.check_sign_in(body.user, client)  # failures counted across workers (with --redis)
    try:
        token = await hashing(request, h.identity.sign_in, body.user, body.password, client, time.time())
    except BadCredentials:
        await cluster.failed_sign_in(body.user, client)
        raise
    return SignedIn(user=body.user.lower(), token=token)


@routes.post("/api/guest", summary="A guest token for a display name", body=GuestRequest, response=GuestToken)
async def guest_token(request: web.Request, body: GuestRequest) -> GuestToken:
    h = request.app[HOSTING]
    return GuestToken(token=h.identity.guest(body.name, time.time(), h.reserved()))


@routes.get("/api/permissions", summary="The permission table: who may do what", response=dict[str, Any])
async def permissions(request: web.Request) -> dict[str, Any]:
    return table_json()


@routes.get(
    "/api/events",
    summary="Live, starting-soon and upcoming events of the worlds you may see (live first, then by start)",
    query=EventsQuery,
    response=list[Event],
    auth="optional",
)
async def list_events(request: web.Request, query: EventsQuery) -> list[dict[str, Any]]:
    h, now = request.app[HOSTING], time.time()
    viewer = principal(request)
    user = viewer.key if viewer is not None else caller(request)
    shown = [h.events.to_client(e.key, now, user) for e in h.events.events(query.world) if h.events.visible(e, viewer)]
    shown = [e for e in shown if e["status"] != "ended"]  # the same list WELCOME gives a world
    return sorted(shown, key=lambda e: (not e["live"], e["start"]))


@routes.post(
    "/api/worlds/{world}/events",
    summary="Create an event in a world (owners)",
    body=NewEvent,
    response=Event,
    status=201,
    errors=[403, 404],
    auth="bearer",
)
async def create_event(request: web.Request, body: NewEvent) -> dict[str, Any]:
    actor = require_principal(request)
    h, now = request.app[HOSTING], time.time()
    try:
        start = datetime.fromisoformat(body.start)
    except ValueError:
        raise ApiError(400, "bad_field", "start: expected an ISO 8601 date-time with offset") from None
    if start.tzinfo is None:
        raise ApiError(400, "bad_field", "start: give a UTC offset, e.g. 2026-12-24T20:00:00+01:00")
    info = h.events.create(
        request.match_info["world"],
        actor,
        now,
        title=body.title,
        start=start.timestamp(),
        duration_s=body.duration_minutes * 60,
        description=body.description,
        tags=tuple(body.tags),
        capacity=body.capacity,
        stage=body.stage,
    )
    _changed(request, info.world, "events", info.key)
    return h.events.to_client(info.key, now, actor.key)


async def _rsvp(request: web.Request, going: bool) -> dict[str, Any]:
    actor = require_principal(request)
    h, now = request.app[HOSTING], time.time()
    key = request.match_info["key"]
    if going:
        h.events.rsvp(key, actor, now)
    else:
        h.events.cancel_rsvp(key, actor)
    _changed(request, h.events.get(key).world, "events", key)
    return h.events.to_client(key, now, actor.key)


@routes.post(
    "/api/events/{key:.+}/rsvp", summary="RSVP to an event", response=Event, errors=[403, 404, 409], auth="bearer"
)
async def rsvp(request: web.Request) -> dict[str, Any]:
    return await _rsvp(request, True)


@routes.delete("/api/events/{key:.+}/rsvp", summary="Cancel an RSVP", response=Event, errors=[404], auth="bearer")
async def cancel_rsvp(request: web.Request) -> dict[str, Any]:
    return await _rsvp(request, False)


def _rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [r.to_json() if hasattr(r, "to_json") else dataclasses.asdict(r) for r in rows]


@routes.get(
    "/api/worlds/{world}/reports",
    summary="Reports with chat context (moderators)",
    response=list[dict[str, Any]],
    errors=[403],
    auth="bearer",
)
async def world_reports(request: web.Request) -> list[dict[str, Any]]:
    actor = require_principal(request)
    return _rows(request.app[HOSTING].moderation.reports(request.match_info["world"], actor))


@routes.get(
    "/api/worlds/{world}/audit",
    summary="Moderator and host actions (moderators)",
    response=list[dict[str, Any]],
    errors=[403],
    auth="bearer",
)
async def world_audit(request: web.Request) -> list[dict[str, Any]]:
    actor = require_principal(request)
    return _rows(request.app[HOSTING].moderation.audit_log(request.match_info["world"], actor))


def _grants(request: web.Request) -> Grants:
    world = request.match_info["world"]
    return Grants(world=world, grants=[dataclasses.asdict(g) for g in request.app[HOSTING].roles.grants(world)])


@routes.post(
    "/api/worlds/{world}/roles",
    summary="Grant a role (owners)",
    body=RoleChange,
    response=Grants,
    errors=[403, 404],
    auth="bearer",
)
async def grant_role(request: web.Request, body: RoleChange) -> Grants:
    actor = require_principal(request)
    if body.role is None:
        raise ApiError(400, "bad_field", "role: expected a string")
    request.app[HOSTING].roles.grant(request.match_info["world"], actor, body.user, body.role, time.time())
    _changed(request, request.match_info["world"], "roles")
    return _grants(request)


@routes.delete(
    "/api/worlds/{world}/roles",
    summary="Revoke a role (owners)",
    body=RoleChange,
    response=Grants,
    errors=[403, 404],
    auth="bearer",
)
async def revoke_role(request: web.Request, body: RoleChange) -> Grants:
    actor = require_principal(request)
    request.app[HOSTING].roles.revoke(request.match_info["world"], actor, body.user, time.time())
    _changed(request, request.match_info["world"], "roles")
    return _grants(request)


@routes.post(
    "/api/worlds/{world}/invites",
    summary="An invite link for a private world",
    body=InviteRequest,
    response=Invite,
    status=201,
    errors=[403, 404],
    auth="bearer",
)
async def make_invite(request: web.Request, body: InviteRequest) -> Invite:
    actor = require_principal(request)
    now = time.time()
    world = request.match_info["world"]
    token = request.app[HOSTING].roles.make_invite(world, now + body.hours * 3600, actor, now)
    return Invite(world=world, invite=token, expires_in_hours=body.hours)


@routes.delete("/api/invites/{id}", summary="Revoke an invite", response=Revoked, errors=[403, 404], auth="bearer")
async def revoke_invite(request: web.Request) -> Revoked:
    actor = require_principal(request)
    ok = request.app[HOSTING].roles.revoke_invite(request.match_info["id"], actor, time.time())
    return Revoked(revoked=ok)  # False: it was revoked already


# ----- your account ----------------------------------------------------------------------------
class PasswordChange(Model):
    old_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class Token(BaseModel):
    token: str


class SignedOut(BaseModel):
    user: str
    signed_out: bool


@routes.post(
    "/api/me/password",
    summary="Change your password (every other token stops working); returns a fresh token",
    body=PasswordChange,
    response=Token,
    errors=[401, 429],
    auth="bearer",
)
async def change_password(request: web.Request, body: PasswordChange) -> Token:
    actor = require_token(request)
    h = request.app[HOSTING]
    token = await hashing(
        request,
        h.identity.change_password,
        actor,
        body.old_password,
        body.new_password,
        client_of(request),
        time.time(),
    )
    return Token(token=token)


@routes.post(
    "/api/me/signout-everywhere",
    summary="Every token of your account stops working",
    response=SignedOut,
    errors=[400],
    auth="bearer",
)
async def sign_out_everywhere(request: web.Request) -> SignedOut:
    actor = require_token(request)
    if actor.account is None:
        raise ApiError(400, "not_an_account", "guests have no other sessions to sign out")
    request.app[HOSTING].identity.sign_out_everywhere(actor)
    return SignedOut(user=actor.key, signed_out=True)
