"""Live events: schedule, RSVP, lobby states, start notices, host controls, attendance.

Events come from world files (``events_from_config``; re-set on every reload with
``set_world_events``) and from owners through the API (``create``; persisted). Pure: the caller
passes ``now`` (Unix seconds); file events' datetimes are converted to Unix seconds.

Event keys: ``<world>/<id>`` for one-off events (so an author moving the time keeps RSVPs),
``<world>/<id>@<start>`` for each occurrence of a weekly series, ``<world>/u-<random>`` for
owner-created events.

Status of an event at ``now``:

* ``ended``          — the host ended it, or the scheduled end passed and the host never started it
                       (a host-started event runs until ended, at most ``OVERRUN_S`` past its end);
* ``live``           — the host started it, or ``start <= now < end``;
* ``starting_soon``  — ``start - 15 min <= now < start``;
* ``scheduled``      — otherwise.

Host controls (start, end, spotlight, gather, mute all chat, pin) may be used by anyone whose
world role allows the action in the permission table *or* by the event's host account. Their
state (``LiveState``) is persisted so a restart keeps the show as it was.

API::

    EventStatus (scheduled | starting_soon | live | ended)
    EventInfo(key, world, id, title, description, tags, start, end, capacity, host, stage, source)
    LiveState(started_at, ended_at, spotlight, gather_stage, gather_seq, chat_muted, pinned)
    Notice(user, event)
    events_from_config(cfg, now, days=14) -> list[EventInfo]
    EventBook(store, roles, audit=None)
        .set_world_events(world, events) ; .create(world, actor, now, title=..., start=..., duration_s=..., ...)
        .delete(key, actor, now) ; .get(key) ; .events(world=None) ; .status(key, now)
        .lobby(now, viewer=None) -> list[tuple[EventInfo, EventStatus]]   # starting soon + live, visible to viewer
        .visible(key_or_event, viewer) -> bool                   # roles.can_see(world) or the event's host
        .to_client(key, now, user=None) -> dict                  # JSON for the lobby / host panel
        .rsvp(key, principal, now, admitted=False) ; .cancel_rsvp(key, principal)
        .rsvp_count(key) ; .has_rsvp(key, user)

Visibility: an event is visible to whoever can see its world (``RoleBook.can_see``: public and
unlisted worlds to everyone, private ones to members and invite holders) and to its host.
``rsvp``/``cancel_rsvp`` on an event the person cannot see answer ``UnknownEvent`` — the same
as for a key that does not exist, so nothing about a private world leaks (not even its title).
``admitted=True`` says the caller already admitted the person to the event's world (they are in
it now, e.g. through an invite link): that counts as seeing it. Events with a capacity take
RSVPs from accounts only (``AccountRequired``): throw-away guest ids cannot fill the places.
        .due_notices(now) -> list[Notice]                        # each (user, event) once, ever
        .start/.end/.gather(key, actor, now) ; .set_spotlight(key, actor, ids, now)
        .mute_chat(key, actor, muted, now) ; .pin(key, actor, text | None, now) ; .state(key)
        .live_in(world, now) -> list[EventInfo] ; .chat_muted(world, now) ; .spotlight(world, now)
        .joined(key, principal, now) ; .left(key, principal, now) ; .attendance(key=None)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from server.hosting.errors import AccountRequired, EventFull, EventOver, InvalidEvent, PermissionDenied, UnknownEvent
from server.hosting.identity import Principal
from server.hosting.permissions import ACTIONS, allowed, check
from server.hosting.roles import RoleBook
from server.hosting.store import AttendanceRow, HostingStore

if TYPE_CHECKING:
    from server.worldconfig import WorldConfig

STARTING_SOON_S = 15 * 60.0
OVERRUN_S = 3600.0
MAX_TITLE, MAX_DESCRIPTION, MAX_TAGS, MAX_TAG, MAX_PIN = 120, 2000, 10, 32, 500
MAX_SPOTLIGHT = 64

# (world, actor, action, target, now, reason) -> None; Moderation.record fits.
Audit = Callable[[str, Principal, str, str, float, str], None]


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    STARTING_SOON = "starting_soon"
    LIVE = "live"
    ENDED = "ended"


def iso_utc(ts: float) -> str:
    """Unix seconds -> ISO 8601 in UTC, the one way times reach clients."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


