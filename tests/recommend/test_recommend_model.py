"""Behaviour of the hybrid recommender on small hand-built Plazas."""

from __future__ import annotations

import numpy as np
import pytest

from server.recommend import (
    Context,
    Follow,
    HashingEncoder,
    HybridConfig,
    Item,
    Like,
    PlazaRecommender,
    Signals,
    Visit,
    event,
    space,
)
from server.recommend.content import CachedEncoder
from server.recommend.signals import RSVP, implicit_feedback

NOW = 1_800_000_000.0
H = 3600.0
DAY = 86400.0

WORLDS = [
    space("jazz", "Jazz Lounge", "Live jazz and saxophone evenings", ["music", "jazz"]),
    space("synth", "Synth Cave", "Electronic music and DJ sets", ["music", "dj"]),
    space("arena", "Arena", "Competitive games and tournaments", ["games", "competitive"]),
    space("puzzle", "Puzzle Tower", "Puzzles and escape rooms", ["games", "puzzle"]),
    space("garden", "Zen Garden", "Calm nature walks and meditation", ["nature", "calm"]),
    space("gallery", "Pixel Gallery", "Digital art exhibitions", ["art", "gallery"]),
]


def visit(user: str, world: str, start: float, minutes: float = 45.0) -> Visit:
    return Visit(user, world, f"{world}#1", start, start + minutes * 60.0)


def plaza_signals() -> Signals:
    """Music fans, gamers and a few explorers, over the last two weeks."""
    s = Signals()
    t = NOW - 14 * DAY
    for k in range(6):  # music fans
        u = f"m{k}"
        s.visits += [visit(u, "jazz", t + k * H), visit(u, "synth", t + DAY + k * H)]
        s.visits.append(visit(u, "jazz", t + 2 * DAY + k * H, 90))
    for k in range(8):  # gamers: arena is the most popular world
        u = f"g{k}"
        s.visits += [visit(u, "arena", t + k * H), visit(u, "puzzle", t + DAY + k * H)]
    for k in range(3):
        s.visits.append(visit(f"x{k}", "garden", t + k * H))
        s.visits.append(visit(f"x{k}", "gallery", t + DAY + k * H))
    s.follows += [Follow("m0", "g0", t), Follow("m0", "g1", t), Follow("m1", "m2", t)]
    return s


def make_model(items: list[Item], signals: Signals | None = None, **cfg: float) -> PlazaRecommender:
    config = HybridConfig(**{"w_explore": 0.0, **cfg})  # type: ignore[arg-type]
    model = PlazaRecommender(config, CachedEncoder(HashingEncoder()))
    return model.fit(signals or plaza_signals(), items, NOW)


def ids(recs: list) -> list[str]:
    return [r.item_id for r in recs]


def test_friend_attending_pulls_an_event_up() -> None:
    events = [
        event("quiz-a", "arena", "Trivia Quiz", NOW + 2 * DAY, tags=["games"]),
        event("quiz-b", "puzzle", "Trivia Quiz", NOW + 2 * DAY, tags=["games"]),
    ]
    model = make_model(WORLDS + events)
    before = ids(model.recommend("m1", NOW, limit=20))
    ctx = Context(friends_attending={"quiz-b": ["m2", "m3"]})
    recs = model.recommend("m1", NOW, ctx, limit=20)
    after = ids(recs)
    assert after.index("quiz-b") < before.index("quiz-b")
    assert recs[after.index("quiz-b")].reason.startswith("2 friends are going")


def test_friends_rsvps_known_to_the_model_count_as_attending() -> None:
    events = [event("jam", "synth", "DJ Jam", NOW + DAY, tags=["music"])]
    signals = plaza_signals()
    signals.rsvps.append(RSVP("m2", "jam", NOW - H))  # m1 follows m2
    with_friend = make_model(WORLDS + events, signals).recommend("m1", NOW, limit=20)
    jam = next(r for r in with_friend if r.item_id == "jam")
    assert jam.components["friends"] > 0
    assert "friend is going" in jam.reason


def test_an_event_in_the_past_never_appears() -> None:
    past = event("old-jazz", "jazz", "Jazz Night", NOW - 3 * H, duration_s=2 * H, tags=["music", "jazz"])
    signals = plaza_signals()
    signals.likes += [Like(f"m{k}", "old-jazz", NOW - 2 * H) for k in range(6)]
    model = make_model([*WORLDS, past], signals)
    ctx = Context(friends_attending={"old-jazz": ["m2"]}, friends_present={"jazz": ["m2"]})
    for user in ("m0", "m1", "g0", "newcomer"):
        assert "old-jazz" not in ids(model.recommend(user, NOW, ctx, limit=100))


