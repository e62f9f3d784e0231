"""Every exception the hosting building blocks raise.

Each carries a stable machine ``code`` (for the protocol / HTTP layer to map onto ERROR codes
or HTTP statuses) and a human ``message`` that says what happened and what to do about it.
All derive from :class:`HostingError`, so the I/O layer can catch one type.
"""

from __future__ import annotations


class HostingError(Exception):
    """Base class: ``code`` is stable and machine-readable, ``message`` is for people."""

    code = "hosting_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ----- identity -------------------------------------------------------------------------------
class InvalidUserName(HostingError):
    code = "invalid_user_name"


class InvalidPassword(HostingError):
    code = "invalid_password"


class InvalidDisplayName(HostingError):
    code = "invalid_display_name"


class UserNameTaken(HostingError):
    code = "user_name_taken"


class BadCredentials(HostingError):
    """Unknown user or wrong password: one message for both so names cannot be probed."""

    code = "bad_credentials"

    def __init__(self) -> None:
        super().__init__("wrong user name or password")


class RateLimited(HostingError):
    """Too many of something in a period; ``retry_after_s`` says when it is allowed again
    (the HTTP layer answers 429 with ``Retry-After``)."""

    code = "rate_limited"

    def __init__(self, retry_after_s: float, message: str = "") -> None:
        self.retry_after_s = max(0.0, retry_after_s)
        super().__init__(message or f"too many requests; try again in {max(1, round(retry_after_s))} s")


class SignInRateLimited(RateLimited):
    code = "sign_in_rate_limited"

    def __init__(self, retry_after_s: float, scope: str) -> None:
        self.scope = scope  # "user" or "client"
        super().__init__(
            retry_after_s, f"too many failed sign-ins for this {scope}; try again in {max(1, round(retry_after_s))} s"
        )


class RegisterRateLimited(RateLimited):
    code = "register_rate_limited"

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(
            retry_after_s,
            f"too many new accounts from this address; try again in {max(1, round(retry_after_s / 60))} min",
        )


class ReservedNameNeedsSetup(HostingError):
    """A world file gives this name a role (owner, moderator, event host): only the operator can
    create its account (setup token or ``plaza admin create-account``)."""

    code = "name_needs_setup"

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"the name {name!r} has a role in this server's world files, so its account is created by the "
            "operator: register it with the one-time setup token the server printed at start, or run "
            f"'plaza admin create-account {name}' on the server"
        )


class InvalidToken(HostingError):
    code = "invalid_token"


class TokenExpired(InvalidToken):
    code = "token_expired"


class NameReserved(HostingError):
    """A display name belongs to an account (or a world role) and the caller is not that account."""

    code = "name_reserved"

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"the name {name!r} belongs to a registered user; sign in as {name!r} or pick another display name"
        )


# ----- permissions / roles ---------------------------------------------------------------------
class PermissionDenied(HostingError):
    code = "permission_denied"

    def __init__(self, action: str, role: str, needed_role: str, detail: str = "") -> None:
        self.action = action
        self.role = role
        self.needed_role = needed_role
        msg = detail or f"{action!r} needs role {needed_role} or higher; you are {role}"
        super().__init__(msg)


class UnknownAction(HostingError):
    code = "unknown_action"


class UnknownRole(HostingError):
    code = "unknown_role"


class UnknownWorld(HostingError):
    code = "unknown_world"


class InviteInvalid(HostingError):
    code = "invite_invalid"


class Refused(HostingError):
    """A join was refused. ``code`` is one of: banned, kicked, locked, private, invite_invalid."""

    def __init__(self, reason: str, code: str, until: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code  # instance attribute on purpose: the refusal kind varies per instance
        self.until = until  # when the refusal ends (None: until lifted by a moderator, or n/a)


# ----- moderation ------------------------------------------------------------------------------
class ChatBlocked(HostingError):
    code = "chat_blocked"


class Muted(ChatBlocked):
    code = "muted"

    def __init__(self, until: float | None, now: float) -> None:
        self.until = until
        if until is None:
            msg = "you are muted in this world until a moderator unmutes you"
        else:
            msg = f"you are muted in this world for another {max(1, round(until - now))} s"
        super().__init__(msg)


class ChatMutedForAll(ChatBlocked):
    code = "chat_muted_for_all"

    def __init__(self) -> None:
        super().__init__("the host has muted chat for everyone during this event")


class ChatRateLimited(ChatBlocked):
    code = "chat_rate_limited"

    def __init__(self, retry_after_s: float, burst: int, per_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            f"slow down: at most {burst} chat messages per {per_s:g} s; next one in {max(0.1, retry_after_s):.1f} s"
        )


class InvalidArgument(HostingError):
    code = "invalid_argument"


class InvalidUserKey(InvalidArgument, ValueError):
    """Not ``a:<user>`` / ``g:<guest id>``. Also a ValueError for older callers."""

    code = "invalid_user_key"


class ReportRateLimited(RateLimited):
    code = "report_rate_limited"

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(
            retry_after_s, f"you have sent many reports; you can send another in {max(1, round(retry_after_s))} s"
        )


class NotFound(HostingError):
    code = "not_found"


# ----- events ----------------------------------------------------------------------------------
class EventError(HostingError):
    code = "event_error"


class UnknownEvent(EventError):
    code = "unknown_event"


class EventFull(EventError):
    code = "event_full"


class EventOver(EventError):
    code = "event_over"


class AccountRequired(EventError):
    """Capped events take RSVPs from accounts only: throw-away guests cannot fill the places."""

    code = "account_required"


class InvalidEvent(EventError):
    code = "invalid_event"
