"""Who is asking an HTTP request: a Bearer token, or the session id of a live connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from server.hosting import Principal
from server.session import Session
from server.web.api import ApiError
from server.web.keys import CONFIG, HASHER, HOSTING, HUB
from server.web.security import client_ip


def client_of(request: web.Request) -> str:
    """The caller's address (behind a trusted proxy, the forwarded one): ``security.client_ip``."""
    return client_ip(request, request.app[CONFIG].trusted_proxies)


def session_for(request: web.Request) -> Session | None:
    token = request.headers.get("X-Plaza-Session")
    if not token:
        return None
    return next((s for s in request.app[HUB].sessions.values() if s.token == token), None)


def principal(request: web.Request) -> Principal | None:
    """``Authorization: Bearer <token>`` (account or guest token), or the ``X-Plaza-Session``
    id from WELCOME of a live connection. Never a URL parameter."""
    auth = request.headers.get("Authorization", "")
    hosting = request.app[HOSTING]
    if auth.startswith("Bearer "):
        # HostingError (invalid/expired token) becomes 401 in the error middleware.
        return hosting.identity.authenticate(auth[7:].strip(), time.time(), hosting.reserved())
    s = session_for(request)
    return s.principal if s is not None else None


def caller(request: web.Request) -> str | None:
    p = principal(request)
    if p is not None:
        return p.key
    s = session_for(request)
    return s.user_id if s is not None and s.user_id else None


def require_caller(request: web.Request) -> str:
    user = caller(request)
    if user is None:
        raise ApiError(401, "unknown_user", "send Authorization: Bearer <token> or X-Plaza-Session from WELCOME")
    return user


def require_token(request: web.Request) -> Principal:
    """The account's own credential, not a connection's session id: for acts on the account
    itself (sign out everywhere, password change)."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        raise ApiError(401, "unknown_user", "send Authorization: Bearer <token> (a session id is not enough here)")
    hosting = request.app[HOSTING]
    return hosting.identity.authenticate(auth[7:].strip(), time.time(), hosting.reserved())


def require_principal(request: web.Request) -> Principal:
    p = principal(request)
    if p is None:
        raise ApiError(401, "unknown_user", "send Authorization: Bearer <token>")
    return p


T = TypeVar("T")


async def hashing(request: web.Request, fn: Callable[..., T], *args: Any) -> T:
    """Run a call that hashes a password in the app's scrypt executor."""
    return await asyncio.get_running_loop().run_in_executor(request.app[HASHER], fn, *args)
