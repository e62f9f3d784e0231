"""PlazaRecommender: collaborative + content + context scoring, re-ranked for diversity.

Scoring, per item, for one user at time ``now``::

    personal = conf * (w_collab*collab + w_content*content + w_own*own + w_host*host + w_habit*habit)
    total    = personal + w_pop'*pop + w_friends*friends + w_occupancy*occupancy
               + w_time*soon + w_explore*noise
    w_pop'   = w_pop_new for someone with no history and no interest tags,
               else w_pop*(1 - conf) + w_pop_regular*conf

``conf`` grows with the user's history (0 for a new user), so a newcomer sees
popular picks that give way to personal ones after a visit or two. Events that
are over (or not yet announced) and the item the user just left are removed
before ranking. The top candidates are re-ranked with MMR so the list spans
different worlds and topics, and each pick gets a reason from its strongest
component.

The model is a plain object: ``fit`` takes signals, items and the time; it does
no I/O and reads no clock.
"""

from __future__ import annotations

import hashlib
import math
import time as _time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .collab import ALS, EASE, Blend, CollabModel, InteractionData, SASRec, Transitions
from .content import CachedEncoder, HashingEncoder, TextEncoder
from .items import Catalogue, Item, ItemKind
from .signals import Interaction, Signals, implicit_feedback

CollabKind = Literal["auto", "ease", "ease+next", "als", "sasrec", "ease+sasrec", "none"]

WEEK_S = 7 * 24 * 3600
HABIT_BUCKET_S = 4 * 3600  # 42 four-hour slots per week
N_HABIT = WEEK_S // HABIT_BUCKET_S
_DAYS = (
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
)  # epoch day 0 = Thu
_PARTS = ("night", "night", "morning", "midday", "afternoon", "evening")


def habit_bucket(ts: float) -> int:
    """Slot of the week (UTC). The server may shift ``ts`` by the user's offset first."""
    return int(ts % WEEK_S) // HABIT_BUCKET_S


def bucket_name(b: int) -> str:
    return f"{_DAYS[b // 6]} {_PARTS[b % 6]}s"


@dataclass
class Context:
    """What is live at request time; all optional."""

    occupancy: Mapping[str, int] = field(default_factory=dict)  # world id -> people there now
    friends_present: Mapping[str, Sequence[str]] = field(default_factory=dict)  # world id -> friend ids
    friends_attending: Mapping[str, Sequence[str]] = field(default_factory=dict)  # event id -> friend ids
    just_left: str | None = None  # item id the user just left; never recommended back
    here: str | None = None  # the world the user is in now: neither it nor its live events are shown
    exclude: frozenset[str] = frozenset()  # anything else the caller wants hidden


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    kind: ItemKind
    score: float
    components: dict[str, float]
    reason: str


@dataclass
class HybridConfig:
    """Weights of the score components. ``ease_l2``/``ease_recency`` were chosen on the ML-100K
    validation split (bench/recsys.py ``validation`` rows); see docs/recommender.md."""

    collab: CollabKind = "auto"
    ease_l2: float = 300.0
    ease_recency: float = 0.95
    w_next: float = 0.2  # "ease+next": weight of the what-comes-next model beside EASE
    w_collab: float = 1.0
    w_content: float = 0.5
    w_own: float = 1.0  # the user's own repeat affinity for a world (or an event's host)
    w_host: float = 0.6  # events inherit the user's affinity for their host world
    w_habit: float = 0.4
    # Popularity for someone we know nothing about (no history, no interest tags): nothing
    # personal competes with it, so it should outweigh the context nudges (occupancy,
    # exploration noise) as the simple "popular" rule does; chosen on simulator validation
    # seeds (bench/recsys_sim_tune.py).
    w_pop_new: float = 4.0
    w_pop: float = 0.5  # with a history or interest tags: this at conf 0 ...
    w_pop_regular: float = 0.125  # ... shifting to this as conf -> 1
    w_friends: float = 1.0
    w_occupancy: float = 0.3
    w_time: float = 0.6
    w_explore: float = 0.05
    # Worlds nobody has visited yet get this much more exploration noise, so new worlds
    # surface (cost measured in the simulator's cold-world rows).
    cold_explore: float = 4.0
    # Noise on worlds people already know, as a share of ``w_explore`` (the cold-world noise is
    # unchanged). It explores nothing new and costs accuracy; chosen on ML-100K validation.
    warm_explore: float = 0.0
    # One place in the list (0-based; -1 = off) goes to the best-scoring world nobody has been
    # to yet, when none made the list on its own: how new worlds get their first visitors.
    explore_slot: int = 7
    pop_half_life_days: float = 14.0  # popularity is recent popularity
    pin_soon_s: float = 1800.0  # events live or starting within this are pinned first when they fit
    mmr_lambda: float = 0.5  # similarity penalty for a new user; shrinks as history grows
    candidates: int = 60
    conf_half: float = 2.0  # history length at which personal components get half weight
    half_life_days: float = 30.0  # older interactions count less in the user profile
    default_capacity: int = 24
    seed: int = 0
    sasrec_epochs: int = 30


