"""A social-VR simulator for evaluating recommenders end to end (deterministic per seed).

It shares no code and no constants with the models: it imports only the data formats
(``items``: ``Item``; ``signals``: the logged rows) and never the hybrid, its weights or
its time slots. What drives choices here is an independent guess at how people use a
social VR platform:

- people have tastes over topics, a weekly rhythm (a few preferred hours of the week) and a
  level of sociability, habit and curiosity;
- they return to places they know (habit), go where their friends are now, and are drawn to
  events that are on or about to start, especially ones they RSVP'd to or their friends
  will be at, and to a series they keep attending;
- world text is an imperfect description (some worlds carry a misleading tag) and an event
  series does not always share its host world's topic;
- new worlds open and new people join while the simulation runs (cold worlds, new users);
- a visit is often followed by a hop to another place (``here`` is then the world they are in).

Every decision is recorded as a ``Session``: who, when, the live context they saw (``SimContext``)
and what they picked, so an evaluation can replay "what would we have listed right then".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .items import Item, event
from .signals import RSVP, Attendance, ChatCount, Follow, Like, Signals, Visit

DAY = 86400.0
WEEK = 7 * DAY
TOPICS: dict[str, tuple[str, ...]] = {
    "music": ("music", "jazz", "dj", "concert", "karaoke"),
    "games": ("games", "puzzle", "arena", "tournament", "trivia"),
    "art": ("art", "gallery", "painting", "sculpture", "photography"),
    "social": ("hangout", "chat", "bar", "meetup", "lounge"),
    "learning": ("talks", "science", "language", "workshop", "lecture"),
    "fitness": ("fitness", "dance", "yoga", "boxing", "running"),
    "build": ("building", "coding", "maker", "modding", "design"),
    "nature": ("nature", "hiking", "ocean", "forest", "stars"),
    "film": ("film", "cinema", "anime", "screening", "theatre"),
    "roleplay": ("roleplay", "fantasy", "quest", "tavern", "story"),
}
PLACES = ("Hall", "Club", "Garden", "Tower", "Cove", "Deck", "Den", "Plaza", "Station", "Loft", "Island", "Dome")
SERIES_WORDS = ("Night", "Meetup", "Session", "Jam", "Hour", "Showcase", "Open House", "Live")


@dataclass
class SimContext:
    """What was live when the person chose (the evaluation turns it into a model's context)."""

    occupancy: dict[str, int] = field(default_factory=dict)  # world id -> people there
    friends_present: dict[str, list[str]] = field(default_factory=dict)  # world id -> friends there
    friends_attending: dict[str, list[str]] = field(default_factory=dict)  # event id -> friends with an RSVP
    just_left: str | None = None  # the world they left within the last half hour
    here: str | None = None  # the world they are in (a hop), else None


@dataclass
class Session:
    """One decision: who, when, what was live, what they picked."""

    user_id: str
    ts: float
    item_id: str
    context: SimContext


@dataclass
class SimWorld:
    items: list[Item]
    signals: Signals
    sessions: list[Session]
    start_ts: float
    end_ts: float
    users: list[str] = field(default_factory=list)
    joined: dict[str, float] = field(default_factory=dict)  # user -> when they joined
    opened: dict[str, float] = field(default_factory=dict)  # world -> when it opened


@dataclass
class _Person:
    taste: np.ndarray
    rhythm: np.ndarray  # probability over the 168 hours of the week
    rate: float  # sessions per week
    social: float
    habit: float
    curious: float
    joined: float


def _softmax_choice(rng: np.random.Generator, util: np.ndarray) -> int:
    ok = np.isfinite(util)
    p = np.zeros_like(util)
    p[ok] = np.exp(util[ok] - util[ok].max())
    p /= p.sum()
    return int(rng.choice(len(p), p=p))


def simulate(
    n_users: int = 400,
    weeks: int = 8,
    seed: int = 0,
    n_worlds: int = 30,
    new_worlds: int = 6,
    new_user_share: float = 0.25,
    start_ts: float = 1_767_225_600.0,  # 2026-01-01 00:00 UTC
) -> SimWorld:
    """Generate a Plaza history. Same arguments, same output."""
    rng = np.random.default_rng(seed)
    topics = list(TOPICS)
    n_t = len(topics)
    end_ts = start_ts + weeks * WEEK

    # --- worlds: a topic mixture, a quality, text that is right most of the time ------------
    worlds: list[Item] = []
    wmix: list[np.ndarray] = []
    quality: list[float] = []
    opened: dict[str, float] = {}
    used: set[str] = set()
    for w in range(n_worlds + new_worlds):
        mix = rng.dirichlet(np.full(n_t, 0.25))
        main = int(np.argmax(mix))
        words = TOPICS[topics[main]]
        name = f"{words[int(rng.integers(1, len(words)))].title()} {PLACES[int(rng.integers(len(PLACES)))]}"
        while name in used:
            name += " II"
        used.add(name)
        second = int(np.argsort(mix)[-2])
        tags = [words[0], TOPICS[topics[second]][0]]
        if rng.random() < 0.15:  # a misleading tag: text is evidence, not truth
            tags.append(TOPICS[topics[int(rng.integers(n_t))]][0])
        wid = "w" + str(w) + "-" + name.lower().replace(" ", "-")
        desc = f"{name}: {words[1]}, {words[2]} and more. Mostly {topics[main]}, some {topics[second]}."
        when = start_ts if w < n_worlds else start_ts + float(rng.uniform(0.55, 0.95)) * weeks * WEEK
        cap = int(rng.choice([16, 24, 32, 48]))
        worlds.append(Item(wid, "space", name, desc, tuple(tags), wid, None, None, cap, when))
        opened[wid] = when
        wmix.append(mix)
        quality.append(float(rng.normal(0.0, 0.5)))
    W = len(worlds)
    Wm = np.stack(wmix)
    wq = np.array(quality)

    # --- events: weekly series (topic not always the host's) and one-offs --------------------
    events: list[Item] = []
    emix: list[np.ndarray] = []
    e_series: list[int] = []
    e_host: list[int] = []
    n_series = int(W * 0.7)
    for s in range(n_series):
        host = int(rng.integers(n_worlds))
        ti = int(np.argmax(Wm[host])) if rng.random() < 0.7 else int(rng.integers(n_t))
        word = TOPICS[topics[ti]][int(rng.integers(1, 5))].title()
        title = f"{word} {SERIES_WORDS[int(rng.integers(len(SERIES_WORDS)))]}"
        hour = int(rng.choice([12, 16, 18, 19, 20, 21, 22]))
        day = int(rng.integers(7))
        dur = float(rng.choice([3600.0, 5400.0, 7200.0]))
        mix = 0.7 * np.eye(n_t)[ti] + 0.3 * Wm[host]
        for wk in range(weeks):
            st = start_ts + wk * WEEK + day * DAY + hour * 3600.0
            if rng.random() < 0.1:  # a week off
                continue
            events.append(
                event(
                    f"e{s}-{wk}",
                    worlds[host].id,
                    f"{title} at {worlds[host].title}",
                    st,
                    dur,
                    f"Weekly {title.lower()}: {TOPICS[topics[ti]][1]} and {TOPICS[topics[ti]][2]}.",
                    [TOPICS[topics[ti]][0], "weekly"],
                    capacity=int(rng.choice([20, 40, 60])),
                    announced_ts=st - float(rng.uniform(3, 7)) * DAY,
                )
            )
            emix.append(mix)
            e_series.append(s)
            e_host.append(host)
    for o in range(weeks * 2):
        host = int(rng.integers(n_worlds))
        ti = int(rng.integers(n_t))
        st = start_ts + float(rng.uniform(0.5, weeks - 0.2)) * WEEK
        st -= st % 3600.0
        events.append(
            event(
                f"x{o}",
                worlds[host].id,
                f"Special: {TOPICS[topics[ti]][3]} {SERIES_WORDS[int(rng.integers(len(SERIES_WORDS)))]}",
                st,
                7200.0,
                f"One night only, {TOPICS[topics[ti]][3]} and {TOPICS[topics[ti]][4]}.",
                [TOPICS[topics[ti]][0], "special"],
                capacity=80,
                announced_ts=st - float(rng.uniform(2, 10)) * DAY,
            )
        )
        emix.append(0.8 * np.eye(n_t)[ti] + 0.2 * Wm[host])
        e_series.append(-1 - o)
        e_host.append(host)
    E = len(events)
    Em = np.stack(emix) if E else np.zeros((0, n_t))
    ev_start = np.array([e.start_ts or 0.0 for e in events])
    ev_end = np.array([e.end_ts or 0.0 for e in events])
    ev_ann = np.array([e.announced_ts or 0.0 for e in events])

    # --- people: tastes, rhythms, traits; some join later ------------------------------------
    people: list[_Person] = []
    users: list[str] = []
    hours = np.arange(168)
    # Most people are around in the evening (UTC here), some at lunch or late at night.
    prior = np.array([2.0 if 18 <= h % 24 <= 23 else 0.8 if 11 <= h % 24 <= 17 else 0.2 for h in hours])
    prior /= prior.sum()
    for u in range(n_users):
        taste = rng.dirichlet(np.full(n_t, 0.35))
        peaks = rng.choice(168, size=int(rng.integers(2, 5)), replace=False, p=prior)
        dens = np.full(168, 0.02)
        for pk in peaks:
            d = np.minimum(np.abs(hours - pk), 168 - np.abs(hours - pk))
            dens += np.exp(-0.5 * (d / 1.5) ** 2)
        t_join = start_ts if rng.random() > new_user_share else start_ts + float(rng.uniform(0.1, 0.95)) * weeks * WEEK
        people.append(
            _Person(
                taste,
                dens / dens.sum(),
                float(rng.gamma(1.5, 2.0)),
                float(rng.beta(2, 2)),
                float(rng.beta(3, 2)),
                float(rng.beta(1.5, 4)),
                t_join,
            )
        )
        users.append(f"p{u}")
    T = np.stack([p.taste for p in people])

    # --- friends: homophily plus chance; a newcomer follows a few on joining ------------------
    sig = Signals()
    friends: dict[int, set[int]] = defaultdict(set)
    sim = T @ T.T
    for u in range(n_users):
        k = int(rng.integers(2, 8))
        p = np.exp(4.0 * sim[u])
        p[u] = 0.0
        for v in rng.choice(n_users, size=k, replace=False, p=p / p.sum()):
            v = int(v)
            friends[u].add(v)
            if rng.random() < 0.7:
                friends[v].add(u)
    for u, fs in friends.items():
        for v in fs:
            sig.follows.append(Follow(users[u], users[v], max(people[u].joined, people[v].joined) + 600.0))
    for u in range(n_users):
        if rng.random() < 0.35:
            sig.interests[users[u]] = (TOPICS[topics[int(np.argmax(T[u]))]][0],)

    # --- RSVPs: after an event is announced, people it suits say they will go ----------------
    going: dict[int, set[int]] = defaultdict(set)
    rsvp_at: dict[tuple[int, int], float] = {}
    loyalty: dict[tuple[int, int], int] = defaultdict(int)  # (person, series) -> times attended
    rsvp_queue: list[tuple[float, int, int]] = []
    for k in range(E):
        fit = T @ Em[k]
        p = np.clip(0.02 + 0.5 * (fit - 0.25), 0.0, 0.35) * np.array([pp.rate / 3.0 for pp in people]).clip(0.2, 1.5)
        for u in np.flatnonzero(rng.random(n_users) < p).tolist():
            when = float(rng.uniform(ev_ann[k], ev_start[k] - 600.0))
            if when >= people[int(u)].joined:
                rsvp_queue.append((when, int(u), k))
    rsvp_queue.sort()

    # --- sessions -----------------------------------------------------------------------------
    starts: list[tuple[float, int]] = []
    for u, pp in enumerate(people):
        n = rng.poisson(pp.rate * (end_ts - pp.joined) / WEEK)
        hrs = rng.choice(168, size=n, p=pp.rhythm)
        wks = rng.uniform(0, (end_ts - pp.joined) / WEEK, size=n).astype(int)
        for h, k in zip(hrs.tolist(), wks.tolist(), strict=True):
            t = pp.joined + k * WEEK
            t = t - ((t - start_ts) % WEEK) + h * 3600.0 + float(rng.uniform(0, 3600.0))
            if pp.joined <= t < end_ts:
                starts.append((t, u))
    starts.sort()

    present: dict[int, dict[int, float]] = defaultdict(dict)  # world -> person -> leaves at
    visits_to: np.ndarray = np.zeros((n_users, W))
    last_left: dict[int, tuple[int, float]] = {}
    sessions: list[Session] = []
    rq = 0
    queue = list(starts)
    qi = 0
    hops: list[tuple[float, int, int]] = []  # (ts, person, world they are in)
    while qi < len(queue) or hops:
        if hops and (qi >= len(queue) or hops[0][0] <= queue[qi][0]):
            ts, u, here_w = hops.pop(0)
        else:
            ts, u = queue[qi]
            qi += 1
            here_w = -1
        while rq < len(rsvp_queue) and rsvp_queue[rq][0] <= ts:
            t_r, ru, k = rsvp_queue[rq]
            rq += 1
            going[k].add(ru)
            rsvp_at[(ru, k)] = t_r
            sig.rsvps.append(RSVP(users[ru], events[k].id, t_r, True))
        for w in range(W):
            present[w] = {v: t for v, t in present[w].items() if t > ts}
        pp = people[u]
        fr = friends[u]
        occ = np.array([len(present[w]) for w in range(W)], float)
        caps = np.array([worlds[w].capacity or 24 for w in range(W)], float)
        fpres = np.array([len(fr & present[w].keys()) for w in range(W)], float)
        util_w = 3.0 * (Wm @ pp.taste) + wq
        util_w += 1.6 * pp.habit * np.log1p(visits_to[u])
        util_w += 1.4 * pp.social * np.log1p(fpres)
        util_w += 0.4 * np.minimum(occ, 6) / 6 - 2.5 * (occ >= caps)
        util_w += 0.8 * pp.curious * (visits_to[u] == 0)
        util_w[[opened[w.id] > ts for w in worlds]] = -np.inf
        if here_w >= 0:
            util_w[here_w] = -np.inf
        left = last_left.get(u)
        just_left = left[0] if left is not None and ts - left[1] < 1800 and here_w < 0 else -1
        if just_left >= 0:
            util_w[just_left] = -np.inf
        live = [int(k) for k in np.flatnonzero((ev_start - 2700 <= ts) & (ts < ev_end - 600) & (ev_ann <= ts))]
        util_e = np.array(
            [
                3.0 * float(Em[k] @ pp.taste)
                + wq[e_host[k]]
                + 2.0
                + (2.5 if u in going[k] else 0.0)
                + 1.4 * pp.social * np.log1p(len(fr & going[k]))
                + 0.9 * np.log1p(loyalty[(u, e_series[k])])
                - 0.5 * max(0.0, (ev_start[k] - ts) / 3600.0)
                for k in live
            ]
        )
        util = np.concatenate([util_w, util_e]) if live else util_w
        choice = _softmax_choice(rng, util)
        ctx = SimContext(
            occupancy={worlds[w].id: int(occ[w]) for w in range(W) if occ[w]},
            friends_present={
                worlds[w].id: sorted(users[v] for v in fr & present[w].keys()) for w in range(W) if fpres[w]
            },
            friends_attending={events[k].id: sorted(users[v] for v in fr & going[k]) for k in live if fr & going[k]},
            just_left=worlds[just_left].id if just_left >= 0 else None,
            here=worlds[here_w].id if here_w >= 0 else None,
        )
        margin = float(util[choice] - np.nanmean(util[np.isfinite(util)]))
        dwell = float(np.exp(rng.normal(np.log(25 * 60), 0.7))) * float(np.clip(1 + 0.25 * margin, 0.4, 2.5))
        dwell = float(np.clip(dwell, 90.0, 5 * 3600.0))
        if choice < W:
            item, world, begin = worlds[choice].id, choice, ts
        else:
            k = live[choice - W]
            item, world = events[k].id, e_host[k]
            begin = max(ts, float(ev_start[k]))
            dwell = min(dwell * 1.5, float(ev_end[k]) - begin)
            dwell = max(dwell, 300.0)
            sig.attendance.append(Attendance(users[u], item, begin, dwell))
            loyalty[(u, e_series[k])] += 1
        sessions.append(Session(users[u], ts, item, ctx))
        wid = worlds[world].id
        sig.visits.append(
            Visit(
                users[u],
                wid,
                f"{wid}#1",
                begin,
                begin + dwell,
                tuple(sorted(users[v] for v in fr & present[world].keys())),
            )
        )
        present[world][u] = begin + dwell
        visits_to[u, world] += 1
        last_left[u] = (world, begin + dwell)
        if margin > 1.0 and rng.random() < 0.15:
            sig.likes.append(Like(users[u], item, begin + dwell))
        if rng.random() < 0.4 + 0.4 * pp.social:
            sig.chats.append(ChatCount(users[u], wid, begin + dwell, int(rng.poisson(3 + 6 * pp.social))))
        if rng.random() < 0.3 and begin + dwell < end_ts:  # hop on to somewhere else
            t_hop = begin + dwell
            pos = next((i for i, h in enumerate(hops) if h[0] > t_hop), len(hops))
            hops.insert(pos, (t_hop, u, world))
    joined = {users[u]: people[u].joined for u in range(n_users)}
    return SimWorld(worlds + events, sig, sessions, start_ts, end_ts, users, joined, opened)


__all__ = ["Session", "SimContext", "SimWorld", "simulate"]