def test_an_event_that_is_on_now_is_shown_as_happening() -> None:
    live = event("live-jazz", "jazz", "Jazz Night", NOW - 10 * 60, duration_s=2 * H, tags=["jazz"])
    model = make_model([*WORLDS, live])
    rec = next(r for r in model.recommend("m1", NOW, limit=20) if r.item_id == "live-jazz")
    assert "happening now" in rec.reason.lower()


def test_a_brand_new_event_can_be_recommended() -> None:
    model = make_model(WORLDS)
    # Announced after training: no interactions, scored from host world, text and time.
    new = event("jazz-night", "jazz", "Jazz Night", NOW + 40 * 60, description="Live jazz quartet", tags=["jazz"])
    model.update_items([*WORLDS, new])
    recs = model.recommend("m1", NOW, limit=5)
    assert "jazz-night" in ids(recs)
    rec = recs[ids(recs).index("jazz-night")]
    assert rec.components["host"] > 0 and rec.components["content"] > 0
    assert "starts in 40 min" in rec.reason


def test_events_starting_soon_rank_above_the_same_event_later() -> None:
    soon = event("soon", "garden", "Guided Walk", NOW + 10 * 60, tags=["nature"])
    later = event("later", "garden", "Guided Walk", NOW + 5 * DAY, tags=["nature"])
    model = make_model([*WORLDS, soon, later])
    order = ids(model.recommend("x0", NOW, limit=20))
    assert order.index("soon") < order.index("later")


def test_unannounced_events_are_hidden() -> None:
    secret = event("secret", "jazz", "Jazz Night", NOW + DAY, tags=["jazz"], announced_ts=NOW + H)
    model = make_model([*WORLDS, secret])
    assert "secret" not in ids(model.recommend("m1", NOW, limit=50))
    assert "secret" in ids(model.recommend("m1", NOW + 2 * H, limit=50))


def test_the_item_the_user_just_left_is_not_recommended() -> None:
    model = make_model(WORLDS)
    assert ids(model.recommend("m1", NOW, limit=3))[0] == "jazz"
    recs = model.recommend("m1", NOW, Context(just_left="jazz"), limit=10)
    assert "jazz" not in ids(recs)


def test_every_recommendation_has_a_nonempty_reason() -> None:
    events = [event("quiz", "arena", "Trivia Quiz", NOW + 20 * 60, tags=["games"])]
    model = make_model(WORLDS + events)
    ctx = Context(occupancy={"arena": 9, "garden": 0}, friends_present={"puzzle": ["g0", "g1"]})
    for user in ("m0", "g3", "x1", "brand-new-user"):
        recs = model.recommend(user, NOW, ctx, limit=10)
        assert recs
        for r in recs:
            assert isinstance(r.reason, str) and r.reason.strip()
            assert r.components and np.isfinite(r.score)


def test_friends_present_give_a_human_reason() -> None:
    model = make_model(WORLDS)
    recs = model.recommend("m0", NOW, Context(friends_present={"gallery": ["g0", "g1"]}), limit=10)
    gallery = recs[ids(recs).index("gallery")]
    assert gallery.reason.startswith("2 friends are here")


def test_reasons_name_the_item_the_user_liked() -> None:
    signals = plaza_signals()
    signals.likes.append(Like("m0", "synth", NOW - DAY))
    model = make_model(WORLDS, signals, w_own=0.0)
    reasons = [r.reason for r in model.recommend("m0", NOW, limit=6)]
    assert any(r.startswith("Because you liked Synth Cave") for r in reasons), reasons


def test_a_new_user_gets_popular_and_diverse_picks() -> None:
    signals = plaza_signals()
    # Three near-identical game worlds are the most popular; diversity should still
    # let other kinds of places into a short list.
    clones = [space(f"arena{k}", f"Arena {k}", "Competitive games and tournaments", ["games"]) for k in range(3)]
    for k in range(10):
        signals.visits += [visit(f"c{k}", f"arena{j}", NOW - DAY + j * H) for j in range(3)]
    model = make_model(WORLDS + clones, signals)
    recs = model.recommend("newcomer", NOW, limit=4)
    top = ids(recs)
    assert top[0] in {"arena0", "arena1", "arena2"}  # the most popular thing leads
    tags = {t for r in recs for t in next(i for i in WORLDS + clones if i.id == r.item_id).tags}
    assert len(tags - {"games", "competitive", "puzzle"}) >= 2  # not only games
    assert all(r.components["pop"] > 0 for r in recs)


