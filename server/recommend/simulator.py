"""A deterministic simulator of Plaza, for evaluating the recommender end to end.

Users have latent tastes over topics, a circle of friends with similar tastes,
and weekly habits (a few favourite 4-hour slots). Worlds and recurring events
carry text and tags from the same topics. Each session a user picks where to
go by taste, habit, friends already there, how lively a world is, and whether
an event is on; the choice is logged as visits, RSVPs, attendance, likes and
chat counts, exactly the signals the server will log.

Every session also records the live context the user saw and the item chosen,
so an evaluation can replay "what would we have recommended right then".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .hybrid import HABIT_BUCKET_S, N_HABIT, WEEK_S, Context
from .items import Item, event, space
from .signals import RSVP, Attendance, ChatCount, Follow, Like, Signals, Visit

TOPICS: dict[str, tuple[list[str], list[str]]] = {
    "music": (
        ["jazz", "live-music", "dj"],
        ["Jazz Lounge", "Vinyl Club", "Synth Cave", "Open Mic Stage"],
    ),
    "games": (
        ["games", "puzzle", "competitive"],
        ["Puzzle Tower", "Arena", "Board Game Cafe", "Escape Rooms"],
    ),
    "art": (["art", "gallery", "creative"], ["Sculpture Garden", "Pixel Gallery", "Paint Studio"]),
    "social": (
        ["hangout", "chill", "chat"],
        ["Rooftop Bar", "Campfire", "Lobby Lounge", "Beach Hut"],
    ),
    "learning": (
        ["talks", "science", "language"],
        ["Lecture Hall", "Planetarium", "Language Cafe"],
    ),
    "fitness": (["fitness", "dance", "sport"], ["Dance Floor", "Yoga Deck", "Boxing Gym"]),
    "build": (["building", "coding", "maker"], ["Workshop", "Code Dojo", "Sandbox"]),
    "nature": (
        ["nature", "exploration", "calm"],
        ["Forest Trail", "Mountain Peak", "Aquarium", "Zen Garden"],
    ),
}
TASTE = 5.0  # how strongly taste drives choices (vs friends, liveliness, noise)
EVENT_WORDS: dict[str, list[str]] = {
    "music": ["Jazz Night", "DJ Set", "Open Mic", "Album Listening Party"],
    "games": ["Puzzle Race", "Tournament", "Game Night", "Trivia Quiz"],
    "art": ["Gallery Opening", "Live Drawing", "Sculpt-off"],
    "social": ["Meet & Greet", "Campfire Stories", "Newcomers Hour"],
    "learning": ["Science Talk", "Star Gazing", "Language Exchange"],
    "fitness": ["Dance Class", "Morning Yoga", "Boxing Drills"],
    "build": ["Build Jam", "Code Along", "Maker Show & Tell"],
    "nature": ["Guided Hike", "Reef Tour", "Meditation Walk"],
}


@dataclass
class Session:
    """One decision the simulator made: who, when, what was live, and what they picked."""

    user_id: str
    ts: float
    item_id: str
    context: Context


@dataclass
class SimWorld:
    items: list[Item]
    signals: Signals
    sessions: list[Session]
    start_ts: float
    end_ts: float
    users: list[str] = field(default_factory=list)


def simulate(
    n_users: int = 300,
    weeks: int = 8,
    seed: int = 0,
    sessions_per_week: float = 3.0,
    start_ts: float = 1_767_225_600.0,  # 2026-01-01 00:00 UTC
) -> SimWorld:
    """Generate a Plaza history. Same seed, same output."""
    rng = np.random.default_rng(seed)
    topics = list(TOPICS)
    T = len(topics)

    # Worlds: each mostly one topic, a bit of a second.
    worlds: list[Item] = []
    wvec: list[np.ndarray] = []
    for ti, t in enumerate(topics):
        tags, names = TOPICS[t]
        for name in names:
            other = int(rng.integers(T))
            v = np.zeros(T)
            v[ti] = 1.0
            v[other] += 0.3
            extra_tag = TOPICS[topics[other]][0][0]
            wid = "w-" + name.lower().replace(" ", "-")
            desc = f"A {t} space. {name} is where people come for {tags[0]} and {tags[1]}; sometimes {extra_tag}."
            worlds.append(
                space(
                    wid,
                    name,
                    desc,
                    [tags[0], tags[1], extra_tag],
                    capacity=int(rng.choice([12, 24, 40])),
                )
            )
            wvec.append(v / np.linalg.norm(v))
    W = len(worlds)
    Wv = np.stack(wvec)

    # Recurring weekly events in some worlds; each occurrence is a distinct new item.
    end_ts = start_ts + weeks * WEEK_S
    events: list[Item] = []
    evec: list[np.ndarray] = []
    series = []
    for s in range(int(W * 0.8)):
        w = int(rng.integers(W))
        ti = int(np.argmax(Wv[w]))
        title = str(rng.choice(EVENT_WORDS[topics[ti]]))
        slot = int(rng.integers(N_HABIT))
        series.append((s, w, ti, title, slot))
    for week in range(weeks):
        for s, w, ti, title, slot in series:
            st = start_ts + week * WEEK_S + slot * HABIT_BUCKET_S + 3600 * int(rng.integers(0, 3))
            host = worlds[w]
            tags = [*TOPICS[topics[ti]][0][:2], "event"]
            events.append(
                event(
                    f"e-{s}-{week}",
                    host.id,
                    f"{title} at {host.title}",
                    st,
                    3600.0 * float(rng.choice([1, 1.5, 2])),
                    f"Weekly {title.lower()} hosted in {host.title}. Come for {tags[0]}.",
                    tags,
                    capacity=int(rng.choice([20, 30, 50])),
                    announced_ts=st - 5 * 86400,
                )
            )
            evec.append(Wv[w])
    items = worlds + events
    world_of = {w.id: k for k, w in enumerate(worlds)}

    # Users: taste mixture, a few habit slots, friends within taste clusters.
    users = [f"u{i}" for i in range(n_users)]
    taste = rng.dirichlet(np.full(T, 0.3), size=n_users)
    habit = np.zeros((n_users, N_HABIT))
    for i in range(n_users):
        fav = rng.choice(N_HABIT, size=3, replace=False)
        habit[i, fav] = rng.dirichlet(np.ones(3)) * 0.85
        habit[i] += 0.15 / N_HABIT
    world_bias = rng.normal(0, 0.6, size=W)  # some worlds are simply better
    sig = Signals()
    friends: dict[int, set[int]] = defaultdict(set)
    cluster = np.argmax(taste + rng.normal(0, 0.15, taste.shape), axis=1)
    for i in range(n_users):
        same = np.flatnonzero(cluster == cluster[i])
        for j in rng.choice(same, size=min(len(same), int(rng.integers(1, 6))), replace=False):
            if j != i:
                friends[i].add(int(j))
                friends[int(j)].add(i)
    for i, fs in friends.items():
        for j in fs:
            sig.follows.append(Follow(users[i], users[j], start_ts - 86400))
    for i in range(n_users):
        if rng.random() < 0.3:
            t = topics[int(np.argmax(taste[i]))]
            sig.interests[users[i]] = (TOPICS[t][0][0],)

    # Session times: Poisson per week, placed by the user's habit slots.
    times: list[tuple[float, int]] = []
    for i in range(n_users):
        activity = rng.gamma(2.0, sessions_per_week / 2.0)
        k = rng.poisson(activity * weeks)
        slots = rng.choice(N_HABIT, size=k, p=habit[i])
        wk = rng.integers(0, weeks, size=k)
        for s, w in zip(slots, wk, strict=True):
            times.append((start_ts + w * WEEK_S + s * HABIT_BUCKET_S + rng.uniform(0, HABIT_BUCKET_S), i))
    times.sort()

    present: dict[int, dict[int, float]] = defaultdict(dict)  # world -> user -> leave time
    sessions: list[Session] = []
    rsvp_going: dict[int, set[int]] = defaultdict(set)
    last_left: dict[int, tuple[str, float]] = {}
    familiar = np.zeros((n_users, W))
    world_ids = [w.id for w in worlds]
    ev_start = [float(e.start_ts or 0.0) for e in events]
    ev_end = [float(e.end_ts or 0.0) for e in events]
    for ts, i in times:
        for w in range(W):  # people whose stay ended have left
            present[w] = {u: t for u, t in present[w].items() if t > ts}
        occ = np.array([len(present[w]) for w in range(W)])
        caps = np.array([worlds[w].capacity or 24 for w in range(W)])
        fr = friends[i]
        fpres = np.array([len(fr & present[w].keys()) for w in range(W)])
        # Candidate events: live now or starting within 3 h.
        live = [k for k in range(len(events)) if ev_start[k] - 3 * 3600 <= ts < ev_end[k]]
        util_w = TASTE * (Wv @ taste[i]) + world_bias + 0.8 * np.log1p(fpres) + 0.3 * np.minimum(occ, 8) / 8
        util_w -= 3.0 * (occ >= caps)
        util_e = np.array(
            [
                TASTE * float(evec[k] @ taste[i])
                + world_bias[world_of[events[k].world_id]]
                + 2.0
                + 0.8 * np.log1p(len(fr & rsvp_going[k]))
                - 0.3 * max(0.0, (ev_start[k] - ts) / 3600)
                for k in live
            ]
        )
        util = np.concatenate([util_w, util_e]) if live else util_w
        # Familiarity: people return to worlds they already know (rich get richer).
        util[:W] += 0.6 * np.log1p(familiar[i])
        # Nobody re-enters the world they left minutes ago.
        left = last_left.get(i)
        just_left = left[0] if left and ts - left[1] < 1800 else None
        if just_left is not None:
            util[world_ids.index(just_left)] = -np.inf
        p = np.exp(util - util.max())
        p /= p.sum()
        choice = int(rng.choice(len(p), p=p))
        ctx = Context(
            occupancy={worlds[w].id: int(occ[w]) for w in range(W) if occ[w]},
            friends_present={worlds[w].id: [users[u] for u in fr & present[w].keys()] for w in range(W) if fpres[w]},
            friends_attending={
                events[k].id: [users[u] for u in fr & rsvp_going[k]] for k in live if fr & rsvp_going[k]
            },
            just_left=just_left,
        )
        # Better matches hold people longer (what makes dwell time a signal).
        finite = util[np.isfinite(util)]
        dwell = (
            float(rng.gamma(2.0, 15.0)) * 60.0 * float(np.clip(1.0 + 0.2 * (util[choice] - finite.mean()), 0.3, 3.0))
        )
        dwell = float(np.clip(dwell, 60.0, 4 * 3600.0))
        if choice < W:
            wid = worlds[choice].id
            item_id, world = wid, choice
            start = ts
        else:
            k = live[choice - W]
            e = events[k]
            item_id, world = e.id, world_of[e.world_id]
            start = max(ts, ev_start[k])
            if ev_start[k] > ts:
                sig.rsvps.append(RSVP(users[i], e.id, ts, True))
                rsvp_going[k].add(i)
            dwell = min(dwell, ev_end[k] - start)
            sig.attendance.append(Attendance(users[i], e.id, start + max(dwell, 60.0), max(dwell, 60.0)))
        sessions.append(Session(users[i], ts, item_id, ctx))
        fp = tuple(users[u] for u in fr & present[world].keys())
        sig.visits.append(Visit(users[i], worlds[world].id, f"{worlds[world].id}#1", start, start + dwell, fp))
        present[world][i] = start + dwell
        if rng.random() < 0.08:
            sig.likes.append(Like(users[i], item_id, start + dwell))
        if rng.random() < 0.5:
            sig.chats.append(ChatCount(users[i], worlds[world].id, start + dwell, int(rng.poisson(5))))
        last_left[i] = (worlds[world].id, start + dwell)
        familiar[i, world] += 1
    return SimWorld(items, sig, sessions, start_ts, end_ts, users)


__all__ = ["Session", "SimWorld", "simulate"]
