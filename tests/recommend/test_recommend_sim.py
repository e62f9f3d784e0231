"""The Plaza simulator, and the hybrid evaluated on it."""

from __future__ import annotations

from server.recommend import CachedEncoder, HashingEncoder, HybridConfig, PlazaRecommender
from server.recommend.metrics import summarize
from server.recommend.simulator import simulate


def test_the_simulator_is_deterministic_by_seed() -> None:
    a = simulate(n_users=40, weeks=2, seed=3)
    b = simulate(n_users=40, weeks=2, seed=3)
    c = simulate(n_users=40, weeks=2, seed=4)
    assert [(s.user_id, s.item_id, s.ts) for s in a.sessions] == [(s.user_id, s.item_id, s.ts) for s in b.sessions]
    assert [s.item_id for s in a.sessions] != [s.item_id for s in c.sessions]
    assert 20 <= sum(i.kind == "space" for i in a.items) <= 40
    assert a.signals.visits and a.signals.follows and a.signals.attendance


def test_the_hybrid_beats_popularity_on_the_simulator() -> None:
    sim = simulate(n_users=150, weeks=4, seed=1)
    split = sim.start_ts + 3 * 7 * 86400
    train = sim.signals.before(split)
    test = [s for s in sim.sessions if s.ts >= split][:300]
    enc = CachedEncoder(HashingEncoder())
    pop_only = HybridConfig(
        w_collab=0,
        w_content=0,
        w_own=0,
        w_host=0,
        w_habit=0,
        w_friends=0,
        w_occupancy=0,
        w_time=0,
        w_explore=0,
        mmr_lambda=0,
    )

    def hr(cfg: HybridConfig) -> float:
        model = PlazaRecommender(cfg, enc).fit(train, sim.items, split)
        ranks = []
        for s in test:
            got = [r.item_id for r in model.recommend(s.user_id, s.ts, s.context, limit=10)]
            ranks.append(got.index(s.item_id) if s.item_id in got else 10)
        return summarize(ranks)["hr10"]

    assert hr(HybridConfig()) > hr(pop_only) + 0.1
