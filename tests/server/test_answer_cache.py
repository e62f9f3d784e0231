"""Spec: a stored answer is reused only while it is still the model's answer."""

from __future__ import annotations

from server.recommend import Context
from server.suggest import Answer, AnswerCache, context_key

ITEMS = [{"id": "gallery", "reason": "Popular this week"}]


def answer(stamp: tuple[int, int], ctx: Context, until: float) -> Answer:
    return Answer(stamp, context_key(ctx), frozenset({"g:bo"}), until, ITEMS)


def test_an_answer_is_a_candidate_only_with_the_same_stamp_and_before_it_expires() -> None:
    cache = AnswerCache(ttl=5.0)
    cache.put("g:ada", (10, None, "lobby"), answer((1, 0), Context(), until=105.0))
    assert cache.candidate("g:ada", (10, None, "lobby"), (1, 0), 104.9) is not None
    assert cache.candidate("g:ada", (10, None, "lobby"), (1, 1), 100.0) is None  # Ada did something
    assert cache.candidate("g:ada", (10, None, "lobby"), (2, 0), 100.0) is None  # a new model
    assert cache.candidate("g:ada", (10, None, "lobby"), (1, 0), 105.0) is None  # too old
    assert cache.candidate("g:ada", (5, None, "lobby"), (1, 0), 100.0) is None  # another question
    assert cache.candidate("g:bo", (10, None, "lobby"), (1, 0), 100.0) is None


def test_the_context_key_sees_who_is_where_but_not_the_order_it_was_listed_in() -> None:
    a = Context(occupancy={"lobby": 2, "gallery": 1}, friends_present={"lobby": ["g:bo", "g:cy"]})
    b = Context(occupancy={"gallery": 1, "lobby": 2}, friends_present={"lobby": ["g:cy", "g:bo"]})
    assert context_key(a) == context_key(b)
    moved = Context(occupancy={"lobby": 1, "gallery": 2}, friends_present={"gallery": ["g:bo"], "lobby": ["g:cy"]})
    assert context_key(moved) != context_key(a)
    assert context_key(Context(here="lobby")) != context_key(Context(here="gallery"))


def test_the_cache_is_bounded_and_a_privacy_delete_empties_it() -> None:
    cache = AnswerCache(size=3)
    for i in range(5):
        cache.put(f"g:{i}", (10,), answer((1, 0), Context(), until=1e9))
    kept = [u for u in (f"g:{i}" for i in range(5)) if cache.candidate(u, (10,), (1, 0), 0.0)]
    assert kept == ["g:2", "g:3", "g:4"]  # the oldest went first
    cache.clear()
    assert cache.candidate("g:4", (10,), (1, 0), 0.0) is None
