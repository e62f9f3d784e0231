"""Spec: plaza.sqlite3 has one schema ladder on PRAGMA user_version, shared by both stores.

A fresh file gets the latest version; a file written by the code before the ladder (its
CREATE ... IF NOT EXISTS schemas, user_version 3 — or 0 when only the hosting store had opened
it) is migrated up with its data intact; a newer file is refused with a message naming the file
and both versions; a step that fails leaves the file at the version before it. The file is
private: data dir 0700, database and its -wal/-shm 0600."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from server.hosting.store import AccountRow, SQLiteHostingStore
from server.migrations import LATEST, MIGRATIONS, Migration, SchemaTooNew, migrate, statements
from server.recommend.signals import Visit
from server.storage import SQLiteStorage, open_db
from tests.server.legacydb import legacy_file

POSE = (1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0)


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    finally:
        db.close()


def test_a_fresh_file_gets_the_latest_version_and_every_table(tmp_path: Path) -> None:
    path = tmp_path / "plaza.sqlite3"
    s, h = SQLiteStorage(path), SQLiteHostingStore(path)  # both open the one file, one ladder
    assert user_version(path) == LATEST == MIGRATIONS[-1].version
    assert {"object_state", "spawned_objects", "visits", "likes", "likes_ts", "hosting_accounts"} <= tables(path)
    s.save_objects([("w", 1, "crate", POSE)])
    assert h.add_account(AccountRow("olivia", "Olivia", "hash", 1.0))
    s.close(), h.close()
    s = SQLiteStorage(path)  # reopening an up-to-date file changes nothing
    assert s.load_objects("w", 1) == {"crate": POSE} and user_version(path) == LATEST
    s.close()


@pytest.mark.parametrize("opener", [SQLiteStorage, SQLiteHostingStore])
def test_a_file_from_before_the_ladder_is_migrated_with_its_data(tmp_path: Path, opener: type) -> None:
    path = tmp_path / "plaza.sqlite3"
    legacy_file(path, user_version=3)
    assert "likes_ts" not in tables(path)
    opener(path).close()  # whichever store opens first migrates
    assert user_version(path) == LATEST
    assert "likes_ts" in tables(path)
    s, h = SQLiteStorage(path), SQLiteHostingStore(path)
    assert s.load_objects("w", 1) == {"crate": POSE}
    sig = s.load_signals()
    assert [(v.user_id, v.friends_present) for v in sig.visits] == [("u1", ("u2",))]
    assert [c.count for c in sig.chats] == [3] and [lk.item_id for lk in sig.likes] == ["w"]
    account = h.get_account("olivia")
    assert account is not None and account.password_hash == "hash"
    s.close(), h.close()


def test_a_hosting_only_file_at_version_0_gains_the_storage_tables(tmp_path: Path) -> None:
    path = tmp_path / "plaza.sqlite3"
    legacy_file(path, user_version=0, hosting=True)
    s = SQLiteStorage(path)
    s.save_objects([("w", 1, "crate", POSE)])
    assert user_version(path) == LATEST
    s.close()
    h = SQLiteHostingStore(path)
    assert h.account_exists("olivia")
    h.close()


def test_a_newer_file_is_refused_naming_the_file_and_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "plaza.sqlite3"
    SQLiteStorage(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={LATEST + 7}")
    db.commit()
    db.close()
    for opener in (SQLiteStorage, SQLiteHostingStore):
        with pytest.raises(SchemaTooNew) as err:
            opener(path)
        message = str(err.value)
        assert str(path) in message and str(LATEST + 7) in message and f"latest {LATEST}" in message
    assert user_version(path) == LATEST + 7  # left exactly as found


def _ladder_db(tmp_path: Path) -> tuple[sqlite3.Connection, Path]:
    path = tmp_path / "plaza.sqlite3"
    s = SQLiteStorage(path)
    s.log_visits([(Visit("u1", "w", "w#1", 10.0, 20.0, ()), 0)])
    s.close()
    return open_db(path), path


def test_a_later_step_can_add_a_column_which_create_if_not_exists_cannot(tmp_path: Path) -> None:
    db, path = _ladder_db(tmp_path)

    def backfill(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE visits SET device = 'quest' WHERE user = 'u1'")

    ladder = (
        *MIGRATIONS,
        Migration(LATEST + 1, "visits.device", "ALTER TABLE visits ADD COLUMN device TEXT NOT NULL DEFAULT '';"),
        Migration(LATEST + 2, "backfill devices", backfill),
    )
    assert migrate(db, path, ladder) == LATEST + 2
    assert db.execute("SELECT user, device FROM visits").fetchall() == [("u1", "quest")]
    assert migrate(db, path, ladder) == LATEST + 2  # idempotent: nothing left to run
    db.close()


def test_a_failing_step_is_rolled_back_and_the_file_stays_at_the_old_version(tmp_path: Path) -> None:
    db, path = _ladder_db(tmp_path)
    half_done = Migration(
        LATEST + 1,
        "a step that fails halfway",
        "ALTER TABLE visits ADD COLUMN device TEXT; CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);",
    )
    with pytest.raises(sqlite3.OperationalError, match="nowhere"):
        migrate(db, path, (*MIGRATIONS, half_done))
    assert not db.in_transaction
    assert user_version(path) == LATEST
    assert "half" not in tables(path)
    assert [r[1] for r in db.execute("PRAGMA table_info(visits)")].count("device") == 0

    def boom(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM visits")
        raise RuntimeError("backfill failed")

    good = Migration(LATEST + 1, "good", "CREATE TABLE good (x);")
    with pytest.raises(RuntimeError, match="backfill failed"):
        migrate(db, path, (*MIGRATIONS, good, Migration(LATEST + 2, "bad", boom)))
    # Each step is its own transaction: the good one stays, the bad one left nothing behind.
    assert user_version(path) == LATEST + 1 and "good" in tables(path)
    assert db.execute("SELECT count(*) FROM visits").fetchone() == (1,)
    db.close()


def test_two_openers_at_once_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "plaza.sqlite3"
    legacy_file(path, user_version=3)
    runs: list[int] = []

    def slow_step(conn: sqlite3.Connection) -> None:
        runs.append(1)
        time.sleep(0.2)  # the other opener arrives meanwhile and waits for the write lock
        conn.execute("INSERT INTO likes VALUES ('u9', 'w', 1)")  # a second run would hit the PRIMARY KEY

    ladder = (*MIGRATIONS, Migration(LATEST + 1, "slow", slow_step))
    start, errors = threading.Barrier(2), []

    def opener() -> None:
        db = sqlite3.connect(path, isolation_level=None, timeout=5)
        try:
            start.wait()
            migrate(db, path, ladder)
        except Exception as e:  # surfaced below
            errors.append(e)
        finally:
            db.close()

    threads = [threading.Thread(target=opener) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors and runs == [1]
    assert user_version(path) == LATEST + 1


def test_statements_splits_a_script_without_breaking_triggers() -> None:
    sql = """-- a comment; with a semicolon
