"""Moderation state for every world: kicks, mutes, bans, locks, reports, audit log, chat rules.

Pure: the caller passes ``now`` (Unix seconds). State is kept in memory for the hot paths
(every chat line and join reads it) and written through to the store at once, so a
moderator's action takes effect immediately and survives a restart (state is reloaded from
the store in ``__init__``).

Every moderator action checks the permission table (``permissions.check_target``: the actor's
role must allow the action and be strictly higher than the target's) and appends an audit
entry. User keys are ``Principal.key`` (``a:<user>`` / ``g:<guest id>``), so a ban on a guest
follows the guest id, not the display name.

API::

    ChatFilter(words=()) .clean(text) -> str ; .set_words(words)           # whole words, masked "***"
    ChatRateLimiter(burst=5, per_s=10.0) .take(user, now) -> None          # raises ChatRateLimited
    ChatLine(at, user, name, text)
    Moderation(store, roles: RoleBook, chat_filter=None, chat_limiter=None, history=20)
        .admit(world, principal, now, invite=None) -> None   # raises Refused(reason, code)
        .kick(world, actor, target, now, until=None, reason="")   # until None: until .allow()
        .allow(world, actor, target, now)                      # lift a kick
        .mute(world, actor, target, now, duration_s=None, reason="") / .unmute(...)
        .ban(world, actor, target, now, duration_s=None, reason="") / .unban(...)
        .remove_object(world, actor, object_id, now, reason="")
        .lock(world, actor, now, reason="") / .unlock(...) ; .is_locked(world)
        .chat(world, principal, text, now, all_muted=False) -> str   # filtered text; records history
        .recent_chat(world) -> list[ChatLine]
        .report(world, reporter, target, reason, now) -> int       # ReportRateLimited past 5/min, 30/day
        .target_for(world, actor, action, user_key) -> Principal    # permission first, then parse the key
        .reports(world, actor, limit=100) -> list[ReportRow]
        .audit_log(world, actor, limit=100) -> list[AuditRow]
        .is_banned / .is_muted / .kicked_until ...
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from server.hosting.errors import (
    ChatMutedForAll,
    ChatRateLimited,
    HostingError,
    InvalidArgument,
    Muted,
    Refused,
    ReportRateLimited,
)
from server.hosting.identity import Principal
from server.hosting.permissions import Role, check, check_target, rank
from server.hosting.ratelimit import WindowLimiter
from server.hosting.roles import RoleBook
from server.hosting.store import AuditRow, BlockRow, HostingStore, ReportRow
from server.hosting.text import clean_text

MAX_REASON = 500
MASK = "***"
# Reports per reporter (user key): 5 a minute and 30 a day, in memory. Enough for anyone
# reporting a bad evening; not enough to bury the moderators' queue.
REPORT_RULES: tuple[tuple[int, float], ...] = ((5, 60.0), (30, 86400.0))


class ChatFilter:
    """Masks listed words as ``***``: whole words only (``ass`` does not touch ``class``), any case."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._re: re.Pattern[str] | None = None
        self.set_words(words)

    def set_words(self, words: Iterable[str]) -> None:
        ws = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
        # Lookarounds instead of \b so entries with punctuation ("f*ck") still match as whole words.
        self._re = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, ws)) + r")(?!\w)", re.I) if ws else None

    def clean(self, text: str) -> str:
        return self._re.sub(MASK, text) if self._re is not None else text


class ChatRateLimiter:
    """Token bucket per user: ``burst`` messages, refilled at ``burst / per_s`` a second."""

    def __init__(self, burst: int = 5, per_s: float = 10.0) -> None:
        self.burst = burst
        self.per_s = per_s
        self._buckets: dict[str, tuple[float, float]] = {}  # user -> (tokens, at)

    def forget(self, user: str) -> None:
        self._buckets.pop(user, None)

    def take(self, user: str, now: float) -> None:
        rate = self.burst / self.per_s
        tokens, at = self._buckets.get(user, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * rate)
        if tokens < 1.0:
            self._buckets[user] = (tokens, now)
            raise ChatRateLimited((1.0 - tokens) / rate, self.burst, self.per_s)
        self._buckets[user] = (tokens - 1.0, now)
        if len(self._buckets) > 50_000:  # forget full buckets: they equal a fresh one
            self._buckets = {u: (t, a) for u, (t, a) in self._buckets.items() if t + (now - a) * rate < self.burst}