@dataclass(frozen=True, slots=True)
class EventInfo:
    key: str
    world: str
    id: str
    title: str
    start: float
    end: float
    host: str  # user name of the host account
    description: str = ""
    tags: tuple[str, ...] = ()
    capacity: int | None = None
    stage: str = "main"
    source: str = "world"  # "world" (file) | "owner" (API)
    created_by: str = ""

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["tags"] = list(self.tags)
        return d

    @staticmethod
    def from_json(d: dict[str, Any]) -> EventInfo:
        return EventInfo(**{**d, "tags": tuple(d.get("tags", ()))})


@dataclass(slots=True)
class LiveState:
    started_at: float | None = None
    ended_at: float | None = None
    spotlight: list[str] = field(default_factory=list)  # entity / object ids always visible to all
    gather_stage: str | None = None
    gather_seq: int = 0  # bumps on every gather so the hub can tell a new order from an old one
    chat_muted: bool = False
    pinned: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    user: str  # user key
    event: EventInfo


def _ts(d: datetime) -> float:
    return d.timestamp()


def events_from_config(cfg: WorldConfig, now: float, days: float = 14.0) -> list[EventInfo]:
    """File events as EventInfo: one per occurrence running at or starting within ``days`` of ``now``."""
    at = datetime.fromtimestamp(now, UTC)
    out = []
    for ev in cfg.events:
        for occ in ev.occurrences(at, at + timedelta(days=days)):
            key = f"{cfg.id}/{ev.id}" if ev.recurrence == "none" else f"{cfg.id}/{ev.id}@{int(_ts(occ.start))}"
            out.append(
                EventInfo(
                    key=key,
                    world=cfg.id,
                    id=ev.id,
                    title=ev.title,
                    start=_ts(occ.start),
                    end=_ts(occ.end),
                    host=ev.host,
                    description=ev.description,
                    tags=tuple(ev.tags),
                    capacity=ev.capacity,
                    stage=ev.stage,
                    source="world",
                )
            )
    return out


