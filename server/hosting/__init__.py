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

    hosting = Hosting(SQLiteHostingStore(data_dir / "plaza.sqlite3"), chat_words=[...], data_dir=data_dir)
    hosting.load_worlds(configs, now)                 # on start and on every world reload
    for name in hosting.unclaimed_role_names(): log.warning(...)      # roles nobody has claimed
    if (tok := hosting.identity.ensure_setup_token(hosting.unclaimed_role_names())): log.warning(tok)
    p = hosting.identity.authenticate(hello.token, now, hosting.reserved())   # or a guest token
    name = hosting.identity.check_display_name(hello.name, p, hosting.reserved())
    hosting.moderation.admit(world, p, now, invite)   # raises Refused(reason, code)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from server.hosting.errors import HostingError, PermissionDenied, Refused
from server.hosting.events import EventBook, EventInfo, EventStatus, LiveState, Notice, events_from_config
from server.hosting.identity import (
    DEFAULT_COST,
    Claims,
    Identity,
    Principal,
    ScryptCost,
    SignInLimiter,
    TokenSigner,
    resolve_secret,
)
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
        *,
        data_dir: Path | None = None,
        password_cost: ScryptCost = DEFAULT_COST,
    ) -> None:
        """``data_dir``: where ``secret.key`` (the token secret, 0600) and ``setup-token`` live;
        by default the folder of the store's database file; for an in-memory store the secret
        is random per process. ``password_cost``: the scrypt cost of new hashes (tests pass a
        cheap one)."""
        self.store = store
        if data_dir is None:
            db = getattr(store, "path", None)
            data_dir = Path(db).parent if db is not None and str(db) != ":memory:" else None
        self.data_dir = Path(data_dir) if data_dir is not None else None
        secret = resolve_secret(store, self.data_dir / "secret.key" if self.data_dir is not None else None)
        self.identity = Identity(
            store,
            secret,
            setup_token_path=self.data_dir / "setup-token" if self.data_dir is not None else None,
            password_cost=password_cost,
        )
        self.roles = RoleBook(store, secret=secret)
        self.moderation = Moderation(store, self.roles, ChatFilter(chat_words), ChatRateLimiter(chat_burst, chat_per_s))
        # Host controls land in the same per-world audit log as moderator actions.
        self.events = EventBook(store, self.roles, audit=self.moderation.record)
        self._instancing: dict[str, tuple[str, int]] = {}

    def load_worlds(self, configs: Iterable[WorldConfig], now: float, days: float = 14.0) -> None:
        """(Re)load roles and file events of these worlds; call again after a live reload."""
        for cfg in configs:
            self.roles.set_world(WorldRoles.from_config(cfg))
            self.events.set_world_events(cfg.id, events_from_config(cfg, now, days))
            self._instancing[cfg.id] = (cfg.instances.policy, cfg.instances.max_instances)

    def instancing(self, world: str) -> tuple[str, int] | None:
        """``(policy, max_instances)`` from the world file's ``[instances]`` (None: not loaded)."""
        return self._instancing.get(world)

    # ----- visibility: one rule for every read about a world -----------------------------------
    def can_see(
        self, world: str, principal: Principal | None, invite: str | None = None, now: float | None = None
    ) -> bool:
        """May ``principal`` (None: anonymous) see ``world`` — its info, occupancy, events?
        Public and unlisted: yes; private: members (world-file role or grant) and holders of a
        valid ``invite`` (pass ``now`` with it); unknown worlds: no. Answer 404 when False, the
        same as for a world that does not exist."""
        return self.roles.can_see(world, principal, invite, now)

    def listed_worlds(self, principal: Principal | None) -> list[str]:
        """The worlds to list to ``principal``: public ones plus those they have a role in."""
        return self.roles.listed_for(principal)

    def unclaimed_role_names(self) -> list[str]:
        """Names world files give a role to (owner, moderators, event hosts) that have no account
        yet: log a warning at start — whoever registers such a name holds the role, so only the
        operator can create these accounts (setup token, or ``plaza admin create-account``)."""
        return sorted(n for n in self.reserved() if not self.store.account_exists(n))

    def claim_reserved(self, user_name: str, password: str, now: float) -> Principal:
        """Operator step (``plaza admin create-account NAME``): create the account of a name
        world files give a role to. CPU-heavy (one scrypt)."""
        return self.identity.claim_reserved(user_name, password, now)

    def register(
        self, user_name: str, password: str, now: float, client: str = "", setup_token: str | None = None
    ) -> tuple[Principal, str]:
        """Register and sign in at once (one scrypt; CPU-heavy: run in a thread). Registering a
        name a world file gives a role to needs ``setup_token``. Returns (principal, token)."""
        p = self.identity.register(user_name, password, now, client, self.reserved(), setup_token)
        return p, self.identity.issue_token(p, now)

    def forget_person(self, user: str) -> None:
        """In-memory state naming user key ``user`` (used by server.privacy.delete_person)."""
        account = user[2:] if user.startswith("a:") else None
        self.moderation.forget_person(user)
        self.events.forget_person(user, account)
        if account is not None:
            self.roles.forget_account(account)

    def reserved(self) -> set[str]:
        """Names only their accounts may use: every name a world file grants a role to, and every
        event host (a guest called like the host would look like the host on stage)."""
        return self.roles.reserved_names() | {e.host.lower() for e in self.events.events()}

    def close(self) -> None:
        self.store.close()


__all__ = [
    "DEFAULT_COST",
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
    "ScryptCost",
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
