"""The ``Storage`` contract (server/storage.py), the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from server.recommend.signals import Visit
from server.storage import MAX_LIKES_PER_USER, InvalidSignal
from tests.contract.conftest import Backend

POSE = (1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0)
MOVED = (4.5, 0.25, -3.0, 0.0, 0.7071, 0.0, 0.7071)


def test_object_poses_are_saved_per_instance_and_survive_reopening(backend: Backend) -> None:
    s = backend.open_storage()
    s.save_objects([("w", 1, "crate", POSE), ("w", 2, "crate", POSE), ("w", 1, "ball", POSE)])
    s.save_objects([("w", 1, "crate", MOVED)])  # the newest pose wins
    s.save_objects([])
    s.close()
    again = backend.open_storage()
    assert again.load_objects("w", 1) == {"crate": MOVED, "ball": POSE}
    assert again.load_objects("w", 2) == {"crate": POSE}
    assert again.load_objects("w", 3) == {} and again.load_objects("other", 1) == {}


def test_reset_forgets_poses_of_changed_objects_in_every_instance(backend: Backend) -> None:
    s = backend.open_storage()
    s.save_objects([("w", 1, "a", POSE), ("w", 2, "a", POSE), ("w", 1, "b", POSE), ("v", 1, "a", POSE)])
    s.reset_objects("w", ["a"])
    s.reset_objects("w", [])
    assert s.load_objects("w", 1) == {"b": POSE} and s.load_objects("w", 2) == {}
    assert s.load_objects("v", 1) == {"a": POSE}


def test_removed_and_spawned_objects_and_the_snapshot(backend: Backend) -> None:
    s = backend.open_storage()
    s.mark_removed([("w", "lamp"), ("w", "lamp"), ("v", "chair")])  # idempotent
    s.save_spawned([("w", 1, "gen-1", (1.0, 0.0, 2.0), {"url": "/a.glb"})])
    s.save_spawned([("w", 1, "gen-2", (0.0, 0.0, 0.0), {"url": "/b.glb"})])
    s.save_spawned([("w", 1, "gen-1", (5.0, 0.0, 5.0), {"url": "/c.glb"})])  # re-made: moves to the end
    s.save_objects([("w", 1, "gen-2", POSE)])
    s.close()
    s = backend.open_storage()
    assert s.removed_objects("w") == {"lamp"} and s.removed_objects("x") == set()
    assert s.load_spawned("w", 1) == [
        ("w", 1, "gen-2", (0.0, 0.0, 0.0), {"url": "/b.glb"}),
        ("w", 1, "gen-1", (5.0, 0.0, 5.0), {"url": "/c.glb"}),
    ]
    assert s.load_spawned("w", 2) == []
    objects, removed, spawned = s.snapshot()
    assert objects == [("w", 1, "gen-2", POSE)]
    assert sorted(removed) == [("v", "chair"), ("w", "lamp")]
    assert [r[2] for r in spawned] == ["gen-2", "gen-1"]


def _visit(user: str, end: float, friends: tuple[str, ...] = ()) -> Visit:
    return Visit(user, "plaza", "plaza#1", end - 60, end, friends)


def test_signals_round_trip_and_respect_since(backend: Backend) -> None:
    s = backend.open_storage()
    s.log_visits([(_visit("a:ann", 1000.0, ("a:bob",)), 3), (_visit("a:bob", 2000.0), 0)])
    s.follow("a:ann", "a:bob", 10.0)
    s.follow("a:ann", "a:bob", 11.0)  # already following: unchanged
    s.follow("a:ann", "a:cat", 12.0)
    s.follow("a:ann", "a:cat", 13.0, on=False)
    s.like("a:ann", "plaza", 1500.0)
    s.like("a:ann", "hall", 500.0)
    s.like("a:ann", "hall", 1600.0)  # liked again: the newer time
    s.set_interests("a:ann", ["music", "art"])
    s.set_interests("a:bob", [])
    assert s.follows_of("a:ann") == {"a:bob"} and s.follows_of("a:bob") == set()
    sig = s.load_signals(1200.0)
    assert [(v.user_id, v.end_ts, v.friends_present) for v in sig.visits] == [("a:bob", 2000.0, ())]
    sig = s.load_signals()
    assert [(v.user_id, v.friends_present) for v in sig.visits] == [("a:ann", ("a:bob",)), ("a:bob", ())]
    assert [(c.user_id, c.count) for c in sig.chats] == [("a:ann", 3)]
    assert [(f.follower_id, f.followee_id, f.ts) for f in sig.follows] == [("a:ann", "a:bob", 10.0)]
    assert sorted((like.user_id, like.item_id, like.ts) for like in sig.likes) == [
        ("a:ann", "hall", 1600.0),
        ("a:ann", "plaza", 1500.0),
    ]
    assert sig.interests == {"a:ann": ("music", "art"), "a:bob": ()}
    s.like("a:ann", "plaza", 0.0, on=False)
    assert [like.item_id for like in s.load_signals().likes] == ["hall"]


def test_bad_likes_and_interests_are_refused_with_a_reason(backend: Backend) -> None:
    s = backend.open_storage()
    for item in ("", "x" * 129):
        with pytest.raises(InvalidSignal, match="item"):
            s.like("a:ann", item, 1.0)
    for tags in (["a,b"], ["x" * 33], [""], ["t"] * 21):
        with pytest.raises(InvalidSignal, match="tags"):
            s.set_interests("a:ann", tags)
    assert s.load_signals().likes == [] and s.load_signals().interests == {}


def test_likes_stop_at_the_cap_but_relikes_still_work(backend: Backend) -> None:
    s = backend.open_storage()
    for i in range(MAX_LIKES_PER_USER):
        s.like("a:ann", f"w{i}", float(i))
    with pytest.raises(InvalidSignal, match=f"at most {MAX_LIKES_PER_USER}"):
        s.like("a:ann", "one-more", 1.0)
    s.like("a:ann", "w0", 9999.0)  # already liked: a new time, not a new like
    s.like("a:bob", "w0", 1.0)  # the cap is per person
    likes = s.load_signals().likes
    assert len(likes) == MAX_LIKES_PER_USER + 1 and max(x.ts for x in likes) == 9999.0


def test_export_delete_and_retention(backend: Backend) -> None:
    s = backend.open_storage()
    s.log_visits([(_visit("a:ann", 100.0), 2), (_visit("a:bob", 5000.0, ("a:ann", "a:cat")), 0)])
    s.follow("a:ann", "a:bob", 1.0)
    s.follow("a:bob", "a:ann", 2.0)
    s.like("a:ann", "plaza", 50.0)
    s.like("a:bob", "plaza", 6000.0)
    s.set_interests("a:ann", ["music"])
    out = s.export_user("a:ann")
    assert out == {
        "user": "a:ann",
        "visits": [
            {"world": "plaza", "instance": "plaza#1", "start_ts": 40.0, "end_ts": 100.0, "friends": "", "chat_count": 2}
        ],
        "follows": ["a:bob"],
        "followers": ["a:bob"],
        "likes": [{"item": "plaza", "ts": 50.0}],
        "interests": ["music"],
    }
    # Own rows (1 visit, 2 follows, 1 like, 1 interest) + bob's visit listing ann as a friend.
    assert s.delete_user("a:ann") == 6
    assert s.export_user("a:ann")["visits"] == [] and s.follows_of("a:bob") == set()
    assert [v.friends_present for v in s.load_signals().visits] == [("a:cat",)]
    s.log_visits([(_visit("a:old", 10.0), 0)])
    s.like("a:old", "hall", 10.0)
    assert s.purge(1000.0) == {"visits": 1, "likes": 1}  # the old visit and like
    assert s.purge_before(7000.0) == 2  # bob's visit and like
    assert s.load_signals().visits == [] and s.load_signals().likes == []
