"""The one permission table: which world role may do what.

Roles are ordered ``owner > moderator > member > guest``; every action has a *minimum role*
and anyone at or above it may do it. The server checks with :func:`check` (raises
:class:`PermissionDenied`) and the client UI reads :func:`table_json` (served at
``/api/permissions``) to show or hide buttons, so both read the same table.

Actions that target another person (kick, mute, ban, unban, grant_role) additionally need
:func:`can_act_on`: the actor's role must be *strictly higher* than the target's — so a
moderator cannot kick an owner or another moderator, and nobody can act on the owner.

API::

    Role                                   # StrEnum: guest, member, moderator, owner
    ACTIONS: dict[str, Role]               # action -> minimum role
    TARGETED: frozenset[str]               # actions that also need can_act_on
    parse_role(name: str) -> Role          # raises UnknownRole
    rank(role) -> int
    allowed(role, action) -> bool          # raises UnknownAction for a typo'd action
    check(role, action) -> None            # raises PermissionDenied(action, role, needed_role)
    can_act_on(actor_role, target_role) -> bool
    check_target(actor_role, target_role, action) -> None   # check() + can_act_on, precise errors
    table_json() -> dict
    table_markdown() -> str                # the table in docs/hosting.md (a test keeps them equal)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from server.hosting.errors import PermissionDenied, UnknownAction, UnknownRole


class Role(StrEnum):
    GUEST = "guest"
    MEMBER = "member"
    MODERATOR = "moderator"
    OWNER = "owner"


ROLES_ASCENDING: tuple[Role, ...] = (Role.GUEST, Role.MEMBER, Role.MODERATOR, Role.OWNER)
_RANK = {r: i for i, r in enumerate(ROLES_ASCENDING)}

G, M, MOD, OWN = Role.GUEST, Role.MEMBER, Role.MODERATOR, Role.OWNER

# action -> (minimum role, what it means). Keep this the only place that says who may do what.
_TABLE: dict[str, tuple[Role, str]] = {
    # everyone in the world
    "chat": (G, "send chat messages"),
    "grab": (G, "grab and throw grabbable objects"),
    "report": (G, "report a participant to the moderators"),
    "rsvp": (G, "RSVP to an event"),
    # members: people the world trusts to add things
    "spawn_object": (M, "spawn an object from the catalog"),
    "generate_object": (M, "generate a new object (costs server GPU time)"),
    # moderators: keep the peace, run events
    "kick": (MOD, "kick someone out (they cannot rejoin until the block ends)"),
    "mute": (MOD, "mute someone's chat for a while"),
    "ban": (MOD, "ban an account or guest from the world"),
    "unban": (MOD, "lift a ban"),
    "remove_object": (MOD, "remove an object from the world"),
    "move_others_object": (MOD, "move an object someone else placed"),
    "lock_world": (MOD, "lock the world: no new joins"),
    "view_reports": (MOD, "read reports"),
    "view_audit_log": (MOD, "read the audit log of moderator actions"),
    "invite": (MOD, "create or revoke invite links to a private world"),
    "start_event": (MOD, "start an event (the event's host may too)"),
    "end_event": (MOD, "end an event (the event's host may too)"),
    "spotlight": (MOD, "make the host and stage objects visible to everyone (the event's host may too)"),
    "gather": (MOD, "move all attendees to the stage (the event's host may too)"),
    "mute_all_chat": (MOD, "mute chat for everyone but moderators (the event's host may too)"),
    "pin_message": (MOD, "pin a message for everyone (the event's host may too)"),
    # owners: the world itself
    "grant_role": (OWN, "grant or revoke member/moderator roles"),
    "edit_world": (OWN, "edit the world"),
    "create_event": (OWN, "create an event"),
}

ACTIONS: dict[str, Role] = {a: r for a, (r, _) in _TABLE.items()}
TARGETED: frozenset[str] = frozenset({"kick", "mute", "ban", "unban", "grant_role"})
# Host controls the event's own host may use regardless of world role (see events.py).
HOST_ACTIONS: frozenset[str] = frozenset(
    {"start_event", "end_event", "spotlight", "gather", "mute_all_chat", "pin_message"}
)


def parse_role(name: str) -> Role:
    try:
        return Role(name)
    except ValueError:
        raise UnknownRole(f"unknown role {name!r}; roles are {', '.join(ROLES_ASCENDING)}") from None


def rank(role: Role | str) -> int:
    return _RANK[parse_role(role) if not isinstance(role, Role) else role]


def _needed(action: str) -> Role:
    try:
        return ACTIONS[action]
    except KeyError:
        # A typo in server code must fail loudly, never silently deny (or allow).
        raise UnknownAction(f"unknown action {action!r}; see server/hosting/permissions.py") from None


def allowed(role: Role | str, action: str) -> bool:
    return rank(role) >= rank(_needed(action))


def check(role: Role | str, action: str) -> None:
    needed = _needed(action)
    if rank(role) < rank(needed):
        raise PermissionDenied(action, str(role), str(needed))


def can_act_on(actor_role: Role | str, target_role: Role | str) -> bool:
    # Strictly higher: moderators cannot act on moderators or owners; nobody acts on the owner.
    return rank(actor_role) > rank(target_role)


def check_target(actor_role: Role | str, target_role: Role | str, action: str) -> None:
    check(actor_role, action)
    if not can_act_on(actor_role, target_role):
        raise PermissionDenied(
            action,
            str(actor_role),
            str(ROLES_ASCENDING[min(rank(target_role) + 1, len(ROLES_ASCENDING) - 1)]),
            detail=f"{_a(actor_role)} cannot {action} {_a(target_role)}; only a higher role can",
        )


def _a(role: Role | str) -> str:
    return f"an {role}" if str(role)[0] in "aeiou" else f"a {role}"


def table_json() -> dict[str, Any]:
    """The table for the client UI: roles in ascending order and, per action, who may do it."""
    return {
        "roles": [str(r) for r in ROLES_ASCENDING],
        "actions": {
            action: {
                "min_role": str(need),
                "allowed": [str(r) for r in ROLES_ASCENDING if rank(r) >= rank(need)],
                "targets_lower_roles_only": action in TARGETED,
                "event_host_may": action in HOST_ACTIONS,
                "description": desc,
            }
            for action, (need, desc) in _TABLE.items()
        },
    }


def table_markdown() -> str:
    t = table_json()
    roles: list[str] = t["roles"]
    lines = ["| action | " + " | ".join(roles) + " | notes |", "|---|" + "---|" * len(roles) + "---|"]
    for action, row in t["actions"].items():
        notes = [row["description"]]
        if row["targets_lower_roles_only"]:
            notes.append("target must have a lower role")
        marks = " | ".join("✓" if r in row["allowed"] else "—" for r in roles)
        lines.append(f"| `{action}` | {marks} | {'; '.join(notes)} |")
    return "\n".join(lines) + "\n"
