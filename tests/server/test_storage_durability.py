"""Spec: a write that fails halfway leaves nothing partial in plaza.sqlite3 and the connection
usable; retention drops old time-stamped signals and says how many."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from server.recommend.signals import Visit
from server.storage import SQLiteStorage


@pytest.fixture
def storage(tmp_path: Path):
    s = SQLiteStorage(tmp_path / "plaza.sqlite3")
    yield s
    s.close()


def visit(user: str | None, end: float, world: str = "w") -> tuple[Visit, int]:
    return Visit(user, world, f"{world}#1", end - 60.0, end, ()), 0  # type: ignore[arg-type]


def count(s: SQLiteStorage, table: str) -> int:
    return int(s._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_visit_batch_that_fails_halfway_stores_none_of_it(storage: SQLiteStorage) -> None:
    storage.log_visits([visit("u0", 50.0)])
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        storage.log_visits([visit("u1", 100.0), visit(None, 110.0), visit("u3", 120.0)])
    assert not storage._db.in_transaction  # rolled back, not left open
    assert [v.user_id for v in storage.load_signals().visits] == ["u0"]  # nothing of the failed batch
    storage.log_visits([visit("u4", 130.0)])  # the next write works
    assert [v.user_id for v in storage.load_signals().visits] == ["u0", "u4"]


def test_a_delete_user_that_fails_midway_deletes_nothing(storage: SQLiteStorage) -> None:
    storage.log_visits([visit("alice", 100.0)])
    storage.follow("alice", "bob", 100.0)
    storage.like("alice", "w", 100.0)
    # A failure after the visits are already deleted (within the transaction): likes refuse.
    storage._db.execute("CREATE TRIGGER no_delete BEFORE DELETE ON likes BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(sqlite3.IntegrityError, match="boom"):
        storage.delete_user("alice")
    assert not storage._db.in_transaction
    exported = storage.export_user("alice")
    assert len(exported["visits"]) == 1 and exported["follows"] == ["bob"]  # type: ignore[arg-type]
    storage._db.execute("DROP TRIGGER no_delete")
    assert storage.delete_user("alice") == 3
    assert storage.export_user("alice")["visits"] == []


def test_batched_writes_are_all_or_nothing(storage: SQLiteStorage) -> None:
    # The second row of each batch is malformed: the first must not be stored on its own.
    with pytest.raises(sqlite3.ProgrammingError, match="bindings"):
        storage.mark_removed([("w", "crate"), ("w",)])  # type: ignore[list-item]
    assert storage.removed_objects("w") == set()
    tree = {"model": "a.glb"}
    with pytest.raises(sqlite3.ProgrammingError, match="bindings"):
        storage.save_spawned([("w", 1, "gen-a", (0.0, 0.0, 0.0), tree), ("w", 1, "gen-b", (0.0, 0.0), tree)])  # type: ignore[list-item]
    assert storage.load_spawned("w", 1) == []
    assert not storage._db.in_transaction
    storage.mark_removed([("w", "crate")])
    assert storage.removed_objects("w") == {"crate"}


def test_purge_drops_old_visits_and_likes_and_counts_them(storage: SQLiteStorage) -> None:
    storage.log_visits([visit("u1", 100.0), visit("u2", 200.0), visit("u3", 300.0)])
    storage.like("u1", "old", 100.0)
    storage.like("u1", "new", 300.0)
    storage.follow("u1", "u2", 100.0)
    storage.set_interests("u1", ["music"])
    assert storage.purge(250.0) == {"visits": 2, "likes": 1}
    sig = storage.load_signals()
    assert [v.user_id for v in sig.visits] == ["u3"] and [lk.item_id for lk in sig.likes] == ["new"]
    assert storage.follows_of("u1") == {"u2"} and sig.interests == {"u1": ("music",)}  # standing choices stay
    assert storage.purge(250.0) == {"visits": 0, "likes": 0}
    assert count(storage, "visits") == 1


def test_purge_before_is_the_total(storage: SQLiteStorage) -> None:
    storage.log_visits([visit("u1", 100.0), visit("u2", 300.0)])
    storage.like("u1", "old", 100.0)
    assert storage.purge_before(250.0) == 2
