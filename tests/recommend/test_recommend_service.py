"""RecommenderService: serves from memory while a retrain runs in the background."""

from __future__ import annotations

import threading

from server.recommend import (
    CachedEncoder,
    Follow,
    HashingEncoder,
    HybridConfig,
    PlazaRecommender,
    RecommenderService,
    Signals,
    Visit,
    event,
    space,
)
from server.recommend.items import Item

NOW = 1_800_000_000.0
ITEMS = [
    space("jazz", "Jazz Lounge", "Live jazz", ["music"]),
    space("synth", "Synth Cave", "Electronic music", ["music"]),
    space("arena", "Arena", "Competitive games", ["games"]),
]


def visits(user: str, worlds: list[str], t0: float) -> list[Visit]:
    return [Visit(user, w, f"{w}#1", t0 + k * 3600, t0 + k * 3600 + 1800) for k, w in enumerate(worlds)]


class GatedService(RecommenderService):
    """Retraining waits for a gate, so the test can observe the in-between state."""

    def __init__(self, *a: object, **kw: object) -> None:
        super().__init__(*a, **kw)  # type: ignore[arg-type]
        self.gate = threading.Event()
        self.started = threading.Event()

    def _build(self, signals: Signals, items: list[Item], now: float) -> PlazaRecommender:
        self.started.set()
        assert self.gate.wait(10)
        return super()._build(signals, items, now)


def make_service() -> GatedService:
    s = Signals(visits=visits("a", ["jazz", "synth"], NOW - 86400) + visits("b", ["arena"], NOW - 86400))
    svc = GatedService(ITEMS, s, HybridConfig(w_explore=0.0), CachedEncoder(HashingEncoder()))
    svc.gate.set()
    svc.fit(NOW)
    return svc


def test_the_service_retrains_in_the_background_and_keeps_serving() -> None:
    svc = make_service()
    try:
        assert svc.version == 1
        old_model = svc.model
        svc.gate.clear()
        more = Signals(visits=visits("a", ["jazz", "synth"], NOW - 86400) + visits("c", ["arena", "jazz"], NOW - 7200))
        fut = svc.retrain_async(more, NOW)
        assert svc.started.wait(5)
        # Mid-retrain: requests are answered by the old model, without blocking.
        recs = svc.recommend("a", NOW, limit=3)
        assert recs and svc.model is old_model and not fut.done()
        # A visit logged during the retrain is not lost when the new model swaps in.
        svc.observe(Signals(visits=visits("d", ["synth"], NOW - 600)))
        svc.gate.set()
        new_model = fut.result(timeout=10)
        assert svc.model is new_model and svc.version == 2
        assert "c" in new_model.users
        assert new_model.users["d"].items == ["synth"]
        assert svc.recommend("c", NOW, limit=3)
    finally:
        svc.gate.set()
        svc.close()


def test_a_failed_retrain_keeps_the_old_model() -> None:
    svc = make_service()
    try:
        old = svc.model
        bad = Signals(visits=[Visit("x", "jazz", "i", NOW, NOW + 60)])
        bad.visits.append(None)  # type: ignore[arg-type]
        fut = svc.retrain_async(bad, NOW)
        assert fut.exception(timeout=10) is not None
        assert svc.model is old and svc.recommend("a", NOW)
    finally:
        svc.close()


def test_update_items_serves_new_events_without_retraining() -> None:
    svc = make_service()
    try:
        gig = event("gig", "jazz", "Jazz Night", NOW + 1800, tags=["music"])
        svc.update_items([*ITEMS, gig])
        assert "gig" in [r.item_id for r in svc.recommend("a", NOW, limit=5)]
        assert svc.version == 1
    finally:
        svc.close()


def test_a_persons_stamp_changes_with_their_signals_and_every_model_change() -> None:
    svc = make_service()
    try:
        a, b = svc.stamp("a"), svc.stamp("b")
        svc.observe(Signals(visits=visits("a", ["arena"], NOW - 600)))
        assert svc.stamp("a") != a and svc.stamp("b") == b  # only the visitor's answer may differ
        a = svc.stamp("a")
        svc.observe(Signals(follows=[Follow("b", "e", NOW)]))
        assert svc.stamp("b") != b and svc.stamp("e") != (1, 0) and svc.stamp("a") == a
        for change in (
            lambda: svc.update_items([*ITEMS, event("gig", "jazz", "Jazz Night", NOW + 1800)]),
            lambda: svc.retrain_async(Signals(), NOW).result(timeout=10),
            lambda: svc.forget("z"),
        ):
            before = svc.stamp("a")
            change()
            assert svc.stamp("a") != before
    finally:
        svc.close()
