"""Hosting multi-user sessions: identity, roles and permissions, moderation, live events.

Pure building blocks (no asyncio, aiohttp or clock; ``now`` is Unix seconds passed in) over a
small persistence interface. ``Hosting`` bundles them for the server; see docs/hosting.md.

    store.py        HostingStore protocol + SQLiteHostingStore (own tables in plaza.sqlite3)
    identity.py     accounts, passwords (scrypt), signed tokens, guests, sign-in rate limit
    permissions.py  THE permission table (roles x actions), served to the client as JSON
    roles.py        effective role per (world, user), grants, invites, private/unlisted
    moderation.py   kick/mute/ban/lock/remove, reports, audit log, chat filter + rate limit, admit()
    events.py       events, RSVP, starting soon / live, notices, host controls, attendance
    errors.py       every exception (HostingError subclasses with a stable ``code``)

Typical wiring::

    hosting = Hosting(SQLiteHostingStore(data_dir / "plaza.sqlite3"), chat_words=[...])
    hosting.load_worlds(configs, now)                 # on start and on every world reload
    p = hosting.identity.authenticate(hello.token, now, hosting.reserved())   # or a guest token
    name = hosting.identity.check_display_name(hello.name, p, hosting.reserved())
    hosting.moderation.admit(world, p, now, invite)   # raises Refused(reason, code)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from server.hosting.errors import HostingError, PermissionDenied, Refused
from server.hosting.events import EventBook, EventInfo, EventStatus, LiveState, Notice, events_from_config
from server.hosting.identity import Claims, Identity, Principal, SignInLimiter, TokenSigner
from server.hosting.moderation import ChatFilter, ChatLine, ChatRateLimiter, Moderation
from server.hosting.permissions import Role, allowed, can_act_on, check, check_target, table_json
from server.hosting.roles import RoleBook, WorldRoles, is_listed
from server.hosting.store import HostingStore, SQLiteHostingStore

if TYPE_CHECKING:
    from server.worldconfig import WorldConfig


class Hosting:
    """All hosting services over one store; the hub and HTTP API hold one of these."""

    def __init__(
        self,
        store: HostingStore,
        chat_words: Iterable[str] = (),
        chat_burst: int = 5,
        chat_per_s: float = 10.0,
    ) -> None:
        self.store = store
        self.identity = Identity(store)
        self.roles = RoleBook(store)
        self.moderation = Moderation(store, self.roles, ChatFilter(chat_words), ChatRateLimiter(chat_burst, chat_per_s))
        # Host controls land in the same per-world audit log as moderator actions.
        self.events = EventBook(store, self.roles, audit=self.moderation.record)

    def load_worlds(self, configs: Iterable[WorldConfig], now: float, days: float = 14.0) -> None:
        """(Re)load roles and file events of these worlds; call again after a live reload."""
        for cfg in configs:
            self.roles.set_world(WorldRoles.from_config(cfg))
            self.events.set_world_events(cfg.id, events_from_config(cfg, now, days))

    def reserved(self) -> set[str]:
        """Names only their accounts may use: every name a world file grants a role to, and every
        event host (a guest called like the host would look like the host on stage)."""
        return self.roles.reserved_names() | {e.host.lower() for e in self.events.events()}

    def close(self) -> None:
        self.store.close()


__all__ = [
    "ChatFilter",
    "ChatLine",
    "ChatRateLimiter",
    "Claims",
    "EventBook",
    "EventInfo",
    "EventStatus",
    "Hosting",
    "HostingError",
    "HostingStore",
    "Identity",
    "LiveState",
    "Moderation",
    "Notice",
    "PermissionDenied",
    "Principal",
    "Refused",
    "Role",
    "RoleBook",
    "SQLiteHostingStore",
    "SignInLimiter",
    "TokenSigner",
    "WorldRoles",
    "allowed",
    "can_act_on",
    "check",
    "check_target",
    "events_from_config",
    "is_listed",
    "table_json",
]