@dataclass(frozen=True, slots=True)
class ChatLine:
    at: float
    user: str  # user key
    name: str  # display name at the time
    text: str  # as shown (filtered)

    def to_json(self) -> dict[str, object]:
        return {"at": self.at, "user": self.user, "name": self.name, "text": self.text}


def _reason(reason: str) -> str:
    return clean_text(reason).strip()[:MAX_REASON] if isinstance(reason, str) else ""


def _until(now: float, duration_s: float | None) -> float | None:
    if duration_s is None:
        return None
    if not (isinstance(duration_s, int | float) and math.isfinite(duration_s) and duration_s > 0):
        raise InvalidArgument("a duration must be a positive number of seconds (or none: until lifted)")
    return now + duration_s


def _fmt_left(until: float | None, now: float) -> str:
    if until is None:
        return "until a moderator lifts it"
    s = max(1, round(until - now))
    return f"for another {s // 60} min" if s >= 120 else f"for another {s} s"


class Moderation:
    def __init__(
        self,
        store: HostingStore,
        roles: RoleBook,
        chat_filter: ChatFilter | None = None,
        chat_limiter: ChatRateLimiter | None = None,
        history: int = 20,
        report_limiter: WindowLimiter | None = None,
    ) -> None:
        self.store = store
        self.roles = roles
        self.chat_filter = chat_filter or ChatFilter()
        self.chat_limiter = chat_limiter or ChatRateLimiter()
        self.report_limiter = report_limiter or WindowLimiter(REPORT_RULES, error=ReportRateLimited)
        self.history = history
        # (kind, world, user) -> row; kinds: "ban", "mute", "kick"
        self._blocks: dict[tuple[str, str, str], BlockRow] = {(b.kind, b.world, b.user): b for b in store.blocks()}
        self._locked: set[str] = store.locked_worlds()
        self._chat: dict[str, deque[ChatLine]] = {}

    def reload(self) -> None:
        """Re-read bans, mutes, kicks and locks from the store: another node changed them."""
        self._blocks = {(b.kind, b.world, b.user): b for b in self.store.blocks()}
        self._locked = self.store.locked_worlds()

    # ----- internals ----------------------------------------------------------------------------
    def _active(self, kind: str, world: str, user: str, now: float) -> BlockRow | None:
        b = self._blocks.get((kind, world, user))
        if b is None:
            return None
        if b.until is not None and now >= b.until:
            # Expired: forget it lazily (and in the store) so it costs nothing later.
            del self._blocks[(kind, world, user)]
            self.store.delete_block(kind, world, user)
            return None
        return b

    def _act(self, world: str, actor: Principal, target: Principal, action: str) -> None:
        check_target(self.roles.role_of(world, actor), self.roles.role_of(world, target), action)

    def _audit(self, world: str, actor: Principal, action: str, target: str, now: float, reason: str) -> None:
        self.store.add_audit(world, actor.key, action, target, now, reason)

    def _block(
        self, kind: str, world: str, actor: Principal, target: Principal, until: float | None, now: float, reason: str
    ) -> BlockRow:
        row = BlockRow(kind, world, target.key, until, _reason(reason), actor.key, now)
        self._blocks[(kind, world, target.key)] = row
        self.store.set_block(row)
        return row

    def _unblock(self, kind: str, world: str, user: str) -> bool:
        had = self._blocks.pop((kind, world, user), None) is not None
        return self.store.delete_block(kind, world, user) or had

    # ----- queries ------------------------------------------------------------------------------
    def ban_of(self, world: str, user: str, now: float) -> BlockRow | None:
        return self._active("ban", world, user, now)

    def mute_of(self, world: str, user: str, now: float) -> BlockRow | None:
        return self._active("mute", world, user, now)

    def kick_of(self, world: str, user: str, now: float) -> BlockRow | None:
        return self._active("kick", world, user, now)

    def is_locked(self, world: str) -> bool:
        return world in self._locked

    def bans(self, world: str, now: float) -> list[BlockRow]:
        return [
            b
            for (k, w, u) in list(self._blocks)
            if k == "ban" and w == world
            if (b := self._active(k, w, u, now)) is not None
        ]

    # ----- admission ----------------------------------------------------------------------------
    def admit(self, world: str, principal: Principal, now: float, invite: str | None = None) -> None:
        """Raise Refused(reason, code) when ``principal`` may not join ``world`` now.

        Order matters for the message: a ban outranks a kick, and both outrank lock/private,
        so a banned person is told they are banned rather than that the world is locked.
        """
        user = principal.key
        if (b := self.ban_of(world, user, now)) is not None:
            why = f" (reason: {b.reason})" if b.reason else ""
            raise Refused(f"you are banned from {world!r} {_fmt_left(b.until, now)}{why}", "banned", b.until)
        if (k := self.kick_of(world, user, now)) is not None:
            when = "when a moderator allows it" if k.until is None else f"in {max(1, round(k.until - now))} s"
            raise Refused(f"you were kicked from {world!r}; you can rejoin {when}", "kicked", k.until)
        role = self.roles.role_of(world, principal)
        if world in self._locked and rank(role) < rank(Role.MODERATOR):
            raise Refused(f"{world!r} is locked: no new joins right now", "locked")
        self.roles.admits(world, principal, now, invite)

    # ----- moderator actions --------------------------------------------------------------------
    def kick(
        self, world: str, actor: Principal, target: Principal, now: float, until: float | None = None, reason: str = ""
    ) -> BlockRow:
        """Kick ``target``; the hub removes them. They cannot rejoin until ``until`` (None: until
        a moderator calls :meth:`allow`)."""
        self._act(world, actor, target, "kick")
        if until is not None:
            _until(now, until - now)
        row = self._block("kick", world, actor, target, until, now, reason)
        self._audit(world, actor, "kick", target.key, now, reason)
        return row

    def allow(self, world: str, actor: Principal, target: Principal, now: float) -> bool:
        """Lift a kick's rejoin block."""
        self._act(world, actor, target, "kick")
        done = self._unblock("kick", world, target.key)
        self._audit(world, actor, "allow_rejoin", target.key, now, "")
        return done

    def mute(
        self,
        world: str,
        actor: Principal,
        target: Principal,
        now: float,
        duration_s: float | None = None,
        reason: str = "",
    ) -> BlockRow:
        self._act(world, actor, target, "mute")
        row = self._block("mute", world, actor, target, _until(now, duration_s), now, reason)
        self._audit(world, actor, "mute", target.key, now, reason)
        return row

    def unmute(self, world: str, actor: Principal, target: Principal, now: float) -> bool:
        self._act(world, actor, target, "mute")
        done = self._unblock("mute", world, target.key)
        self._audit(world, actor, "unmute", target.key, now, "")
        return done

    def ban(
        self,
        world: str,
        actor: Principal,
        target: Principal,
        now: float,
        duration_s: float | None = None,
        reason: str = "",
    ) -> BlockRow:
        """Ban an account (or a guest id) from ``world``; ``duration_s`` None = until unbanned."""
        self._act(world, actor, target, "ban")
        row = self._block("ban", world, actor, target, _until(now, duration_s), now, reason)
        self._audit(world, actor, "ban", target.key, now, reason)
        return row

    def unban(self, world: str, actor: Principal, target: Principal, now: float, reason: str = "") -> bool:
        self._act(world, actor, target, "unban")
        done = self._unblock("ban", world, target.key)
        self._audit(world, actor, "unban", target.key, now, reason)
        return done

    def remove_object(self, world: str, actor: Principal, object_id: str, now: float, reason: str = "") -> None:
        """Permission + audit only: the hub removes the object from its instances."""
        check(self.roles.role_of(world, actor), "remove_object")
        self._audit(world, actor, "remove_object", f"object:{object_id}", now, reason)

    def lock(self, world: str, actor: Principal, now: float, reason: str = "") -> None:
        check(self.roles.role_of(world, actor), "lock_world")
        self._locked.add(world)
        self.store.set_lock(world, actor.key, now)
        self._audit(world, actor, "lock_world", f"world:{world}", now, reason)

    def unlock(self, world: str, actor: Principal, now: float, reason: str = "") -> None:
        check(self.roles.role_of(world, actor), "lock_world")
        self._locked.discard(world)
        self.store.delete_lock(world)
        self._audit(world, actor, "unlock_world", f"world:{world}", now, reason)

    def record(self, world: str, actor: Principal, action: str, target: str, now: float, reason: str = "") -> None:
        """Audit an action done elsewhere (host controls, role grants, invites), after its own check."""
        self._audit(world, actor, action, target, now, reason)

    # ----- chat ---------------------------------------------------------------------------------
    def chat(self, world: str, principal: Principal, text: str, now: float, all_muted: bool = False) -> str:
        """Check mute / all-muted / rate limit, filter, remember the line; returns the text to show.

        Moderators and owners are exempt from "mute all chat" (they run the room) but not from
        the rate limit (a compromised moderator account should not flood either).
        """
        user = principal.key
        if (m := self.mute_of(world, user, now)) is not None:
            raise Muted(m.until, now)
        role = self.roles.role_of(world, principal)
        check(role, "chat")
        if all_muted and rank(role) < rank(Role.MODERATOR):
            raise ChatMutedForAll()
        # No control, bidi-override, zero-width or NUL characters reach anyone's screen.
        text = clean_text(text) if isinstance(text, str) else ""
        if not text.strip():
            raise InvalidArgument("empty chat message")
        self.chat_limiter.take(user, now)
        shown = self.chat_filter.clean(text)
        self._chat.setdefault(world, deque(maxlen=self.history)).append(ChatLine(now, user, principal.name, shown))
        return shown

    def recent_chat(self, world: str) -> list[ChatLine]:
        return list(self._chat.get(world, ()))

    # ----- reports and audit --------------------------------------------------------------------
    def report(self, world: str, reporter: Principal, target: Principal, reason: str, now: float) -> int:
        """Store a report with the last chat lines of the world as context; returns its id."""
        check(self.roles.role_of(world, reporter), "report")
        if reporter.key == target.key:
            raise HostingError("you cannot report yourself")
        self.report_limiter.take(reporter.key, now)
        ctx: dict[str, object] = {
            "reporter_name": reporter.name,
            "target_name": target.name,
            "chat": [line.to_json() for line in self.recent_chat(world)],
        }
        return self.store.add_report(world, reporter.key, target.key, now, _reason(reason), ctx)

    def target_for(self, world: str, actor: Principal, action: str, user_key: str) -> Principal:
        """The person a moderator names by user key (someone not here: unban, allow). Checks
        that ``actor`` may do ``action`` at all *before* looking at the key, so a guest learns
        nothing from a malformed one; InvalidUserKey (a HostingError) for a malformed key."""
        check(self.roles.role_of(world, actor), action)
        return Principal.from_key(user_key)

    def forget_person(self, user: str) -> None:
        """Drop in-memory state naming ``user`` (a privacy delete; the store rows go separately):
        their blocks, their lines in the recent-chat buffers, their rate-limit counters."""
        for k in [k for k in self._blocks if k[2] == user]:
            del self._blocks[k]
        for world, lines in self._chat.items():
            self._chat[world] = deque((ln for ln in lines if ln.user != user), maxlen=self.history)
        self.report_limiter.forget(user)
        self.chat_limiter.forget(user)

    def reports(self, world: str, actor: Principal, limit: int = 100) -> list[ReportRow]:
        check(self.roles.role_of(world, actor), "view_reports")
        return self.store.reports(world, limit)

    def audit_log(self, world: str, actor: Principal, limit: int = 100) -> list[AuditRow]:
        check(self.roles.role_of(world, actor), "view_audit_log")
        return self.store.audit(world, limit)