@dataclass
class _User:
    items: list[str] = field(default_factory=list)  # chronological item ids
    sources: list[str] = field(default_factory=list)  # Interaction.source per item
    weights: list[float] = field(default_factory=list)
    ts: list[float] = field(default_factory=list)
    habit: np.ndarray = field(default_factory=lambda: np.zeros(N_HABIT, np.float32))
    world_habit: dict[str, dict[int, float]] = field(default_factory=dict)  # sparse: scales to 100k users
    liked: set[str] = field(default_factory=set)


@dataclass
class _Explain:
    """Per-request facts the reason text needs, gathered while scoring."""

    fcount: dict[int, int]  # item index -> friends present or going
    going: dict[int, int]  # event index -> friends going
    hist: list[tuple[str, float]]  # (item id, decayed weight), oldest first
    interests: tuple[str, ...]
    occupancy: Mapping[str, int]
    user: _User
    conf: float
    pinned: frozenset[int] = frozenset()  # live/soon events that fit: shown first
    going_ids: frozenset[str] = frozenset()  # events the user RSVP'd

    def user_going_here(self, event_id: str) -> bool:
        return event_id in self.going_ids


def _norm_max(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scale so the best visible item scores 1; negatives become 0."""
    if not mask.any():
        return np.zeros_like(x)
    m = float(np.max(x[mask]))
    return np.clip(x / m, 0.0, 1.0) if m > 0 else np.zeros_like(x)


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many.format(n=n)


def _fmt_delta(seconds: float) -> str:
    m = round(seconds / 60)
    if m < 60:
        return f"{max(m, 1)} min"
    h = seconds / 3600
    if h < 48:
        return f"{round(h)} h"
    return f"{round(h / 24)} days"


class PlazaRecommender:
    """The hybrid recommender. ``fit`` once, then ``recommend`` many times (thread-safe reads)."""

    def __init__(
        self,
        config: HybridConfig | None = None,
        encoder: TextEncoder | None = None,
        collab_model: CollabModel | None = None,
    ) -> None:
        self.config = config or HybridConfig()
        self.encoder: TextEncoder = encoder or CachedEncoder(HashingEncoder())
        self._given_collab = collab_model
        self.collab: CollabModel | None = None
        self.catalogue = Catalogue([])
        self.users: dict[str, _User] = {}
        self.friends: dict[str, set[str]] = {}
        self.going: dict[str, set[str]] = {}  # event id -> users with RSVP
        self.user_going: dict[str, set[str]] = {}  # user id -> events they RSVP'd
        self.interests: dict[str, tuple[str, ...]] = {}
        self.fitted_at: float = 0.0
        self.fit_seconds: float = 0.0
        self._collab_index: dict[str, int] = {}
        self._user_row: dict[str, int] = {}
        self._emb = np.zeros((0, 0), np.float32)
        self._pop_counts: dict[str, float] = {}
        self._week_counts: dict[str, int] = {}  # distinct people in the 7 days before fitted_at
        self._prepare_items()

    # --- fitting ---------------------------------------------------------

    def fit(self, signals: Signals, items: Iterable[Item], now: float) -> PlazaRecommender:
        """Learn from ``signals`` up to ``now``. Returns self."""
        t0 = _time.perf_counter()
        self.catalogue = Catalogue(items)
        self.friends = signals.friends()
        self.interests = dict(signals.interests)
        self.going = defaultdict(set)
        for r in sorted(signals.rsvps, key=lambda r: r.ts):
            if r.ts > now:
                continue
            if r.going:
                self.going[r.event_id].add(r.user_id)
            else:
                self.going[r.event_id].discard(r.user_id)
        self.user_going = defaultdict(set)
        for eid, goers in self.going.items():
            for u in goers:
                self.user_going[u].add(eid)
        self.fit_interactions([i for i in implicit_feedback(signals) if i.ts <= now], now)
        self.fit_seconds = _time.perf_counter() - t0
        return self

    def fit_interactions(self, interactions: Sequence[Interaction], now: float, items: Catalogue | None = None) -> None:
        """Lower-level fit from already-weighted interactions (the bench uses it at scale)."""
        cfg = self.config
        if items is not None:
            self.catalogue = items
        self.fitted_at = now
        self.users = {}
        pop: dict[str, dict[str, float]] = defaultdict(dict)  # item -> user -> latest ts
        for it in interactions:
            item = self.catalogue.get(it.item_id)
            if item is None:
                continue
            self._observe(it, item)
            pop[it.item_id][it.user_id] = max(it.ts, pop[it.item_id].get(it.user_id, -math.inf))
        # Popularity counts people, each fading with the time since they last came, so a world
        # that was busy months ago does not outrank one that is busy now.
        hl = cfg.pop_half_life_days * 86400.0
        self._pop_counts = {k: sum(0.5 ** (max(0.0, now - t) / hl) for t in v.values()) for k, v in pop.items()}
        self._week_counts = {k: sum(1 for t in v.values() if now - WEEK_S <= t <= now) for k, v in pop.items()}
        for u in self.interests:
            self.users.setdefault(u, _User())

        # Collaborative model over the items that have any interaction.
        ids = sorted(pop)
        self._collab_index = {iid: k for k, iid in enumerate(ids)}
        users = sorted(self.users)
        self._user_row = {u: r for r, u in enumerate(users)}
        seqs = [[self._collab_index[i] for i in self.users[u].items] for u in users]
        wts = [self.users[u].weights for u in users]
        kind = cfg.collab
        if kind == "auto":
            # ALS needs the [recsys] extra (implicit); without it EASE serves any size, just slower.
            kind = "als" if len(ids) > 3000 and ALS.available() else "ease+next"
        if self._given_collab is not None:
            self.collab = self._given_collab
        elif kind == "none" or not ids:
            self.collab = None
        else:
            data = InteractionData.from_sequences(seqs, len(ids), wts)
            model: CollabModel
            if kind == "ease":
                model = EASE(l2=cfg.ease_l2, recency=cfg.ease_recency)
            elif kind == "ease+next":
                model = Blend([(EASE(l2=cfg.ease_l2, recency=cfg.ease_recency), 1.0), (Transitions(), cfg.w_next)])
            elif kind == "als":
                model = ALS(seed=cfg.seed)
            elif kind == "sasrec":
                model = SASRec(epochs=cfg.sasrec_epochs, seed=cfg.seed, maxlen=50)
            else:
                model = Blend(
                    [
                        (EASE(l2=cfg.ease_l2), 1.0),
                        (SASRec(epochs=cfg.sasrec_epochs, seed=cfg.seed, maxlen=50), 1.0),
                    ]
                )
            model.fit(data)
            self.collab = model
        self._prepare_items()

    def _observe(self, it: Interaction, item: Item) -> None:
        u = self.users.get(it.user_id)
        if u is None:
            u = self.users[it.user_id] = _User()
        u.items.append(it.item_id)
        u.sources.append(it.source)
        u.weights.append(it.weight)
        u.ts.append(it.ts)
        b = habit_bucket(it.ts)
        u.habit[b] += 1.0
        wh = u.world_habit.setdefault(item.host, {})
        wh[b] = wh.get(b, 0.0) + 1.0
        if it.source == "like":
            u.liked.add(it.item_id)

    def observe(self, interactions: Iterable[Interaction]) -> None:
        """Add fresh interactions without retraining: profiles and fold-in adapt at once."""
        for it in sorted(interactions, key=lambda i: i.ts):
            item = self.catalogue.get(it.item_id)
            if item is not None:
                self._observe(it, item)

    def observe_signals(self, signals: Signals) -> None:
        """Apply freshly logged signals (visits, RSVPs, follows, likes, interests) at once."""
        for f in signals.follows:
            if f.follower_id != f.followee_id:
                self.friends.setdefault(f.follower_id, set()).add(f.followee_id)
        for r in sorted(signals.rsvps, key=lambda r: r.ts):
            goers = self.going.setdefault(r.event_id, set())
            mine = self.user_going.setdefault(r.user_id, set())
            if r.going:
                goers.add(r.user_id)
                mine.add(r.event_id)
            else:
                goers.discard(r.user_id)
                mine.discard(r.event_id)
        self.interests.update(signals.interests)
        self.observe(implicit_feedback(signals))

    def forget_user(self, user_id: str) -> None:
        """Drop everything the model holds about one person at once (the privacy delete); the
        collaborative weights still carry them until the retrain the caller starts next."""
        self.users.pop(user_id, None)
        self.interests.pop(user_id, None)
        self.friends.pop(user_id, None)
        for fs in self.friends.values():
            fs.discard(user_id)
        for eid in self.user_going.pop(user_id, set()):
            self.going.get(eid, set()).discard(user_id)

    def update_items(self, items: Iterable[Item]) -> None:
        """Swap the catalogue (new events announced, worlds edited). No retraining needed:
        new items are scored from content, host world and context until the next fit."""
        self.catalogue = Catalogue(items)
        self._prepare_items()

    def _prepare_items(self) -> None:
        cat = self.catalogue
        n = len(cat)
        self._emb = (
            self.encoder.encode([it.text() for it in cat.items]) if n else np.zeros((0, self.encoder.dim), np.float32)
        )
        self._is_event = np.array([it.kind == "event" for it in cat.items], bool)
        nan = float("nan")
        self._start = np.array([it.start_ts if it.start_ts is not None else nan for it in cat.items], np.float64)
        self._end = np.array(
            [
                (it.end_ts if it.end_ts is not None else (it.start_ts if it.start_ts is not None else nan))
                for it in cat.items
            ],
            np.float64,
        )
        self._announced = np.array([it.announced_ts if it.announced_ts is not None else -np.inf for it in cat.items])
        # Item -> index of its host world's space item (or -1).
        self._host_idx = np.array([cat.index.get(it.host, -1) for it in cat.items], np.int64)
        self._by_world: dict[str, list[int]] = defaultdict(list)
        for k, it in enumerate(cat.items):
            self._by_world[it.host].append(k)
        # Collab index of each catalogue item (-1 = unseen in training, e.g. a new event).
        self._cmap = np.array([self._collab_index.get(it.id, -1) for it in cat.items], np.int64)
        pop = np.array([self._pop_counts.get(it.id, 0.0) for it in cat.items], np.float32)
        for k, it in enumerate(cat.items):
            if it.kind == "event":
                h = self._host_idx[k]
                host_pop = pop[h] if h >= 0 else 0.0
                # A new event is as popular as a share of its host world plus its RSVPs.
                pop[k] = max(pop[k], 0.5 * host_pop + len(self.going.get(it.id, ())))
        self._pop = (
            np.log1p(pop) / max(1e-9, float(np.log1p(pop.max()))) if n and pop.max() > 0 else np.zeros(n, np.float32)
        )
        # Worlds nobody has been to (in the window the model saw): exploration favours them.
        self._cold = np.array([it.kind == "space" and it.id not in self._pop_counts for it in cat.items], bool)

    # --- serving ---------------------------------------------------------

    def recommend(
        self,
        user_id: str,
        now: float,
        context: Context | None = None,
        limit: int = 10,
        kinds: Sequence[ItemKind] = ("space", "event"),
    ) -> list[Recommendation]:
        """Top ``limit`` items for ``user_id`` at ``now``, each with components and a reason."""
        ctx = context or Context()
        cfg = self.config
        n = len(self.catalogue)
        if n == 0 or limit <= 0:
            return []
        comps, visible, extra = self._components(user_id, now, ctx, kinds)
        total = np.zeros(n, np.float32)
        for v in comps.values():
            total += v
        total[~visible] = -np.inf
        n_vis = int(visible.sum())
        if n_vis == 0:
            return []
        pins = sorted(extra.pinned, key=lambda k: -total[k])[:limit]
        rest = total.copy()
        rest[pins] = -np.inf
        c = min(cfg.candidates, n_vis - len(pins))
        picks = list(pins)
        if c > 0 and len(picks) < limit:
            cand = np.argpartition(-rest, c - 1)[:c]
            cand = cand[np.argsort(-rest[cand])]
            # Diversity matters most when we know little about the user; regulars get
            # mostly relevance (MMR costs hit rate, measured on the simulator).
            lam = cfg.mmr_lambda * (1.0 - 0.75 * extra.conf)
            picks += self._mmr(cand, rest[cand], min(limit - len(picks), c), lam)
        slot = cfg.explore_slot
        if 0 <= slot < limit and len(picks) > slot and not any(self._cold[k] for k in picks):
            cold = np.flatnonzero(self._cold & visible)
            if cold.size:
                k = int(cold[np.argmax(total[cold])])
                picks = [*picks[:slot], k, *picks[slot:]][:limit]
        out = []
        for k in picks:
            it = self.catalogue.items[k]
            parts = {name: float(v[k]) for name, v in comps.items() if v[k] != 0.0}
            out.append(Recommendation(it.id, it.kind, float(total[k]), parts, self._reason(k, parts, extra, now)))
        return out

    def score_all(self, user_id: str, now: float, context: Context | None = None) -> np.ndarray:
        """Un-reranked total score for every catalogue item (-inf = hidden); for evaluation."""
        comps, visible, _ = self._components(user_id, now, context or Context(), ("space", "event"))
        total = np.zeros(len(self.catalogue), np.float32)
        for v in comps.values():
            total += v
        total[~visible] = -np.inf
        return total

    def _components(
        self, user_id: str, now: float, ctx: Context, kinds: Sequence[ItemKind]
    ) -> tuple[dict[str, np.ndarray], np.ndarray, _Explain]:
        cfg = self.config
        cat = self.catalogue
        n = len(cat)
        user = self.users.get(user_id) or _User()

        # Visibility: no past events, nothing unannounced, nothing just left.
        visible = np.ones(n, bool)
        with np.errstate(invalid="ignore"):
            visible &= ~(self._is_event & ~(self._end > now))
        visible &= self._announced <= now
        if "space" not in kinds:
            visible &= self._is_event
        if "event" not in kinds:
            visible &= ~self._is_event
        for iid in (ctx.just_left, ctx.here, *ctx.exclude):
            k = cat.index.get(iid) if iid else None
            if k is not None:
                visible[k] = False
        if ctx.here:  # you are already at what is on where you are
            for k in self._by_world.get(ctx.here, ()):
                if self._is_event[k] and self._start[k] <= now:
                    visible[k] = False

        # History with recency decay; conf says how much to trust personal signals.
        # observe() appends items, weights, then ts: slicing to len(ts) gives a consistent
        # snapshot even while another thread is appending.
        m = len(user.ts)
        half_life = cfg.half_life_days * 86400.0
        hist = [
            (i, w * 0.5 ** ((now - t) / half_life))
            for i, w, t in zip(user.items[:m], user.weights[:m], user.ts[:m], strict=True)
        ]
        n_distinct = len({i for i, _ in hist})
        interests = self.interests.get(user_id, ())
        conf = n_distinct / (n_distinct + cfg.conf_half)

        comps: dict[str, np.ndarray] = {}
        zeros = np.zeros(n, np.float32)

        # Collaborative, folded in from the history.
        collab = zeros
        if self.collab is not None and hist:
            cidx = [self._collab_index[i] for i, _ in hist if i in self._collab_index]
            cw = [w for i, w in hist if i in self._collab_index]
            if cidx:
                raw = self.collab.score(cidx, cw, self._user_row.get(user_id))
                collab = np.where(self._cmap >= 0, raw[np.maximum(self._cmap, 0)], 0.0).astype(np.float32)
                collab = _norm_max(collab, visible | ~self._is_event)
        # Own affinity per host world (people return to the worlds they like).
        own_w: dict[str, float] = defaultdict(float)
        for i, w in hist:
            it = cat.get(i)
            if it is not None:
                own_w[it.host] += w
        own = zeros.copy()
        if own_w:
            top = max(own_w.values())
            for wid, w in own_w.items():
                k = cat.index.get(wid)
                if k is not None:
                    own[k] = w / top
        host = zeros.copy()
        hi = self._host_idx
        ev = self._is_event & (hi >= 0)
        host[ev] = np.maximum(own[hi[ev]], collab[hi[ev]])

        # Content: cosine to the decayed history profile plus picked interest tags.
        content = zeros
        if (hist or interests) and self._emb.size:
            prof = np.zeros(self._emb.shape[1], np.float32)
            for i, w in hist:
                k = cat.index.get(i)
                if k is not None:
                    prof += w * self._emb[k]
            if interests:
                tv = self.encoder.encode([" ".join(f"#{t}" for t in interests)])[0]
                prof = prof / max(1e-9, float(np.linalg.norm(prof))) + tv
            if np.any(prof):
                content = _norm_max(self._emb @ prof, visible)

        # Time-of-week habit: for spaces, how often the user is in that world in this
        # slot; for events, how active the user is at the event's start slot.
        habit = zeros.copy()
        if user.habit.sum() > 0:
            b = habit_bucket(now)
            slots = [(b - 1) % N_HABIT, b, (b + 1) % N_HABIT]
            denom = max(1.0, float(user.habit[slots].sum()))
            for wid, wh in user.world_habit.items():
                k = cat.index.get(wid)
                if k is not None and not self._is_event[k]:
                    habit[k] = sum(wh.get(s, 0.0) for s in slots) / denom
            evk = np.flatnonzero(self._is_event & visible & np.isfinite(self._start))
            if evk.size:
                hb = ((self._start[evk] % WEEK_S) // HABIT_BUCKET_S).astype(np.int64)
                habit[evk] = user.habit[hb] / user.habit.max()

        personal = conf
        comps["collab"] = cfg.w_collab * personal * collab
        comps["content"] = cfg.w_content * (personal if hist else 0.5) * content
        comps["own"] = cfg.w_own * personal * np.where(self._is_event, 0.0, own).astype(np.float32)
        comps["host"] = cfg.w_host * personal * host
        comps["habit"] = cfg.w_habit * personal * habit
        w_pop = cfg.w_pop_new if not hist and not interests else cfg.w_pop * (1.0 - conf) + cfg.w_pop_regular * conf
        comps["pop"] = w_pop * self._pop

        # Friends: present in a world now, or going to an event.
        friends = zeros.copy()
        fcount: dict[int, int] = {}
        my_friends = self.friends.get(user_id, set())
        for wid, ppl in ctx.friends_present.items():
            for k in self._by_world.get(wid, ()):
                live = not self._is_event[k] or (self._start[k] <= now < self._end[k])
                if live:
                    fcount[k] = fcount.get(k, 0) + len(ppl)
        attending: dict[str, Sequence[str]] = dict(ctx.friends_attending)
        derived: dict[str, list[str]] = defaultdict(list)
        for f in my_friends:  # RSVPs known to the model, for events the caller didn't list
            for eid in self.user_going.get(f, ()):
                if eid not in attending:
                    derived[eid].append(f)
        attending.update(derived)
        going_count: dict[int, int] = {}
        for eid, ppl in attending.items():
            k = cat.index.get(eid)
            if k is not None and ppl:
                going_count[k] = len(ppl)
                fcount[k] = fcount.get(k, 0) + len(ppl)
        for k, c in fcount.items():
            friends[k] = min(1.0, math.log1p(c) / math.log1p(4))
        comps["friends"] = cfg.w_friends * friends

        # Live occupancy: a bump for lively-but-not-full, a penalty for full.
        occ = zeros.copy()
        for wid, people in ctx.occupancy.items():
            for k in self._by_world.get(wid, ()):
                it = cat.items[k]
                if it.kind == "event" and not (self._start[k] <= now < self._end[k]):
                    continue
                capy = it.capacity or self.config.default_capacity
                fill = people / capy
                occ[k] = -1.0 if fill >= 1.0 else 4.0 * fill * (1.0 - fill)
        comps["occupancy"] = cfg.w_occupancy * occ

        # Events: live now = 1, starting within 2 h ranks up, then a slow fade.
        soon = zeros.copy()
        evk = np.flatnonzero(self._is_event & visible)
        if evk.size:
            dt = self._start[evk] - now
            soon[evk] = np.where(
                dt <= 0,
                1.0,
                np.where(
                    dt <= 7200,
                    1.0 - 0.4 * dt / 7200,
                    np.maximum(0.05, 0.4 * np.exp(-(dt - 7200) / 86400.0)),
                ),
            )
        comps["time"] = cfg.w_time * soon

        # A little seeded exploration, stable within the hour so lists don't flicker.
        if cfg.w_explore > 0:
            h = hashlib.blake2b(f"{cfg.seed}:{user_id}:{int(now // 3600)}".encode(), digest_size=8).digest()
            rng = np.random.default_rng(int.from_bytes(h, "little"))
            boost = (
                np.where(self._cold, 1.0 + cfg.cold_explore, cfg.warm_explore)
                if self._cold.size == n
                else cfg.warm_explore
            )
            comps["explore"] = (cfg.w_explore * boost * rng.random(n)).astype(np.float32)

        # Live or starting-soon events that fit the person go first: one they said they would
        # go to, one friends are at, one in a world they have been to, one matching their tastes,
        # or, for someone we know nothing about, any of them (what is on is the best guess).
        pinned: set[int] = set()
        evk = np.flatnonzero(self._is_event & visible & (self._start - now <= cfg.pin_soon_s))
        mine = self.user_going.get(user_id, set())
        for j in evk.tolist():
            ev_item = cat.items[j]
            if (
                ev_item.id in mine
                or j in fcount
                or ev_item.host in own_w
                or (hist and content[j] >= 0.8)
                or (interests and set(ev_item.tags) & set(interests))
                or not hist
            ):
                pinned.add(j)
        extra = _Explain(
            fcount, going_count, hist, interests, ctx.occupancy, user, conf, frozenset(pinned), frozenset(mine)
        )
        return comps, visible, extra

    def _mmr(self, cand: np.ndarray, scores: np.ndarray, k: int, lam: float) -> list[int]:
        """Greedy maximal-marginal-relevance: trade score for novelty of world and topic."""
        # Scale by the best score, not min-max: min-max would blow tiny score gaps up to
        # the full range and let near-duplicates crowd out nearly-as-good alternatives.
        s = scores.astype(np.float64)
        s = s / max(float(np.abs(s).max()), 1e-9)
        E = self._emb[cand]
        sim = np.clip(E @ E.T, 0.0, 1.0) if E.size else np.zeros((len(cand), len(cand)))
        hosts = self._host_of(cand)
        same = (hosts[:, None] == hosts[None, :]) & (hosts[:, None] >= 0)
        sim = np.maximum(sim, same.astype(np.float64))  # same world or same topic: redundant
        chosen: list[int] = []
        max_sim = np.zeros(len(cand))
        taken = np.zeros(len(cand), bool)
        for _ in range(k):
            val = s - lam * max_sim
            val[taken] = -np.inf
            j = int(np.argmax(val))
            taken[j] = True
            chosen.append(int(cand[j]))
            max_sim = np.maximum(max_sim, sim[j])
        return chosen

    def _host_of(self, idx: np.ndarray) -> np.ndarray:
        h = self._host_idx[idx]
        return np.where(h >= 0, h, -1 - idx)  # items without a known host are their own group

    # --- reasons ---------------------------------------------------------

    def _reason(self, k: int, parts: dict[str, float], extra: _Explain, now: float) -> str:
        it = self.catalogue.items[k]
        bits: list[str] = []
        fcount, going = extra.fcount, extra.going
        if it.kind == "event" and extra.user_going_here(it.id):
            bits.append("you're going")
        elif k in going:
            n = going[k]
            bits.append(_plural(n, "a friend is going", "{n} friends are going"))
        elif k in fcount:
            n = fcount[k]
            bits.append(_plural(n, "a friend is here", "{n} friends are here"))
        when = ""
        if it.kind == "event" and it.start_ts is not None:
            dt = it.start_ts - now
            when = "happening now" if dt <= 0 else f"starts in {_fmt_delta(dt)}"
        # The strongest explanation, personal ones first: "one of your regular spaces" tells a
        # regular more than "popular in Plaza", even where popularity added more to the score.
        ranked = sorted(
            (
                (name not in {"pop", "occupancy"}, v, name)
                for name, v in parts.items()
                if name in {"collab", "content", "own", "host", "habit", "pop", "occupancy"} and v > 0.05
            ),
            reverse=True,
        )
        for _, v, name in ranked:
            if v <= 0.05 or len(bits) >= 1:
                break
            phrase = self._phrase(name, k, extra)
            if phrase:
                bits.append(phrase)
        if when and ((it.start_ts is not None and it.start_ts - now <= 6 * 3600) or not bits):
            bits.append(when)
        if not bits:
            # Only what is true: nobody has been there yet, or nothing stood out.
            known = it.id in self._pop_counts or (it.kind == "event" and it.host in self._pop_counts)
            bits.append("something new to try" if known else "new in Plaza: be one of the first here")
        text = " · ".join(bits[:2])
        return text[0].upper() + text[1:]

    def _phrase(self, name: str, k: int, extra: _Explain) -> str:
        cat = self.catalogue
        it = cat.items[k]
        hist, user = extra.hist, extra.user
        if name in {"collab", "content"} and hist:
            anchor = self._anchor(k, hist)
            if anchor is not None:
                a = cat[anchor]
                verb = "liked" if anchor in user.liked else ("went to" if a.kind == "event" else "visited")
                return f"because you {verb} {a.title}"
        if name == "content":
            tags = set(it.tags) & set(extra.interests)
            if tags:
                return f"matches your interest in {sorted(tags)[0]}"
        if name == "own":
            # "Regular" means coming back: at least two stays on record.
            stays = sum(1 for i, src in zip(user.items, user.sources, strict=False) if i == it.id and src == "visit")
            return "one of your regular spaces" if stays >= 2 else "you've been here before"
        if name == "host":
            host = cat.get(it.host)
            return f"at {host.title}, a world you enjoy" if host else ""
        if name == "habit":
            if it.kind == "event" and it.start_ts is not None:
                return f"you're often around on {bucket_name(habit_bucket(it.start_ts))}"
            return "you often come here at this time"
        if name == "occupancy":
            people = extra.occupancy.get(it.host, 0)
            return f"lively right now: {people} people here" if people else ""
        if name == "pop":
            week = self._week_counts.get(it.id, 0)
            if week >= 2:
                return f"popular this week: {week} people came"
            return "popular in Plaza" if self._pop_counts.get(it.id, 0.0) > 0 else ""
        return ""

    def _anchor(self, k: int, hist: list[tuple[str, float]]) -> str | None:
        """The history item most similar to item k (content cosine, ties to recency)."""
        cat = self.catalogue
        target = cat.items[k]
        # Explaining an item by itself or an event by its own host world says nothing.
        cands = [
            (i, iid, w)
            for i, (iid, w) in enumerate(hist[-50:])
            if iid in cat.index and iid != target.id and iid != target.host
        ]
        if not cands:
            return None
        rows = np.array([cat.index[iid] for _, iid, _ in cands])
        bonus = np.array([1e-4 * i + 0.05 * math.log1p(w) for i, _, w in cands])
        s = self._emb[rows] @ self._emb[k] + bonus
        return cands[int(np.argmax(s))][1]
