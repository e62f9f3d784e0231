"""Roles per (world, user) and who may enter which world.

Effective role = the higher of the world file's role (``[roles] owner`` / ``moderators``, by
user name) and a run-time grant stored by the owner. Signed-in accounts without either are
``member`` in public and unlisted worlds and ``guest`` in private ones (so "members" of a
private world are exactly the people someone granted a role to); guests are always ``guest``.
Grants can raise but not lower a world-file role: the file is the authority for its owner.

Private worlds admit members (role >= member) and holders of a valid invite link. Invites are
signed tokens (their own HMAC key, see identity.TokenSigner ``purpose``) carrying
``[invite id, world, expires]``; the store keeps each invite so it can be listed and revoked.

API::

    WorldRoles(world, visibility="public", owner=None, moderators=())   WorldRoles.from_config(cfg)
    is_listed(visibility) -> bool
    RoleBook(store, default_account_role=Role.MEMBER, secret=None)   # secret: Identity.secret
        .set_world(WorldRoles)                  # call on load / live reload of world files
        .remove_world(world)
        .reserved_names() -> set[str]           # every user name a world file grants a role to
        .role_of(world, principal) -> Role
        .grant(world, actor, user_name, role, now) -> None    # owner only; role member|moderator
        .revoke(world, actor, user_name, now) -> bool
        .grants(world) -> list[GrantRow]
        .make_invite(world, expires_at, created_by, now) -> str        # token
        .check_invite(token, world, now) -> InviteRow                  # raises InviteInvalid
        .revoke_invite(invite_id, actor, now) -> bool   # the creator, or invite permission there
        .invites(world) -> list[InviteRow]
        .admits(world, principal, now, invite=None) -> None  # raises Refused("private"/"invite_invalid")
        .can_see(world, principal | None, invite=None, now=None) -> bool   # THE visibility rule
        .has_explicit_role(world, principal) -> bool       # world-file role or a grant
        .listed_for(principal | None) -> list[str]         # worlds to list to this person

Visibility (``can_see``: may this person learn that the world exists and what is in it —
world info, occupancy, events): ``public`` and ``unlisted`` worlds, anyone (unlisted ones are
just not *listed*); ``private`` worlds, only members (a world-file role or a grant) and holders
of a valid invite. Unknown worlds: nobody. Listing (``listed_for``): public worlds, plus the
unlisted and private worlds the person has an explicit role in.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.hosting.errors import InvalidToken, InviteInvalid, NotFound, PermissionDenied, Refused, UnknownWorld
from server.hosting.identity import Principal, TokenSigner, normalize_user_name
from server.hosting.permissions import Role, check, check_target, parse_role, rank
from server.hosting.store import GrantRow, HostingStore, InviteRow

if TYPE_CHECKING:
    from server.worldconfig import WorldConfig

MAX_INVITE_TTL_S = 90 * 24 * 3600.0
GRANTABLE = (Role.MEMBER, Role.MODERATOR)  # owner comes from the world file only


def is_listed(visibility: str) -> bool:
    """Only public worlds appear in lists; unlisted ones are joinable by link, private by invite."""
    return visibility == "public"


@dataclass(frozen=True, slots=True)
class WorldRoles:
    world: str
    visibility: str = "public"
    owner: str | None = None
    moderators: tuple[str, ...] = ()

    @staticmethod
    def from_config(cfg: WorldConfig) -> WorldRoles:
        return WorldRoles(cfg.id, cfg.visibility, cfg.roles.owner, tuple(cfg.roles.moderators))


class RoleBook:
    def __init__(
        self, store: HostingStore, default_account_role: Role = Role.MEMBER, secret: bytes | None = None
    ) -> None:
        self.store = store
        self.default_account_role = default_account_role
        self._worlds: dict[str, WorldRoles] = {}
        # Grants cached in memory (read on every join/action), written through to the store.
        self._grants: dict[str, dict[str, Role]] = {}
        # The server's token secret (Identity.secret, from <data_dir>/secret.key); without one,
        # a random secret (invite links then die with the process: tests only).
        self._invites = TokenSigner(secret or secrets.token_bytes(32), purpose="invite")

    # ----- world files --------------------------------------------------------------------------
    def set_world(self, roles: WorldRoles) -> None:
        self._worlds[roles.world] = roles
        self.reload(roles.world)

    def reload(self, world: str) -> None:
        """Re-read the world's granted roles from the store (another worker granted or revoked one)."""
        if world in self._worlds:
            self._grants[world] = {g.account: parse_role(g.role) for g in self.store.grants(world)}

    def set_worlds(self, roles: Iterable[WorldRoles]) -> None:
        for r in roles:
            self.set_world(r)

    def remove_world(self, world: str) -> None:
        self._worlds.pop(world, None)
        self._grants.pop(world, None)

    def world(self, world: str) -> WorldRoles:
        try:
            return self._worlds[world]
        except KeyError:
            raise UnknownWorld(f"no world {world!r}") from None

    def reserved_names(self) -> set[str]:
        out: set[str] = set()
        for w in self._worlds.values():
            if w.owner:
                out.add(w.owner.lower())
            out.update(m.lower() for m in w.moderators)
        return out

    # ----- roles --------------------------------------------------------------------------------
    def _file_role(self, w: WorldRoles, account: str) -> Role | None:
        if w.owner is not None and w.owner.lower() == account:
            return Role.OWNER
        if any(m.lower() == account for m in w.moderators):
            return Role.MODERATOR
        return None

    def role_of(self, world: str, principal: Principal) -> Role:
        w = self.world(world)
        if principal.kind != "account" or principal.account is None:
            return Role.GUEST
        acct = principal.account
        found = [r for r in (self._file_role(w, acct), self._grants.get(world, {}).get(acct)) if r is not None]
        if found:
            return max(found, key=rank)
        return Role.GUEST if w.visibility == "private" else self.default_account_role

    def grant(self, world: str, actor: Principal, user_name: str, role: Role | str, now: float) -> None:
        role = parse_role(role) if not isinstance(role, Role) else role
        if role not in GRANTABLE:
            raise PermissionDenied(
                "grant_role",
                str(self.role_of(world, actor)),
                str(Role.OWNER),
                detail=f"only {', '.join(GRANTABLE)} can be granted; the owner is set in the world file",
            )
        account = normalize_user_name(user_name)
        actor_role = self.role_of(world, actor)
        check_target(actor_role, self.role_of(world, Principal.for_account(account)), "grant_role")
        self.store.set_grant(GrantRow(world, account, str(role), actor.key, now))
        self._grants.setdefault(world, {})[account] = role

    def revoke(self, world: str, actor: Principal, user_name: str, now: float) -> bool:
        account = normalize_user_name(user_name)
        check_target(self.role_of(world, actor), self.role_of(world, Principal.for_account(account)), "grant_role")
        self._grants.get(world, {}).pop(account, None)
        return self.store.delete_grant(world, account)

    def grants(self, world: str) -> list[GrantRow]:
        return self.store.grants(world)

    # ----- invites ------------------------------------------------------------------------------
    def make_invite(self, world: str, expires_at: float, created_by: Principal, now: float) -> str:
        self.world(world)
        check(self.role_of(world, created_by), "invite")
        if not now < expires_at <= now + MAX_INVITE_TTL_S:
            raise InviteInvalid(f"an invite must expire in the future and within {MAX_INVITE_TTL_S / 86400:g} days")
        invite_id = secrets.token_urlsafe(9)
        self.store.add_invite(InviteRow(invite_id, world, created_by.key, now, float(expires_at), None))
        return self._invites.sign_payload([invite_id, world, float(expires_at)])

    def check_invite(self, token: str, world: str, now: float) -> InviteRow:
        try:
            p = self._invites.open_payload(token)
        except InvalidToken:
            raise InviteInvalid("this invite link is not valid") from None
        if len(p) != 3 or not isinstance(p[0], str) or p[1] != world:
            raise InviteInvalid(f"this invite link is not for world {world!r}")
        row = self.store.get_invite(p[0])
        if row is None or row.world != world:
            raise InviteInvalid("this invite link is not valid")
        if row.revoked is not None:
            raise InviteInvalid("this invite link was revoked; ask for a new one")
        if now >= row.expires:
            raise InviteInvalid("this invite link has expired; ask for a new one")
        return row

    def revoke_invite(self, invite_id: str, actor: Principal, now: float) -> bool:
        """Revoke by id: the invite's creator, or anyone whose role in the invite's world allows
        ``invite`` (moderator+) — nobody else. NotFound for an unknown id (also when the world is
        gone); PermissionDenied otherwise. False if it was already revoked."""
        row = self.store.get_invite(invite_id) if isinstance(invite_id, str) else None
        if row is None:
            raise NotFound(f"no invite {str(invite_id)[:40]!r}")
        if row.created_by != actor.key:
            role = self.role_of(row.world, actor) if row.world in self._worlds else Role.GUEST
            check(role, "invite")
        return self.store.revoke_invite(invite_id, now)

    def invites(self, world: str) -> list[InviteRow]:
        return self.store.invites(world)

    # ----- visibility ---------------------------------------------------------------------------
    def has_explicit_role(self, world: str, principal: Principal | None) -> bool:
        """A role the world gives this account by name (file or grant), not the default."""
        w = self._worlds.get(world)
        if w is None or principal is None or principal.kind != "account" or principal.account is None:
            return False
        return self._file_role(w, principal.account) is not None or principal.account in self._grants.get(world, {})

    def can_see(
        self, world: str, principal: Principal | None, invite: str | None = None, now: float | None = None
    ) -> bool:
        """THE visibility rule (see the module docstring); use it for every read about a world."""
        w = self._worlds.get(world)
        if w is None:
            return False
        if w.visibility != "private":
            return True
        if principal is not None and rank(self.role_of(world, principal)) >= rank(Role.MEMBER):
            return True
        if invite is not None and now is not None:
            try:
                self.check_invite(invite, world, now)
            except InviteInvalid:
                return False
            return True
        return False

    def listed_for(self, principal: Principal | None) -> list[str]:
        """Worlds to list to this person: public ones, and those they have an explicit role in."""
        return sorted(
            w for w, r in self._worlds.items() if is_listed(r.visibility) or self.has_explicit_role(w, principal)
        )

    def forget_account(self, account: str) -> None:
        """In-memory grants of a deleted account (the store rows go in the privacy delete)."""
        for grants in self._grants.values():
            grants.pop(account, None)

    # ----- admission ----------------------------------------------------------------------------
    def admits(self, world: str, principal: Principal, now: float, invite: str | None = None) -> None:
        w = self.world(world)
        if w.visibility != "private" or rank(self.role_of(world, principal)) >= rank(Role.MEMBER):
            return
        if invite is None:
            raise Refused(f"{world!r} is private: members and people with an invite link only", "private")
        try:
            self.check_invite(invite, world, now)
        except InviteInvalid as e:
            raise Refused(e.message, "invite_invalid") from None
