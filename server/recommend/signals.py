"""Behavioural signals Plaza logs, and their conversion into implicit feedback.

Timestamps are Unix seconds (float). The server converts datetimes at the edge;
nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Visit:
    """One stay in a world instance (enter -> leave)."""

    user_id: str
    world_id: str
    instance_id: str
    start_ts: float
    end_ts: float
    friends_present: tuple[str, ...] = ()

    @property
    def dwell_s(self) -> float:
        return max(0.0, self.end_ts - self.start_ts)


@dataclass(frozen=True)
class Attendance:
    """A user was present at an event (``dwell_s`` of it)."""

    user_id: str
    event_id: str
    ts: float
    dwell_s: float = 0.0


@dataclass(frozen=True)
class RSVP:
    user_id: str
    event_id: str
    ts: float
    going: bool = True


@dataclass(frozen=True)
class Follow:
    follower_id: str
    followee_id: str
    ts: float


@dataclass(frozen=True)
class Like:
    user_id: str
    item_id: str  # a world or an event
    ts: float


@dataclass(frozen=True)
class ChatCount:
    """How many chat messages a user sent in a world over a period (never content)."""

    user_id: str
    world_id: str
    ts: float
    count: int


@dataclass
class Signals:
    """Everything the recommender learns from; plain lists so tests can build them by hand."""

    visits: list[Visit] = field(default_factory=list)
    attendance: list[Attendance] = field(default_factory=list)
    rsvps: list[RSVP] = field(default_factory=list)
    follows: list[Follow] = field(default_factory=list)
    likes: list[Like] = field(default_factory=list)
    chats: list[ChatCount] = field(default_factory=list)
    interests: dict[str, tuple[str, ...]] = field(default_factory=dict)  # user -> picked tags

    def before(self, t: float) -> Signals:
        """Only what was known at time ``t`` (for time-split evaluation)."""
        return Signals(
            visits=[v for v in self.visits if v.end_ts <= t],
            attendance=[a for a in self.attendance if a.ts <= t],
            rsvps=[r for r in self.rsvps if r.ts <= t],
            follows=[f for f in self.follows if f.ts <= t],
            likes=[lk for lk in self.likes if lk.ts <= t],
            chats=[c for c in self.chats if c.ts <= t],
            interests=dict(self.interests),
        )

    def users(self) -> set[str]:
        out: set[str] = set()
        for v in self.visits:
            out.add(v.user_id)
        for a in self.attendance:
            out.add(a.user_id)
        for r in self.rsvps:
            out.add(r.user_id)
        for lk in self.likes:
            out.add(lk.user_id)
        out.update(self.interests)
        return out

    def friends(self) -> dict[str, set[str]]:
        """Who each user follows; the people whose presence should pull them in."""
        out: dict[str, set[str]] = defaultdict(set)
        for f in self.follows:
            if f.follower_id != f.followee_id:
                out[f.follower_id].add(f.followee_id)
        return dict(out)


@dataclass(frozen=True)
class Interaction:
    """One weighted implicit-feedback event on an item (world or event)."""

    user_id: str
    item_id: str
    ts: float
    weight: float
    source: str = "visit"  # visit | attend | rsvp | like | chat


# Weights: a minute-long bounce is weak evidence, an hour is strong, but with
# diminishing returns so AFK idling cannot dominate. Explicit likes count most.
VISIT_FLOOR_S = 30.0  # stays shorter than this are treated as misclicks
ATTEND_BONUS = 1.0
RSVP_WEIGHT = 0.5
LIKE_WEIGHT = 2.0
CHAT_WEIGHT = 0.25


def dwell_weight(dwell_s: float) -> float:
    """log(1 + minutes), capped: 1 min ~ 0.7, 10 min ~ 2.4, 1 h ~ 4.1, capped at 5."""
    if dwell_s < VISIT_FLOOR_S:
        return 0.0
    return min(5.0, math.log1p(dwell_s / 60.0))


def implicit_feedback(signals: Signals) -> list[Interaction]:
    """Turn raw signals into chronological dwell-weighted interactions."""
    out: list[Interaction] = []
    for v in signals.visits:
        w = dwell_weight(v.dwell_s)
        if w > 0:
            out.append(Interaction(v.user_id, v.world_id, v.start_ts, w))
    for a in signals.attendance:
        out.append(Interaction(a.user_id, a.event_id, a.ts, ATTEND_BONUS + dwell_weight(a.dwell_s), "attend"))
    for r in signals.rsvps:
        if r.going:
            out.append(Interaction(r.user_id, r.event_id, r.ts, RSVP_WEIGHT, "rsvp"))
    for lk in signals.likes:
        out.append(Interaction(lk.user_id, lk.item_id, lk.ts, LIKE_WEIGHT, "like"))
    for c in signals.chats:
        if c.count > 0:
            out.append(Interaction(c.user_id, c.world_id, c.ts, CHAT_WEIGHT * math.log1p(c.count), "chat"))
    out.sort(key=lambda i: (i.ts, i.user_id, i.item_id))
    return out
