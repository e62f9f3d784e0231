"""Where the hub meets hosting: identity in HELLO, admission, moderated chat, moderator and
host actions, event notices, attendance, and the spotlit stage shared across instances.

Pure like the hub (``now_ms`` in, messages out through the hub's outboxes); the hosting
building blocks in ``server.hosting`` keep the rules, this module applies their outcomes to
the running worlds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from server.codec import packb
from server.effects import Outbox, Relay
from server.errors import CloseConnection, ProtocolError
from server.hosting import Hosting, HostingError, Principal, Refused, Role
from server.hosting.errors import ChatRateLimited, InvalidUserKey, RateLimited
from server.hosting.permissions import ACTIONS, allowed
from server.messages import Host, Moderate, Report, Rsvp
from server.protocol import CloseCode, ErrorCode, MsgType, NoticeKind
from server.session import Session

if TYPE_CHECKING:
    from server.world import WorldInstance

Wall = Callable[[int], float]  # server milliseconds -> Unix seconds


def _forbidden(e: HostingError, ref: int) -> ProtocolError:
    if isinstance(e, InvalidUserKey):  # only reached once the permission check passed
        return ProtocolError(ErrorCode.BAD_FIELD, f"moderate.user: {e.message}", ref)
    code = ErrorCode.RATE_LIMITED if isinstance(e, ChatRateLimited | RateLimited) else ErrorCode.FORBIDDEN
    return ProtocolError(code, e.message, ref)


class HubPort(Protocol):
    """What HostLink needs of the hub (the hub owns HostLink; this keeps the import one-way)."""

    sessions: dict[int, Session]
    instances: dict[str, list[WorldInstance]]
    outbox: Outbox

    def emit(self, sid: int, data: bytes) -> None: ...
    def error(self, sid: int, code: ErrorCode, text: str, ref: int = 0) -> None: ...
    def close(self, sid: int, code: CloseCode, reason: str, now_ms: int = 0) -> None: ...
    def remove_object(self, world: str, oid: str) -> None: ...
    def gather(self, world: str, stage: str) -> None: ...
    def set_stage(self, world: str, ids: frozenset[str]) -> None: ...


class HostLink:
    def __init__(self, hub: HubPort, hosting: Hosting, wall: Wall) -> None:
        self.hub = hub
        self.hosting = hosting
        self.wall = wall
        self._attending: set[tuple[str, str]] = set()  # (event key, user key)
        self._gathered: dict[str, int] = {}  # event key -> gather_seq applied
        self._pinned: dict[str, str | None] = {}  # world -> pinned text announced
        # (event key, user key) "starting" notices delivered by this worker, or by another one
        # whose relay reached here: a person hears it once, on whichever worker they are.
        self._told: set[tuple[str, str]] = set()

    # ----- joining ----------------------------------------------------------------------
    def identify(self, s: Session, name: str, token: str | None, now_ms: int) -> str | None:
        """Set the session's principal from its token (or make a guest); returns a new token."""
        h, now = self.hosting, self.wall(now_ms)
        reserved = h.reserved()
        issued: str | None = None
        try:
            if token:
                p = h.identity.authenticate(token, now, reserved)
                if p.is_guest and p.name != name:
                    # A renamed guest keeps their guest id (bans and RSVPs follow the id).
                    issued = h.identity.guest(name, now, reserved, guest_id=p.guest_id)
                    p = h.identity.authenticate(issued, now, reserved)
            else:
                issued = h.identity.guest(name, now, reserved)
                p = h.identity.authenticate(issued, now, reserved)
            s.name = h.identity.check_display_name(name, p, reserved)
        except HostingError as e:
            self.hub.error(s.sid, ErrorCode.FORBIDDEN, e.message, MsgType.HELLO)
            raise CloseConnection(CloseCode.UNAUTHORIZED, e.message[:120]) from None
        s.principal = p
        s.user_id = p.key
        return issued

    def admit(self, s: Session, world: str, invite: str | None, now_ms: int, ref: MsgType) -> None:
        assert s.principal is not None
        try:
            self.hosting.moderation.admit(world, s.principal, self.wall(now_ms), invite)
        except Refused as e:
            if ref == MsgType.HELLO:
                self.hub.error(s.sid, ErrorCode.FORBIDDEN, e.reason, ref)
                raise CloseConnection(CloseCode.REFUSED, e.reason[:120]) from None
            raise ProtocolError(ErrorCode.FORBIDDEN, e.reason, ref) from None

    def role(self, s: Session, world: str) -> Role:
        return self.hosting.roles.role_of(world, s.principal) if s.principal is not None else Role.GUEST

    def welcome_extras(self, s: Session, world: str, now_ms: int) -> dict[str, object]:
        role = self.role(s, world)
        now = self.wall(now_ms)
        events = [self.hosting.events.to_client(e.key, now, s.user_id) for e in self.hosting.events.events(world)]
        pinned = next((self.hosting.events.state(e.key).pinned for e in self.hosting.events.live_in(world, now)), None)
        return {
            "user": s.user_id,
            "role": str(role),
            "permissions": sorted(a for a in ACTIONS if allowed(role, a)),
            "events": [e for e in events if e.get("status") != "ended"],
            "pinned": pinned,
        }

    # ----- chat ----------------------------------------------------------------------------
    def event_live(self, world: str, now_ms: int) -> bool:
        """An event is on in ``world`` now: its chat crosses the world's instances."""
        return bool(self.hosting.events.live_in(world, self.wall(now_ms)))

    def chat_text(self, s: Session, world: str, text: str, now_ms: int) -> str:
        """The line to broadcast: Moderation.chat strips control, bidi-override, zero-width and
        NUL characters (server.hosting.text.clean_text), then mute / rate limit / word filter."""
        assert s.principal is not None
        now = self.wall(now_ms)
        try:
            return self.hosting.moderation.chat(
                world, s.principal, text, now, all_muted=self.hosting.events.chat_muted(world, now)
            )
        except HostingError as e:
            raise _forbidden(e, MsgType.CHAT) from None

    # ----- moderator, report, host and RSVP messages ------------------------------------------
    def _target(self, inst: WorldInstance, eid: int, ref: int) -> Session:
        for sid, m in inst.members.items():
            if m.eid == eid:
                target = self.hub.sessions.get(sid)
                if target is not None and target.principal is not None:
                    return target
        raise ProtocolError(ErrorCode.UNKNOWN_OBJECT, f"no person with entity id {eid} here", ref)

    def _notice(self, sid: int, kind: NoticeKind, text: str, data: dict[str, object] | None = None) -> None:
        self.hub.emit(sid, packb([MsgType.NOTICE, int(kind), text, data or {}]))

    def _event_data(self, key: str, now: float, **extra: object) -> dict[str, object]:
        """Every event NOTICE carries the same fields (plus what the notice is about)."""
        e = self.hosting.events.to_client(key, now)
        fields = {k: e[k] for k in ("world", "title", "status", "live")}
        return {"event": key, **fields, **extra}

    def _world_sessions(self, world: str) -> list[Session]:
        out: list[Session] = []
        for inst in self.hub.instances.get(world, []):
            out.extend(self.hub.sessions[sid] for sid in inst.members if sid in self.hub.sessions)
        return out

    def handle(self, s: Session, msg: Moderate | Report | Host | Rsvp, now_ms: int) -> None:
        inst = s.instance
        assert inst is not None and s.principal is not None
        world, now, actor = inst.spec.id, self.wall(now_ms), s.principal
        h = self.hosting
        try:
            match msg:
                case Moderate():
                    self._moderate(s, inst, msg, now_ms)
                case Report():
                    target = self._target(inst, msg.target, MsgType.REPORT)
                    assert target.principal is not None
                    rid = h.moderation.report(world, actor, target.principal, msg.reason, now)
                    text = f"report #{rid} received; moderators will look at it"
                    self._notice(s.sid, NoticeKind.MODERATION, text, {"report": rid})
                case Rsvp():
                    # Being in the event's world (admitted, maybe by invite) counts as seeing it;
                    # any other private world's event answers "no event", title and all.
                    here = isinstance(msg.event, str) and msg.event.startswith(f"{world}/")
                    if msg.going:
                        h.events.rsvp(msg.event, actor, now, admitted=here)
                    else:
                        h.events.cancel_rsvp(msg.event, actor, admitted=here)
                    ev = h.events.to_client(msg.event, now, s.user_id)
                    data = self._event_data(msg.event, now, rsvped=ev["rsvped"], places_left=ev["places_left"])
                    self._notice(s.sid, NoticeKind.EVENT, "RSVP saved" if msg.going else "RSVP cancelled", data)
                    self.hosting_changed(str(ev["world"]), "events", msg.event, "rsvp")
                case Host():
                    self._host(s, msg, now_ms)
        except HostingError as e:
            raise _forbidden(e, int(_ref(msg))) from None

    def _moderate(self, s: Session, inst: WorldInstance, msg: Moderate, now_ms: int) -> None:
        world, now, actor, mod = inst.spec.id, self.wall(now_ms), s.principal, self.hosting.moderation
        assert actor is not None
        dur = msg.duration_s
        if msg.action in ("lock", "unlock"):
            (mod.lock if msg.action == "lock" else mod.unlock)(world, actor, now, msg.reason)
            for other in self._world_sessions(world):
                self._notice(other.sid, NoticeKind.MODERATION, f"{world} is {msg.action}ed")
            self._relay(world, msg.action)
            return
        if msg.action == "remove_object":
            oid = next((o for o, e in inst.object_ids.items() if e == msg.target), None)
            if oid is None:
                raise ProtocolError(
                    ErrorCode.UNKNOWN_OBJECT, f"no object with entity id {msg.target}", MsgType.MODERATE
                )
            mod.remove_object(world, actor, oid, now, msg.reason)
            self.hub.remove_object(world, oid)
            self._relay(world, "remove_object", object_id=oid)
            return
        if msg.target == 0 and msg.user:  # someone not here: lift a kick or a ban
            if msg.action not in ("allow", "unban"):
                raise ProtocolError(ErrorCode.BAD_FIELD, f"{msg.action} needs a target entity here", MsgType.MODERATE)
            # Permission first, then the key (a clean HostingError if malformed).
            tp = mod.target_for(world, actor, "kick" if msg.action == "allow" else "unban", msg.user)
            if msg.action == "allow":
                mod.allow(world, actor, tp, now)
            elif msg.action == "unban":
                mod.unban(world, actor, tp, now, msg.reason)
            else:
                raise ProtocolError(ErrorCode.BAD_FIELD, f"{msg.action} needs a target entity here", MsgType.MODERATE)
            self._relay(world, msg.action, msg.user)
            self._notice(s.sid, NoticeKind.MODERATION, f"{msg.action}: {msg.user}")
            return
        target = self._target(inst, msg.target, MsgType.MODERATE)
        assert target.principal is not None
        tp = target.principal
        match msg.action:
            case "kick":
                mod.kick(world, actor, tp, now, None if dur is None else now + dur, msg.reason)
                self._expel(
                    world, tp, CloseCode.KICKED, f"kicked from {world}" + (f": {msg.reason}" if msg.reason else "")
                )
            case "ban":
                mod.ban(world, actor, tp, now, dur, msg.reason)
                self._expel(
                    world, tp, CloseCode.REFUSED, f"banned from {world}" + (f": {msg.reason}" if msg.reason else "")
                )
            case "allow":
                mod.allow(world, actor, tp, now)
            case "unban":
                mod.unban(world, actor, tp, now, msg.reason)
            case "mute":
                mod.mute(world, actor, tp, now, dur, msg.reason)
                self._notice(target.sid, NoticeKind.MODERATION, "a moderator muted you here (chat and voice)")
            case "unmute":
                mod.unmute(world, actor, tp, now)
                self._notice(target.sid, NoticeKind.MODERATION, "you can chat and talk again")
        if msg.action not in ("kick", "ban"):  # those relayed by _expel, with the close to apply
            self._relay(world, msg.action, tp.key)
        self._notice(s.sid, NoticeKind.MODERATION, f"{msg.action}: {target.name}")

    def _expel(self, world: str, who: Principal, code: CloseCode, reason: str) -> None:
        for other in self._world_sessions(world):
            if other.principal is not None and other.principal.key == who.key:
                self.hub.close(other.sid, code, reason)
        self._relay(world, "expel", who.key, code=int(code), reason=reason)

    # ----- other workers (server/cluster/link.py) ------------------------------------------
    def _relay(self, world: str, action: str, user: str = "", **extra: object) -> None:
        """Tell the other workers: they re-read moderation state and apply what is theirs."""
        self.hub.outbox.push(Relay("moderation", {"action": action, "world": world, "user": user, **extra}))

    def hosting_changed(self, world: str, what: str, event: str = "", change: str = "") -> None:
        """The world's roles (``what="roles"``) or events (``"events"``: created, hosted, RSVPed)
        changed here: the other workers' copies in memory are stale. ``change``: the host action
        (``start``, ``end``, ``pin``...), which the others announce to their own people."""
        self._relay(world, what, event=event, change=change)

    def apply_relay(self, msg: dict[str, object], now_ms: int = 0) -> None:
        """A moderation or hosting change made on another worker: the same effect on the people
        here. (The store reads run on the event loop, like the rest of hosting; they are one
        table each and happen only when someone moderates or hosts.)"""
        world, user, action = msg.get("world"), msg.get("user"), msg.get("action")
        if not isinstance(world, str):
            return
        if action == "roles":
            self.hosting.roles.reload(world)
            return
        if action == "events":
            self._apply_event_change(world, msg, now_ms)
            return
        if action == "starting" and isinstance(user, str) and isinstance(key := msg.get("event"), str):
            self._tell_starting(user, key, self.wall(now_ms))
            return
        self.hosting.moderation.reload()  # bans, mutes, kicks and locks as that worker stored them
        if world not in self.hub.instances:
            return
        code = msg.get("code")
        if action == "expel" and isinstance(user, str) and code in (CloseCode.KICKED, CloseCode.REFUSED):
            reason = str(msg.get("reason", ""))[:120]
            for other in self._world_sessions(world):
                if other.principal is not None and other.principal.key == user:
                    self.hub.close(other.sid, CloseCode(int(str(code))), reason)
        elif action in ("lock", "unlock"):
            for other in self._world_sessions(world):
                self._notice(other.sid, NoticeKind.MODERATION, f"{world} is {action}ed")
        elif action == "remove_object" and isinstance(oid := msg.get("object_id"), str):
            self.hub.remove_object(world, oid)

    def _apply_event_change(self, world: str, msg: dict[str, object], now_ms: int) -> None:
        """Reload the events; pin, gather, spotlight and muted chat then take effect here at the
        next ``duties``, as they do on the host's worker. Start and end are announced here."""
        self.hosting.events.reload()
        key, change = msg.get("event"), msg.get("change")
        if change in ("start", "end") and isinstance(key, str):
            with contextlib.suppress(HostingError):  # deleted since: nothing to announce
                self._announce(key, change, self.wall(now_ms))

    def _announce(self, key: str, change: str, now: float) -> None:
        """An event went live or ended: a NOTICE to everyone in its world on this worker."""
        info = self.hosting.events.get(key)
        text = f"{info.title} is live" if change == "start" else f"{info.title} has ended"
        for other in self._world_sessions(info.world):
            self._notice(other.sid, NoticeKind.EVENT, text, self._event_data(key, now))

    def _tell_starting(self, user: str, key: str, now: float) -> None:
        """ "… is starting — join now" to ``user``'s sessions on this worker, once per event."""
        if (key, user) in self._told:
            return
        try:
            info = self.hosting.events.get(key)
        except HostingError:
            return
        self._told.add((key, user))
        text, data = f"{info.title} is starting — join now", self._event_data(key, now)
        for s in self.hub.sessions.values():
            if s.user_id == user:
                self._notice(s.sid, NoticeKind.EVENT, text, data)

    def _host(self, s: Session, msg: Host, now_ms: int) -> None:
        ev, now, actor = self.hosting.events, self.wall(now_ms), s.principal
        assert actor is not None
        key = msg.event
        info = ev.get(key)
        match msg.action:
            case "start":
                ev.start(key, actor, now)
                self._announce(key, "start", now)
            case "end":
                ev.end(key, actor, now)
                self._announce(key, "end", now)
            case "spotlight":
                ids = msg.args.get("ids", ["me"])
                if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                    raise ProtocolError(
                        ErrorCode.BAD_FIELD, "host.args.ids: expected an array of strings", MsgType.HOST
                    )
                ev.set_spotlight(key, actor, [actor.key if i == "me" else i for i in ids], now)
            case "gather":
                ev.gather(key, actor, now)  # applied by duties(), so every instance is covered
            case "mute_chat":
                muted = msg.args.get("muted", True)
                if not isinstance(muted, bool):
                    raise ProtocolError(ErrorCode.BAD_FIELD, "host.args.muted: expected true or false", MsgType.HOST)
                ev.mute_chat(key, actor, muted, now)
            case "pin":
                text = msg.args.get("text")
                if text is not None and not isinstance(text, str):
                    raise ProtocolError(ErrorCode.BAD_FIELD, "host.args.text: expected a string or nil", MsgType.HOST)
                ev.pin(key, actor, text or None, now)
        self.hosting_changed(info.world, "events", key, msg.action)

    # ----- once a tick or so ------------------------------------------------------------------
    def duties(self, now_ms: int) -> None:
        """Notices for RSVPs, attendance, gather orders, pinned messages, the spotlit stage."""
        h, hub, now = self.hosting, self.hub, self.wall(now_ms)
        for n in h.events.due_notices(now):
            # The person may be on another worker (or on several): each worker tells its own.
            self._tell_starting(n.user, n.event.key, now)
            self._relay(n.event.world, "starting", n.user, event=n.event.key)
        attending: set[tuple[str, str]] = set()
        for world in hub.instances:
            live = h.events.live_in(world, now)
            sessions = self._world_sessions(world)
            for e in live:
                for s in sessions:
                    if s.principal is not None:
                        attending.add((e.key, s.principal.key))
                        if (e.key, s.principal.key) not in self._attending:
                            h.events.joined(e.key, s.principal, now)
                st = h.events.state(e.key)
                if st.gather_seq and self._gathered.get(e.key) != st.gather_seq:
                    self._gathered[e.key] = st.gather_seq
                    hub.gather(world, st.gather_stage or e.stage)
            pinned = next((h.events.state(e.key).pinned for e in live), None)
            if pinned != self._pinned.get(world):
                self._pinned[world] = pinned
                for s in sessions:
                    self._notice(s.sid, NoticeKind.PINNED, pinned or "")
            hub.set_stage(world, h.events.spotlight(world, now))
        for key, user in self._attending - attending:
            h.events.left(key, Principal.from_key(user), now)
        self._attending = attending


def _ref(msg: Moderate | Report | Host | Rsvp) -> MsgType:
    return {Moderate: MsgType.MODERATE, Report: MsgType.REPORT, Host: MsgType.HOST, Rsvp: MsgType.RSVP}[type(msg)]