def test_a_new_user_adapts_after_a_visit_or_two() -> None:
    model = make_model(WORLDS)
    cold = ids(model.recommend("newbie", NOW, limit=6))
    model.observe(implicit_feedback(Signals(visits=[visit("newbie", "jazz", NOW - 2 * H, 80)])))
    warm = ids(model.recommend("newbie", NOW, limit=6))
    # Jazz listeners also go to the Synth Cave: music now leads the list.
    assert not {"jazz", "synth"} <= set(cold[:2])
    assert set(warm[:2]) == {"jazz", "synth"}


def test_interest_tags_steer_a_new_user() -> None:
    signals = plaza_signals()
    signals.interests["nat"] = ("nature", "calm")
    model = make_model(WORLDS, signals)
    assert ids(model.recommend("nat", NOW, limit=2))[0] == "garden"


def test_live_occupancy_prefers_lively_over_empty_or_full() -> None:
    twins = [space(f"room{k}", f"Room {k}", "Hangout and chat", ["chat"], capacity=20) for k in range(3)]
    model = make_model(WORLDS + twins, w_pop=0.0, w_pop_new=0.0)
    ctx = Context(occupancy={"room0": 0, "room1": 10, "room2": 20})
    order = ids(model.recommend("newcomer", NOW, ctx, limit=9))
    assert order.index("room1") < order.index("room0")
    assert "room2" not in order[: order.index("room0") + 1]


def test_recommendations_are_deterministic_for_a_seed() -> None:
    a = make_model(WORLDS, w_explore=0.2).recommend("m1", NOW, limit=6)
    b = make_model(WORLDS, w_explore=0.2).recommend("m1", NOW, limit=6)
    assert ids(a) == ids(b)


@pytest.mark.parametrize("minutes,expected", [(0.2, 0.0), (1, 0.69), (60, 4.11), (600, 5.0)])
def test_dwell_time_weighs_visits_with_diminishing_returns(minutes: float, expected: float) -> None:
    fb = implicit_feedback(Signals(visits=[visit("u", "jazz", NOW, minutes)]))
    weight = fb[0].weight if fb else 0.0
    assert weight == pytest.approx(expected, abs=0.01)


def test_signals_logged_after_fit_take_effect_without_retraining() -> None:
    jam = event("jam", "synth", "DJ Jam", NOW + DAY, tags=["music"])
    model = make_model([*WORLDS, jam])
    model.observe_signals(Signals(follows=[Follow("x0", "m3", NOW - 60)], rsvps=[RSVP("m3", "jam", NOW - 30)]))
    rec = next(r for r in model.recommend("x0", NOW, limit=20) if r.item_id == "jam")
    assert rec.reason.startswith("A friend is going")


@pytest.mark.parametrize("collab", ["ease", "als", "sasrec", "ease+sasrec", "none"])
def test_every_collaborative_core_serves_the_same_contract(collab: str) -> None:
    model = make_model(WORLDS, collab=collab, sasrec_epochs=2)
    recs = model.recommend("m1", NOW, Context(just_left="synth"), limit=4)
    assert len(recs) == 4 and "synth" not in ids(recs)
    assert all(r.reason for r in recs)


def test_someone_we_know_nothing_about_is_led_by_popularity_not_by_nudges() -> None:
    # No history, no interest tags: popularity is all we know, so a lively but far less
    # popular world (half full: the largest occupancy bump) and exploration noise must not
    # take the top place from the most popular world.
    ctx = Context(occupancy={"garden": 12})
    for seed in range(10):
        model = make_model(WORLDS, w_explore=0.05, explore_slot=-1, seed=seed)
        top = model.recommend("stranger", NOW, ctx, limit=3)
        assert top[0].item_id == "puzzle", (seed, ids(top))
    # With the earlier newcomer weight (0.5) the occupancy bump did win: the check is not vacuous.
    old = make_model(WORLDS, w_pop_new=0.5)
    assert ids(old.recommend("stranger", NOW, ctx, limit=1)) == ["garden"]