class EventBook:
    def __init__(self, store: HostingStore, roles: RoleBook, audit: Audit | None = None) -> None:
        self.store = store
        self.roles = roles
        self._audit = audit
        self._file: dict[str, dict[str, EventInfo]] = {}  # world -> key -> event
        self._owned: dict[str, EventInfo] = {}
        self._state: dict[str, LiveState] = {}
        self._rsvps: dict[str, dict[str, bool]] = {}  # event -> user -> notified
        self.reload()

    def reload(self) -> None:
        """Re-read owner-created events, live state (started, spotlight, pin, gather, muted chat)
        and RSVPs from the store: at start, and when another worker changed them."""
        self._owned = {e.key: e for e in (EventInfo.from_json(d) for d in self.store.events())}
        self._state = {k: LiveState(**v) for k, v in self.store.event_states().items()}
        rsvps: dict[str, dict[str, bool]] = {}
        for r in self.store.rsvps():
            rsvps.setdefault(r.event, {})[r.user] = r.notified
        self._rsvps = rsvps

    # ----- catalogue ----------------------------------------------------------------------------
    def set_world_events(self, world: str, events: Iterable[EventInfo]) -> None:
        self._file[world] = {e.key: e for e in events}

    def get(self, key: str) -> EventInfo:
        for evs in self._file.values():
            if key in evs:
                return evs[key]
        if key in self._owned:
            return self._owned[key]
        raise UnknownEvent(f"no event {key!r}")

    def events(self, world: str | None = None) -> list[EventInfo]:
        out = [e for w, evs in self._file.items() if world in (None, w) for e in evs.values()]
        out += [e for e in self._owned.values() if world in (None, e.world)]
        return sorted(out, key=lambda e: (e.start, e.key))

    def create(
        self,
        world: str,
        actor: Principal,
        now: float,
        *,
        title: str,
        start: float,
        duration_s: float,
        description: str = "",
        tags: Iterable[str] = (),
        capacity: int | None = None,
        stage: str = "main",
        host: str | None = None,
    ) -> EventInfo:
        """An owner-created event; ``host`` defaults to the creator's account."""
        check(self.roles.role_of(world, actor), "create_event")
        title = title.strip() if isinstance(title, str) else ""
        tags = tuple(t.strip() for t in tags if isinstance(t, str) and t.strip())
        problems = []
        if not 1 <= len(title) <= MAX_TITLE:
            problems.append(f"title must be 1–{MAX_TITLE} characters")
        if len(description) > MAX_DESCRIPTION:
            problems.append(f"description must be at most {MAX_DESCRIPTION} characters")
        if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
            problems.append(f"at most {MAX_TAGS} tags of up to {MAX_TAG} characters")
        if not 60 <= duration_s <= 24 * 3600:
            problems.append("duration must be between 1 minute and 24 hours")
        if start + duration_s <= now:
            problems.append("the event would already be over")
        if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1):
            problems.append("capacity must be a positive whole number or empty")
        if not stage or not isinstance(stage, str):
            problems.append("stage must name a location in the world")
        host_name = host or (actor.account or "")
        if not host_name:
            problems.append("the host must be an account")
        if problems:
            raise InvalidEvent("; ".join(problems))
        eid = f"u-{secrets.token_urlsafe(6)}"
        e = EventInfo(
            key=f"{world}/{eid}",
            world=world,
            id=eid,
            title=title,
            start=float(start),
            end=float(start + duration_s),
            host=host_name.lower(),
            description=description,
            tags=tags,
            capacity=capacity,
            stage=stage,
            source="owner",
            created_by=actor.key,
        )
        self._owned[e.key] = e
        self.store.put_event(e.key, world, e.to_json())
        self._record(e, actor, "create_event", now, e.title)
        return e

    def delete(self, key: str, actor: Principal, now: float) -> None:
        e = self.get(key)
        if e.source != "owner":
            raise InvalidEvent("events from the world file are removed by editing the world file")
        check(self.roles.role_of(e.world, actor), "create_event")
        del self._owned[key]
        self.store.delete_event(key)
        self._record(e, actor, "delete_event", now, e.title)

    # ----- status -------------------------------------------------------------------------------
    def state(self, key: str) -> LiveState:
        return self._state.get(key) or LiveState()

    def status(self, key: str, now: float) -> EventStatus:
        return self._status(self.get(key), now)

    def _status(self, e: EventInfo, now: float) -> EventStatus:
        st = self._state.get(e.key)
        if st is not None and st.ended_at is not None:
            return EventStatus.ENDED
        if st is not None and st.started_at is not None:
            # A host may run over; cap it so a forgotten "end" does not keep an event live forever.
            limit = max(e.end, st.started_at + (e.end - e.start)) + OVERRUN_S
            return EventStatus.LIVE if now < limit else EventStatus.ENDED
        if now >= e.end:
            return EventStatus.ENDED
        if now >= e.start:
            return EventStatus.LIVE
        if now >= e.start - STARTING_SOON_S:
            return EventStatus.STARTING_SOON
        return EventStatus.SCHEDULED

    def to_client(self, key: str, now: float, user: str | None = None) -> dict[str, Any]:
        """What the lobby / event panel shows: the event, its status, places left, live state.

        One representation everywhere an event is sent (HTTP and WELCOME): times as ISO 8601 in
        UTC, ``live`` a boolean, and the host controls' state in ``live_state``."""
        e = self.get(key)
        st = self.state(key)
        n = self.rsvp_count(key)
        status = self._status(e, now)
        return {
            **e.to_json(),
            "start": iso_utc(e.start),
            "end": iso_utc(e.end),
            "status": str(status),
            "live": status == EventStatus.LIVE,
            "rsvps": n,
            "places_left": None if e.capacity is None else max(0, e.capacity - n),
            "rsvped": user is not None and self.has_rsvp(key, user),
            "live_state": {
                "spotlight": list(st.spotlight),
                "pinned": st.pinned,
                "chat_muted": st.chat_muted,
                "gather_stage": st.gather_stage,
                "gather_seq": st.gather_seq,
            },
        }

    def visible(self, event: str | EventInfo, viewer: Principal | None) -> bool:
        """May ``viewer`` (None: anonymous) know about this event? Its world's visibility rule,
        or being its host."""
        e = event if isinstance(event, EventInfo) else self.get(event)
        if viewer is not None and viewer.kind == "account" and viewer.account == e.host.lower():
            return True
        return self.roles.can_see(e.world, viewer)

    def lobby(self, now: float, viewer: Principal | None = None) -> list[tuple[EventInfo, EventStatus]]:
        """What the lobby shows ``viewer`` (None: an anonymous caller): live events first, then
        those starting soon, each by start time; only events ``viewer`` may see."""
        out = [
            (e, s)
            for e in self.events()
            if (s := self._status(e, now)) in (EventStatus.LIVE, EventStatus.STARTING_SOON) and self.visible(e, viewer)
        ]
        return sorted(out, key=lambda es: (es[1] != EventStatus.LIVE, es[0].start))

    def live_in(self, world: str, now: float) -> list[EventInfo]:
        return [e for e in self.events(world) if self._status(e, now) == EventStatus.LIVE]

    def chat_muted(self, world: str, now: float) -> bool:
        return any(self.state(e.key).chat_muted for e in self.live_in(world, now))

    def spotlight(self, world: str, now: float) -> frozenset[str]:
        return frozenset(i for e in self.live_in(world, now) for i in self.state(e.key).spotlight)

    # ----- RSVP and notices ---------------------------------------------------------------------
    def _visible_event(self, key: str, principal: Principal, admitted: bool) -> EventInfo:
        """The event, or UnknownEvent — also when ``principal`` may not see it (same message)."""
        e = self.get(key) if isinstance(key, str) else None
        if e is None or not (admitted or self.visible(e, principal)):
            raise UnknownEvent(f"no event {str(key)[:200]!r}")
        return e

    def rsvp(self, key: str, principal: Principal, now: float, admitted: bool = False) -> None:
        e = self._visible_event(key, principal, admitted)
        check(self.roles.role_of(e.world, principal), "rsvp")
        if self._status(e, now) == EventStatus.ENDED:
            raise EventOver(f"{e.title!r} is over")
        users = self._rsvps.setdefault(key, {})
        if principal.key in users:
            return  # idempotent: a double click is not an error
        if e.capacity is not None and principal.kind != "account":
            raise AccountRequired(f"{e.title!r} has limited places: sign in (or register) to RSVP")
        if e.capacity is not None and len(users) >= e.capacity:
            raise EventFull(f"{e.title!r} is full ({e.capacity} places)")
        users[principal.key] = False
        self.store.add_rsvp(key, principal.key, now)

    def cancel_rsvp(self, key: str, principal: Principal, admitted: bool = False) -> bool:
        self._visible_event(key, principal, admitted)
        users = self._rsvps.get(key, {})
        had = users.pop(principal.key, None) is not None
        return self.store.delete_rsvp(key, principal.key) or had

    def rsvp_count(self, key: str) -> int:
        return len(self._rsvps.get(key, {}))

    def has_rsvp(self, key: str, user: str) -> bool:
        return user in self._rsvps.get(key, {})

    def rsvps(self, key: str) -> list[str]:
        return sorted(self._rsvps.get(key, {}))

    def due_notices(self, now: float) -> list[Notice]:
        """(user, event) pairs to notify because the event went live; each is returned once, ever
        (the flag is persisted, so a restart does not notify again)."""
        out = []
        for key, users in self._rsvps.items():
            pending = [u for u, notified in users.items() if not notified]
            if not pending:
                continue
            try:
                e = self.get(key)
            except UnknownEvent:
                continue  # world file changed; the RSVP stays in case the event comes back
            if self._status(e, now) != EventStatus.LIVE:
                continue
            for u in pending:
                users[u] = True
                self.store.mark_notified(key, u)
                out.append(Notice(u, e))
        return out

    # ----- host controls ------------------------------------------------------------------------
    def can_control(self, key: str, actor: Principal, action: str) -> bool:
        e = self.get(key)
        if actor.kind == "account" and actor.account == e.host.lower():
            return True
        return allowed(self.roles.role_of(e.world, actor), action)

    def _control(self, key: str, actor: Principal, action: str, now: float) -> tuple[EventInfo, LiveState]:
        e = self.get(key)
        if not self.can_control(key, actor, action):
            role = str(self.roles.role_of(e.world, actor))
            raise PermissionDenied(
                action,
                role,
                str(ACTIONS[action]),
                detail=f"{action!r} needs role {ACTIONS[action]} or being this event's host; you are {role}",
            )
        st = self._state.setdefault(key, LiveState())
        if action != "end_event" and st.ended_at is not None:
            raise EventOver(f"{e.title!r} has ended")
        return e, st

    def _save(self, e: EventInfo, st: LiveState, actor: Principal, action: str, now: float, detail: str = "") -> None:
        self.store.put_event_state(e.key, asdict(st))
        self._record(e, actor, action, now, detail)

    def _record(self, e: EventInfo, actor: Principal, action: str, now: float, detail: str) -> None:
        if self._audit is not None:
            self._audit(e.world, actor, action, f"event:{e.key}", now, detail)

    def start(self, key: str, actor: Principal, now: float) -> LiveState:
        e, st = self._control(key, actor, "start_event", now)
        if st.started_at is None:
            st.started_at = now
        self._save(e, st, actor, "start_event", now)
        return replace(st)

    def end(self, key: str, actor: Principal, now: float) -> LiveState:
        e, st = self._control(key, actor, "end_event", now)
        if st.ended_at is None:
            st.ended_at = now
        # The show is over: nothing stays spotlighted and chat opens again.
        st.spotlight, st.chat_muted = [], False
        self._save(e, st, actor, "end_event", now)
        # Close open attendance so the recommender sees real durations.
        for row in self.store.attendance(key):
            if row.left_at is None:
                self.store.close_attendance(key, row.user, now)
        return replace(st)

    def set_spotlight(self, key: str, actor: Principal, ids: Iterable[str], now: float) -> LiveState:
        e, st = self._control(key, actor, "spotlight", now)
        st.spotlight = list(dict.fromkeys(str(i) for i in ids))[:MAX_SPOTLIGHT]
        self._save(e, st, actor, "spotlight", now, ",".join(st.spotlight))
        return replace(st)

    def gather(self, key: str, actor: Principal, now: float) -> LiveState:
        """Record a gather order to the event's stage; the hub moves attendees there."""
        e, st = self._control(key, actor, "gather", now)
        st.gather_stage = e.stage
        st.gather_seq += 1
        self._save(e, st, actor, "gather", now, e.stage)
        return replace(st)

    def mute_chat(self, key: str, actor: Principal, muted: bool, now: float) -> LiveState:
        e, st = self._control(key, actor, "mute_all_chat", now)
        st.chat_muted = bool(muted)
        self._save(e, st, actor, "mute_all_chat" if muted else "unmute_all_chat", now)
        return replace(st)

    def pin(self, key: str, actor: Principal, text: str | None, now: float) -> LiveState:
        e, st = self._control(key, actor, "pin_message", now)
        text = text.strip()[:MAX_PIN] if isinstance(text, str) else None
        st.pinned = text or None
        self._save(e, st, actor, "pin_message", now, st.pinned or "(unpinned)")
        return replace(st)

    # ----- privacy ------------------------------------------------------------------------------
    def forget_person(self, user: str, account: str | None) -> None:
        """Drop in-memory state naming ``user`` (privacy delete; store rows go separately): RSVPs,
        spotlight entries, and owner-created events this account hosts."""
        for users in self._rsvps.values():
            users.pop(user, None)
        for st in self._state.values():
            if user in st.spotlight:
                st.spotlight = [i for i in st.spotlight if i != user]
        if account is not None:
            for k in [k for k, e in self._owned.items() if e.host.lower() == account]:
                del self._owned[k]
            for k, e in list(self._owned.items()):
                if e.created_by == user:
                    self._owned[k] = replace(e, created_by="deleted")

    # ----- attendance ---------------------------------------------------------------------------
    def joined(self, key: str, principal: Principal, now: float) -> int:
        """Log that ``principal`` is at the event (call when they enter its world while it is live)."""
        e = self.get(key)
        if any(r.user == principal.key and r.left_at is None for r in self.store.attendance(key)):
            return 0  # already logged as present (e.g. a second tab)
        return self.store.add_attendance(key, e.world, principal.key, now)

    def left(self, key: str, principal: Principal, now: float) -> bool:
        return self.store.close_attendance(key, principal.key, now)

    def attendance(self, key: str | None = None) -> list[AttendanceRow]:
        return self.store.attendance(key)
