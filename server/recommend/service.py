"""RecommenderService: serve recommendations from memory, retrain in the background.

The server layer's whole API::

    svc = RecommenderService(items, signals, config=None, encoder=None)
    svc.fit(now)                                   # blocking first fit (or retrain_async)
    svc.recommend(user_id, now, context=None, limit=10) -> list[Recommendation]
    fut = svc.retrain_async(signals, now, items=None)  # concurrent.futures.Future[PlazaRecommender]
    svc.update_items(items)                        # new/edited worlds and events, no retrain
    svc.observe(Signals(visits=[...], rsvps=[...]))  # fresh signals; take effect immediately
    svc.stamp(user_id)                             # changes whenever that person's answer may
    svc.model / svc.version / svc.close()

``items`` are ``Item`` objects (``space(...)``/``event(...)`` from world files;
times are Unix seconds); ``signals`` is a ``Signals`` of visits, attendance,
RSVPs, follows, likes and chat counts; ``context`` is a ``Context`` of live
occupancy, friends present/attending and the item just left. From world files::

    space(world.id, world.name, world.description, world.tags)
    event(ev.id, ev.world_id, ev.title, ev.start.timestamp(), ev.duration_s,
          ev.description, ev.tags, capacity=ev.capacity, announced_ts=created.timestamp())

Retraining builds a fresh ``PlazaRecommender`` on a worker thread and swaps the
reference when it is done; readers always see either the old or the new model,
never a half-fitted one. Signals observed while a retrain runs are replayed on
the new model before the swap so nothing is lost, and a catalogue updated
mid-retrain is applied to the new model too. No asyncio here: an async
server wraps the returned future (``asyncio.wrap_future``).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from .content import TextEncoder, default_encoder
from .hybrid import Context, HybridConfig, PlazaRecommender, Recommendation
from .items import Item
from .signals import Interaction, Signals


class RecommenderService:
    def __init__(
        self,
        items: Iterable[Item],
        signals: Signals | None = None,
        config: HybridConfig | None = None,
        encoder: TextEncoder | None = None,
    ) -> None:
        self.config = config or HybridConfig()
        # One encoder (and its embedding cache) shared by every model generation.
        self.encoder: TextEncoder = encoder or default_encoder()
        self._items = list(items)
        self._signals = signals or Signals()
        self._lock = threading.Lock()  # guards swaps and the pending-signal log
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recsys-retrain")
        self._pending: list[Signals | list[Interaction]] | None = None  # seen during a retrain
        self._model = PlazaRecommender(self.config, self.encoder)
        self._model.update_items(self._items)
        self.version = 0
        # Bumped whenever the serving model is replaced (retrain, catalogue, forget), and per
        # person when a signal of theirs is observed: a cached answer with the same stamp is
        # the one the model would give now (see ``stamp``).
        self._generation = 0
        self._user_generation: dict[str, int] = {}

    @property
    def model(self) -> PlazaRecommender:
        return self._model

    def _build(self, signals: Signals, items: list[Item], now: float) -> PlazaRecommender:
        return PlazaRecommender(self.config, self.encoder).fit(signals, items, now)

    def _swap(self, model: PlazaRecommender, items: list[Item]) -> None:
        with self._lock:
            if self._items is not items:  # the catalogue changed while we were training
                model.update_items(self._items)
            for batch in self._pending or ():
                _apply(model, batch)
            self._pending = None
            self._model = model
            self.version += 1
            self._generation += 1

    def fit(self, now: float) -> PlazaRecommender:
        """Fit synchronously on the signals given at construction (startup path)."""
        with self._lock:
            self._pending = []
        items = self._items
        model = self._build(self._signals, items, now)
        self._swap(model, items)
        return model

    def retrain_async(
        self, signals: Signals, now: float, items: Iterable[Item] | None = None
    ) -> Future[PlazaRecommender]:
        """Fit a new model on a worker thread; ``recommend`` keeps serving the old one meanwhile."""
        its = list(items) if items is not None else list(self._items)
        with self._lock:
            self._signals = signals
            self._items = its
            if self._pending is None:
                self._pending = []

        def job() -> PlazaRecommender:
            try:
                model = self._build(signals, its, now)
            except BaseException:
                with self._lock:
                    self._pending = None
                raise
            self._swap(model, its)
            return model

        return self._pool.submit(job)

    def recommend(
        self, user_id: str, now: float, context: Context | None = None, limit: int = 10
    ) -> list[Recommendation]:
        return self._model.recommend(user_id, now, context, limit)

    def update_items(self, items: Iterable[Item]) -> None:
        its = list(items)
        with self._lock:
            self._items = its
            # Re-index a shallow copy and swap it in: readers never see half-updated arrays.
            model = copy.copy(self._model)
            model.update_items(its)
            self._model = model
            self._generation += 1

    def observe(self, new: Signals | Iterable[Interaction]) -> None:
        """Apply signals logged since the last fit; no retraining, effective on the next request."""
        batch: Signals | list[Interaction] = new if isinstance(new, Signals) else list(new)
        with self._lock:
            _apply(self._model, batch)
            if self._pending is not None:
                self._pending.append(batch)
            for user in _users_in(batch):
                self._user_generation[user] = self._user_generation.get(user, 0) + 1

    def stamp(self, user_id: str) -> tuple[int, int]:
        """Changes when the model, the catalogue or this person's own signals change. What it
        does not cover: other people's signals (popularity drifts) and the clock (an event
        starting) — a cache keyed on it still needs a short lifetime."""
        return self._generation, self._user_generation.get(user_id, 0)

    def forget(self, user_id: str) -> None:
        """The privacy delete: the serving model drops the person's profile now, and signals of
        theirs observed during a running retrain are not replayed onto the new model. The
        caller then retrains on stored signals without them (``retrain_async``)."""
        with self._lock:
            model = copy.copy(self._model)
            model.users = dict(model.users)
            model.interests = dict(model.interests)
            model.friends = {u: set(fs) for u, fs in model.friends.items()}
            model.going = {e: set(us) for e, us in model.going.items()}
            model.user_going = {u: set(es) for u, es in model.user_going.items()}
            model.forget_user(user_id)
            self._model = model
            self._generation += 1
            if self._pending is not None:
                self._pending = [_without(b, user_id) for b in self._pending]

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _without(batch: Signals | list[Interaction], user_id: str) -> Signals | list[Interaction]:
    if not isinstance(batch, Signals):
        return [i for i in batch if i.user_id != user_id]
    return Signals(
        visits=[v for v in batch.visits if v.user_id != user_id],
        attendance=[a for a in batch.attendance if a.user_id != user_id],
        rsvps=[r for r in batch.rsvps if r.user_id != user_id],
        follows=[f for f in batch.follows if user_id not in (f.follower_id, f.followee_id)],
        likes=[lk for lk in batch.likes if lk.user_id != user_id],
        chats=[c for c in batch.chats if c.user_id != user_id],
        interests={u: t for u, t in batch.interests.items() if u != user_id},
    )


def _users_in(batch: Signals | list[Interaction]) -> set[str]:
    """Whose own profile a batch changes (a follow: both people's)."""
    if not isinstance(batch, Signals):
        return {i.user_id for i in batch}
    users = {v.user_id for v in batch.visits} | {a.user_id for a in batch.attendance}
    users |= {r.user_id for r in batch.rsvps} | {lk.user_id for lk in batch.likes} | {c.user_id for c in batch.chats}
    return users | {u for f in batch.follows for u in (f.follower_id, f.followee_id)} | set(batch.interests)


def _apply(model: PlazaRecommender, batch: Signals | list[Interaction]) -> None:
    if isinstance(batch, Signals):
        model.observe_signals(batch)
    else:
        model.observe(batch)
