"""Glue between the running server and the recommender: catalogue, live context, JSON.

Pure functions over the catalog, the hub and stored signals; the aiohttp layer calls them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.catalog import Catalog
from server.hosting import Hosting
from server.hosting.events import iso_utc
from server.hub import Hub
from server.recommend import RSVP, Attendance, Catalogue, Context, Item, Recommendation, Signals, event, space
from server.storage import Storage

# A visit is written by the next write-behind flush after the stay ends; reading this far back
# catches stays whose rows landed after the previous poll.
FEED_OVERLAP_S = 30.0
# How long a cached answer may be reused when nothing of the person's, the model's or the live
# context changed: what it does not see is other people's signals (popularity) and the clock
# (an event starting), and both move slowly next to this.
ANSWER_TTL_S = 5.0
ANSWERS_KEPT = 10_000


def catalogue_items(catalog: Catalog, hosting: Hosting, now: datetime) -> list[Item]:
    """Listed worlds as spaces, and every upcoming event occurrence (world files and owners')."""
    listed = set(catalog.listed())
    items: list[Item] = []
    for wid in sorted(listed):
        cfg = catalog.configs.get(wid)
        if cfg is not None:
            items.append(space(wid, cfg.name, cfg.description, cfg.tags, cfg.capacity))
    ts = now.timestamp()
    for e in hosting.events.events():
        if e.world in listed and e.end > ts:
            items.append(event(e.key, e.world, e.title, e.start, e.end - e.start, e.description, e.tags, e.capacity))
    return items


def load_signals(storage: Storage, hosting: Hosting, since_ts: float) -> Signals:
    """Everything the recommender learns from: the signal store's visits, follows, likes and
    interests, and the hosting store's RSVPs and event attendance (blocking: call in a thread)."""
    sig = storage.load_signals(since_ts)
    sig.rsvps = [RSVP(r.user, r.event, r.at, True) for r in hosting.events.store.rsvps() if r.at >= since_ts]
    sig.attendance = [
        Attendance(a.user, a.event, a.joined, max(0.0, (a.left_at or a.joined) - a.joined))
        for a in hosting.events.attendance()
        if a.joined >= since_ts
    ]
    return sig


@dataclass
class SignalFeed:
    """What was logged since the last poll, for ``RecommenderService.observe``: the model learns
    from a stay, an RSVP, a follow or a like within seconds instead of at the next retrain.

    Each poll re-reads a short window and keeps only rows it has not passed on yet (visits,
    likes and attendance by their keys, follows and RSVPs by the pairs it knows), so a row
    written late by the write-behind is not missed and none is observed twice."""

    since: float
    seen_visits: set[tuple[str, str, str, float, float]] = field(default_factory=set)
    seen_likes: set[tuple[str, str, float]] = field(default_factory=set)
    seen_attendance: set[tuple[str, str, float]] = field(default_factory=set)
    follows: set[tuple[str, str]] | None = None
    rsvps: set[tuple[str, str]] | None = None
    interests: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def poll(self, storage: Storage, hosting: Hosting, now: float) -> Signals:
        """New signals since the last poll (blocking: call in a thread). Prime it with one poll
        right after the fit and drop what that returns: the model was fitted on it."""
        start = self.since - FEED_OVERLAP_S
        full = storage.load_signals(start)
        out = Signals()
        for v in full.visits:
            key = (v.user_id, v.world_id, v.instance_id, v.start_ts, v.end_ts)
            if key not in self.seen_visits:
                self.seen_visits.add(key)
                out.visits.append(v)
        visit_keys = {(v.user_id, v.world_id, v.end_ts) for v in out.visits}
        out.chats = [c for c in full.chats if (c.user_id, c.world_id, c.ts) in visit_keys]
        for lk in full.likes:
            if (lk.user_id, lk.item_id, lk.ts) not in self.seen_likes:
                self.seen_likes.add((lk.user_id, lk.item_id, lk.ts))
                out.likes.append(lk)
        follows = {(f.follower_id, f.followee_id) for f in full.follows}
        if self.follows is not None:
            out.follows = [f for f in full.follows if (f.follower_id, f.followee_id) not in self.follows]
        self.follows = follows
        rows = hosting.events.store.rsvps()
        going = {(r.user, r.event) for r in rows}
        if self.rsvps is not None:
            out.rsvps = [RSVP(r.user, r.event, r.at, True) for r in rows if (r.user, r.event) not in self.rsvps]
            out.rsvps += [RSVP(u, e, now, False) for u, e in self.rsvps - going]
        self.rsvps = going
        for a in hosting.events.attendance():
            if a.joined >= start and (a.user, a.event, a.joined) not in self.seen_attendance:
                self.seen_attendance.add((a.user, a.event, a.joined))
                out.attendance.append(Attendance(a.user, a.event, a.joined, 0.0))
        out.interests = {u: t for u, t in full.interests.items() if self.interests.get(u) != t}
        self.interests = dict(full.interests)
        # Forget keys older than the overlap window: they can no longer come back.
        self.seen_visits = {k for k in self.seen_visits if k[4] >= start}
        self.seen_likes = {k for k in self.seen_likes if k[2] >= start}
        self.seen_attendance = {k for k in self.seen_attendance if k[2] >= start}
        self.since = now
        return out

    def forget(self, user_id: str) -> None:
        """After a privacy delete: nothing of theirs is passed on again."""
        if self.follows is not None:
            self.follows = {p for p in self.follows if user_id not in p}
        if self.rsvps is not None:
            self.rsvps = {p for p in self.rsvps if p[0] != user_id}
        self.interests.pop(user_id, None)


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """Who is where and who is going, copied on the event loop (where the hub and the hosting
    book live) so that scoring on its own thread reads only this."""

    taken: float
    rosters: Hashable  # roster_key when taken
    occupancy: dict[str, int]
    where: dict[str, str]  # user id -> world id, everyone in an instance
    going: dict[str, tuple[str, ...]]  # event key -> who said they are going, events not over


# A snapshot is reused while no one joined or left an instance (copying the hub per request
# costs O(people)), and for at most this long: RSVPs are not in the roster key.
SNAPSHOT_TTL_S = 1.0


def roster_key(hub: Hub) -> Hashable:
    """Changes when anyone joins or leaves any instance, or an instance opens or closes."""
    return tuple((id(i), i.roster_version) for group in hub.instances.values() for i in group)


def current_snapshot(hub: Hub, hosting: Hosting, now: float, last: LiveSnapshot | None) -> LiveSnapshot:
    """``last`` while it is still true, else a fresh copy."""
    key = roster_key(hub)
    if last is not None and last.rosters == key and now - last.taken < SNAPSHOT_TTL_S:
        return last
    return live_snapshot(hub, hosting, now, key)


def live_snapshot(hub: Hub, hosting: Hosting, now: float, rosters: Hashable = None) -> LiveSnapshot:
    occupancy: dict[str, int] = {}
    where: dict[str, str] = {}
    for wid, group in hub.instances.items():
        occupancy[wid] = sum(i.population for i in group)
        for inst in group:
            for sid in inst.members:
                s = hub.sessions.get(sid)
                if s is not None:
                    where[s.user_id] = wid
    going = {e.key: tuple(us) for e in hosting.events.events() if e.end > now and (us := hosting.events.rsvps(e.key))}
    return LiveSnapshot(now, rosters, occupancy, where, going)


def live_context(
    snap: LiveSnapshot, user_id: str, friends: set[str] | frozenset[str], just_left: str | None, here: str | None
) -> Context:
    """The recommender's live context for one person (pure: safe on any thread)."""
    present: dict[str, list[str]] = {}
    for f in friends:
        wid = snap.where.get(f)
        if wid is not None and f != user_id:
            present.setdefault(wid, []).append(f)
    attending: dict[str, list[str]] = {}
    if friends:
        for key, us in snap.going.items():
            mine = [u for u in us if u in friends]
            if mine:
                attending[key] = mine
    return Context(
        occupancy=snap.occupancy, friends_present=present, friends_attending=attending, just_left=just_left, here=here
    )


def to_json(rec: Recommendation, items: Catalogue, catalog: Catalog) -> dict[str, object]:
    item = items.get(rec.item_id)
    out: dict[str, object] = {
        "id": rec.item_id,
        "kind": rec.kind,
        "score": round(rec.score, 4),
        "components": {k: round(v, 4) for k, v in rec.components.items()},
        "reason": rec.reason,
    }
    if item is not None:
        out["title"] = item.title
        out["world"] = item.world_id
        out["tags"] = list(item.tags)
        if item.start_ts is not None:
            out["start"] = iso_utc(item.start_ts)
        if item.end_ts is not None:
            out["end"] = iso_utc(item.end_ts)
    return out


def context_key(ctx: Context) -> Hashable:
    """Everything of the live context that scoring reads, as a comparable value."""
    return (
        tuple(sorted(ctx.occupancy.items())),
        tuple(sorted((w, tuple(sorted(us))) for w, us in ctx.friends_present.items())),
        tuple(sorted((e, tuple(sorted(us))) for e, us in ctx.friends_attending.items())),
        ctx.just_left,
        ctx.here,
        ctx.exclude,
    )


@dataclass(frozen=True, slots=True)
class Answer:
    stamp: tuple[int, int]  # RecommenderService.stamp(user) when it was scored
    context: Hashable  # context_key of the context it was scored in
    friends: frozenset[str]  # whom the person follows, as read then
    until: float
    items: list[dict[str, Any]]  # to_json rows; never mutated once stored


class AnswerCache:
    """The last answer per person and question, reused while it is still the model's answer.

    People ask again and again with nothing changed (the lobby reopened, the suggestions
    panel, the minute's SUGGESTIONS push); scoring each time costs a trip to the scoring
    thread. A stored answer is used only with the same model stamp (no retrain, catalogue
    change or signal of the person's since) and the same live context, for ``ttl`` seconds."""

    def __init__(self, ttl: float = ANSWER_TTL_S, size: int = ANSWERS_KEPT) -> None:
        self.ttl = ttl
        self.size = size
        self._answers: OrderedDict[tuple[str, Hashable], Answer] = OrderedDict()

    def candidate(self, user: str, question: Hashable, stamp: tuple[int, int], now: float) -> Answer | None:
        """A stored answer still valid by stamp and age; the caller then compares the context
        (built with ``answer.friends``) before using it."""
        a = self._answers.get((user, question))
        if a is None or a.stamp != stamp or now >= a.until:
            return None
        return a

    def put(self, user: str, question: Hashable, answer: Answer) -> None:
        key = (user, question)
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)

    def clear(self) -> None:
        """The privacy delete: no answer computed while their data was known is kept (anyone's
        could name them as a friend who is here)."""
        self._answers.clear()