CREATE TABLE a (x);
CREATE TRIGGER t AFTER INSERT ON a BEGIN
    INSERT INTO a VALUES (1);
END;
"""
    parts = list(statements(sql))
    assert len(parts) == 2 and parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END;")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_is_0700_and_the_database_files_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a usual umask: files would be 0644 without care
    try:
        data = tmp_path / "data" / "plaza"
        s = SQLiteStorage(data / "plaza.sqlite3")
        s.save_objects([("w", 1, "crate", POSE)])
        assert mode(data) == 0o700
        for name in ("plaza.sqlite3", "plaza.sqlite3-wal", "plaza.sqlite3-shm"):
            assert (data / name).exists() and mode(data / name) == 0o600, name
        s.close()
        # Files made by an earlier, careless version are tightened at the next open.
        os.chmod(data, 0o755)
        os.chmod(data / "plaza.sqlite3", 0o644)
        h = SQLiteHostingStore(data / "plaza.sqlite3")
        h.set_lock("w", "a:max", 1.0)  # a write: the -wal is there again
        assert mode(data) == 0o700 and mode(data / "plaza.sqlite3") == 0o600
        assert mode(data / "plaza.sqlite3-wal") == 0o600
        h.close()
    finally:
        os.umask(old)


def test_a_shared_sticky_directory_is_left_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp: never lock everyone else out of it
    s = SQLiteStorage(shared / "plaza.sqlite3")
    assert mode(shared) == 0o1777 and mode(shared / "plaza.sqlite3") == 0o600
    s.close()
