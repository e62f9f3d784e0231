"""The simulator evaluation: the hybrid against simple rules that see the same context.

Every line is fitted on the signals before the split, then walks the test sessions in time
order; before each session it is fed (``observe``) every signal that would have reached the
server by then: a visit when it ends, an RSVP, an attendance, a like or a follow when it
happens. So the hybrid and the rules learn online in the same way. Each line answers with a
top-10 list for (person, time, live context): occupancy, friends present, friends' RSVPs, the
world just left and the world the person is in, plus the catalogue (what is on when).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from server.recommend.collab import ALS, FactorModel, InteractionData
from server.recommend.content import TextEncoder
from server.recommend.hybrid import Context, HybridConfig, PlazaRecommender
from server.recommend.items import Item
from server.recommend.metrics import summarize
from server.recommend.signals import Signals
from server.recommend.simulator import SimContext, SimWorld

SOON_S = 2700.0  # "starting soon" for the rules: within 45 minutes
RECENT_S = 7 * 86400.0


class Line(Protocol):
    name: str

    def fit(self, train: Signals, items: list[Item], now: float) -> None: ...
    def observe(self, batch: Signals) -> None: ...
    def rank(self, user: str, now: float, ctx: SimContext, limit: int) -> list[str]: ...


def stream(signals: Signals, after: float) -> list[tuple[float, Signals]]:
    """Signals known after ``after``, each at the moment the server would know it."""
    out: list[tuple[float, Signals]] = []
    out += [(v.end_ts, Signals(visits=[v])) for v in signals.visits if v.end_ts > after]
    out += [(c.ts, Signals(chats=[c])) for c in signals.chats if c.ts > after]
    out += [(a.ts, Signals(attendance=[a])) for a in signals.attendance if a.ts > after]
    out += [(r.ts, Signals(rsvps=[r])) for r in signals.rsvps if r.ts > after]
    out += [(lk.ts, Signals(likes=[lk])) for lk in signals.likes if lk.ts > after]
    out += [(f.ts, Signals(follows=[f])) for f in signals.follows if f.ts > after]
    out.sort(key=lambda x: x[0])
    return out


def known_before(signals: Signals, t: float) -> Signals:
    """What the server had stored at ``t`` (a visit only once it has ended)."""
    return Signals(
        visits=[v for v in signals.visits if v.end_ts <= t],
        attendance=[a for a in signals.attendance if a.ts <= t],
        rsvps=[r for r in signals.rsvps if r.ts <= t],
        follows=[f for f in signals.follows if f.ts <= t],
        likes=[lk for lk in signals.likes if lk.ts <= t],
        chats=[c for c in signals.chats if c.ts <= t],
        interests=dict(signals.interests),
    )


def to_context(c: SimContext) -> Context:
    return Context(
        occupancy=c.occupancy,
        friends_present=c.friends_present,
        friends_attending=c.friends_attending,
        just_left=c.just_left,
        here=c.here,
    )


class HybridLine:
    def __init__(self, name: str, cfg: HybridConfig, encoder: TextEncoder) -> None:
        self.name, self.cfg, self.encoder = name, cfg, encoder
        self.model = PlazaRecommender(cfg, encoder)

    def fit(self, train: Signals, items: list[Item], now: float) -> None:
        self.model = PlazaRecommender(self.cfg, self.encoder).fit(train, items, now)

    def observe(self, batch: Signals) -> None:
        self.model.observe_signals(batch)

    def rank(self, user: str, now: float, ctx: SimContext, limit: int) -> list[str]:
        return [r.item_id for r in self.model.recommend(user, now, to_context(ctx), limit)]


class RuleLine:
    """Counting rules over the same signals and context. ``mode`` picks the ordering:

    - ``popular``: distinct people in the last 7 days (an event: its RSVPs + half its host's);
    - ``own``: the person's own visits to the world (an event: to its host), then popular;
    - ``friends``: friends there now or going, then own, then popular;
    - ``live``: events on or starting within 45 min first, then popular;
    - ``rule``: live events first (ones you RSVP'd, then ones friends go to, then ones in
      worlds you visit), then worlds with friends, then your own frequency, then popular.
    """

    def __init__(self, name: str, mode: str) -> None:
        self.name, self.mode = name, mode

    def fit(self, train: Signals, items: list[Item], now: float) -> None:
        self.items = items
        self.index = {it.id: k for k, it in enumerate(items)}
        self.host = np.array([self.index.get(it.host, k) for k, it in enumerate(items)])
        self.is_event = np.array([it.kind == "event" for it in items])
        self.start = np.array([it.start_ts if it.start_ts is not None else np.nan for it in items])
        self.end = np.array([it.end_ts if it.end_ts is not None else np.inf for it in items])
        self.announced = np.array([it.announced_ts if it.announced_ts is not None else -np.inf for it in items])
        self.own: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(items)))
        self.seen: dict[int, dict[str, float]] = defaultdict(dict)  # item -> person -> last time
        self.rsvp: dict[str, set[int]] = defaultdict(set)
        self.rsvp_count = np.zeros(len(items))
        self.observe(train)

    def observe(self, batch: Signals) -> None:
        for v in batch.visits:
            k = self.index.get(v.world_id)
            if k is not None and v.end_ts - v.start_ts >= 30:
                self.own[v.user_id][k] += 1
                self.seen[k][v.user_id] = v.end_ts
        for a in batch.attendance:
            k = self.index.get(a.event_id)
            if k is not None:
                self.seen[k][a.user_id] = a.ts
        for r in batch.rsvps:
            k = self.index.get(r.event_id)
            if k is not None and r.going and k not in self.rsvp[r.user_id]:
                self.rsvp[r.user_id].add(k)
                self.rsvp_count[k] += 1

    def _popular(self, now: float) -> np.ndarray:
        pop = np.zeros(len(self.items))
        for k, who in self.seen.items():
            pop[k] = sum(1 for t in who.values() if now - RECENT_S <= t <= now)
        ev = self.is_event
        pop[ev] = np.maximum(pop[ev], 0.5 * pop[self.host[ev]] + self.rsvp_count[ev])
        return pop

    def rank(self, user: str, now: float, ctx: SimContext, limit: int) -> list[str]:
        n = len(self.items)
        ok = (self.announced <= now) & (self.end > now)
        for iid in (ctx.here, ctx.just_left):
            if iid in self.index:
                ok[self.index[iid]] = False
        if ctx.here in self.index:
            ok &= ~(self.is_event & (self.host == self.index[ctx.here]) & (self.start <= now))
        pop = self._popular(now)
        own_w = self.own.get(user, np.zeros(n))
        own = np.where(self.is_event, own_w[self.host], own_w)
        fr = np.zeros(n)
        for wid, ppl in ctx.friends_present.items():
            if wid in self.index:
                fr[self.index[wid]] += len(ppl)
        for eid, ppl in ctx.friends_attending.items():
            if eid in self.index:
                fr[self.index[eid]] += len(ppl)
        with np.errstate(invalid="ignore"):
            live = self.is_event & (self.start - SOON_S <= now)
        mine = np.zeros(n)
        mine[list(self.rsvp.get(user, ()))] = 1.0
        norm = 1.0 / (1.0 + pop.max())
        if self.mode == "popular":
            s = pop
        elif self.mode == "own":
            s = 1e3 * own + pop * norm
        elif self.mode == "friends":
            s = 1e6 * fr + 1e3 * own + pop * norm
        elif self.mode == "live":
            s = 1e6 * live + pop
        else:
            tier = 3.0 * mine + 2.0 * (fr > 0) + 1.0 * (own > 0)
            s = 1e9 * live + 1e8 * live * tier + 1e6 * (~live & (fr > 0)) * fr + 1e3 * own + pop * norm
        s = np.where(ok, s, -np.inf)
        order = np.lexsort((np.arange(n), -s))[:limit]
        return [self.items[k].id for k in order if np.isfinite(s[k])]


class ALSLine:
    """Implicit ALS over people x worlds (visit counts) with fold-in for anyone; an event
    scores as its host world. ``live_first`` puts events on or starting soon first."""

    def __init__(self, name: str, seed: int, live_first: bool) -> None:
        self.name, self.seed, self.live_first = name, seed, live_first
        self.rules = RuleLine("_", "popular")

    def fit(self, train: Signals, items: list[Item], now: float) -> None:
        self.rules.fit(train, items, now)
        r = self.rules
        self.worlds = [k for k, it in enumerate(items) if it.kind == "space"]
        self.col = {int(k): c for c, k in enumerate(self.worlds)}
        users = sorted(r.own)
        seqs = [[self.col[int(k)] for k in np.flatnonzero(r.own[u]) for _ in range(int(r.own[u][k]))] for u in users]
        self.model = ALS(factors=32, regularization=0.05, alpha=2.0, iterations=15, seed=self.seed)
        self.model.fit(InteractionData.from_sequences(seqs, len(self.worlds)))

    def observe(self, batch: Signals) -> None:
        self.rules.observe(batch)

    def rank(self, user: str, now: float, ctx: SimContext, limit: int) -> list[str]:
        r = self.rules
        n = len(r.items)
        own = r.own.get(user)
        hist = [self.col[int(k)] for k in np.flatnonzero(own) if int(k) in self.col] if own is not None else []
        pop = r._popular(now)
        if hist and own is not None:
            weights = [float(own[self.worlds[c]]) for c in hist]
            u = FactorModel.fold_in(self.model, hist, weights, alpha=2.0)
            sw = self.model.item_factors @ u
        else:
            sw = np.zeros(len(self.worlds))
        s = np.full(n, 0.0)
        s[self.worlds] = sw
        s[r.is_event] = s[r.host[r.is_event]]
        s = s + 1e-6 * pop  # ties (a newcomer): popular first
        if self.live_first:
            with np.errstate(invalid="ignore"):
                s = s + 1e6 * (r.is_event & (r.start - SOON_S <= now))
        ok = (r.announced <= now) & (r.end > now)
        for iid in (ctx.here, ctx.just_left):
            if iid in r.index:
                ok[r.index[iid]] = False
        if ctx.here in r.index:
            ok &= ~(r.is_event & (r.host == r.index[ctx.here]) & (r.start <= now))
        s = np.where(ok, s, -np.inf)
        order = np.lexsort((np.arange(n), -s))[:limit]
        return [r.items[k].id for k in order if np.isfinite(s[k])]


@dataclass
class Case:
    user: str
    ts: float
    target: str
    ctx: SimContext
    tags: tuple[str, ...]  # subsets this case is in


def cases_after(sw: SimWorld, split: float, train: Signals) -> list[Case]:
    """Test sessions with their subsets: new users, cold events/worlds, repeat vs novel."""
    trained_items = {v.world_id for v in train.visits} | {a.event_id for a in train.attendance}
    kind = {it.id: it for it in sw.items}
    visited: dict[str, set[str]] = defaultdict(set)
    for v in train.visits:
        visited[v.user_id].add(v.world_id)
    active_before = {v.user_id for v in train.visits}
    out = []
    for s in sw.sessions:
        it = kind[s.item_id]
        if s.ts >= split:
            tags = ["all"]
            tags.append("new_user" if s.user_id not in active_before else "known_user")
            if it.kind == "event":
                tags.append("event")
                if it.id not in trained_items:
                    tags.append("cold_event")
            elif it.id not in trained_items:
                tags.append("cold_world")
            tags.append("repeat" if it.host in visited[s.user_id] else "novel")
            out.append(Case(s.user_id, s.ts, s.item_id, s.context, tuple(tags)))
        visited[s.user_id].add(it.host)  # what they chose is visited from now on
    return out


def evaluate(line: Line, sw: SimWorld, split: float, cases: list[Case]) -> dict[str, list[int]]:
    """Ranks per subset (10 = not in the top 10)."""
    train = known_before(sw.signals, split)
    line.fit(train, sw.items, split)
    feed = stream(sw.signals, split)
    fi = 0
    ranks: dict[str, list[int]] = defaultdict(list)
    visited = {v.world_id for v in train.visits}
    for c in cases:
        while fi < len(feed) and feed[fi][0] <= c.ts:
            line.observe(feed[fi][1])
            visited.update(v.world_id for v in feed[fi][1].visits)
            fi += 1
        got = line.rank(c.user, c.ts, c.ctx, 10)
        # Exposure: does the list show a world nobody had visited yet (0 = shown, 10 = not)?
        shows_cold = any(i in sw.opened and i not in visited for i in got)
        ranks["shows_unvisited_world"].append(0 if shows_cold else 10)
        r = got.index(c.target) if c.target in got else 10
        for t in c.tags:
            ranks[t].append(r)
    return ranks


def lines(seed: int, encoder: TextEncoder) -> list[Line]:
    no_explore = dataclasses.replace(HybridConfig(seed=seed), w_explore=0.0, cold_explore=0.0, explore_slot=-1)
    return [
        HybridLine("plaza (server default)", HybridConfig(seed=seed), encoder),
        HybridLine("plaza without exploration", no_explore, encoder),
        RuleLine("rule: live first, friends, own, popular", "rule"),
        RuleLine("live events first, then popular", "live"),
        RuleLine("friends, then own, then popular", "friends"),
        RuleLine("own visit frequency", "own"),
        RuleLine("popular in the last 7 days", "popular"),
        ALSLine("implicit ALS", seed, live_first=False),
        ALSLine("implicit ALS, live events first", seed, live_first=True),
    ]


SUBSETS = (
    "all",
    "new_user",
    "known_user",
    "event",
    "cold_event",
    "cold_world",
    "repeat",
    "novel",
    "shows_unvisited_world",  # share of lists with a not-yet-visited world in them (hr10 column)
)


def summarize_runs(per_seed: Iterable[dict[str, list[int]]]) -> dict[str, dict[str, float]]:
    """Mean and sd over seeds of HR@10/NDCG@10 per subset, and the mean n."""
    rows = list(per_seed)
    out: dict[str, dict[str, float]] = {}
    for sub in SUBSETS:
        vals = [summarize(r.get(sub, [])) for r in rows]
        hr = np.array([v["hr10"] for v in vals])
        nd = np.array([v["ndcg10"] for v in vals])
        out[sub] = {
            "hr10": round(float(hr.mean()), 4),
            "hr10_sd": round(float(hr.std(ddof=1)) if len(hr) > 1 else 0.0, 4),
            "ndcg10": round(float(nd.mean()), 4),
            "ndcg10_sd": round(float(nd.std(ddof=1)) if len(nd) > 1 else 0.0, 4),
            "n": round(float(np.mean([v["n"] for v in vals])), 1),
        }
    return out
