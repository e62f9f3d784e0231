"""Spec: ``plaza backup FILE`` copies the live database safely while the server writes;
``plaza restore FILE`` puts a checked copy in place atomically, and refuses — exit 1, a clear
reason, nothing replaced — a file that is not a sound Plaza database, or while a server has
the database open."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from server.cli import main
from server.hosting.store import AccountRow, SQLiteHostingStore
from server.migrations import LATEST
from server.recommend.signals import Visit
from server.storage import SQLiteStorage
from tests.server.legacydb import legacy_file

POSE = (1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0)


def seeded(data: Path) -> None:
    s, h = SQLiteStorage(data / "plaza.sqlite3"), SQLiteHostingStore(data / "plaza.sqlite3")
    s.save_objects([("w", 1, "crate", POSE)])
    s.log_visits([(Visit("u1", "w", "w#1", 10.0, 20.0, ()), 2)])
    h.add_account(AccountRow("olivia", "Olivia", "hash", 1.0))
    s.close(), h.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backup_while_writing_then_restore_into_a_new_data_dir(tmp_path: Path, capsys) -> None:
    live, fresh, file = tmp_path / "live", tmp_path / "fresh", tmp_path / "plaza-backup.sqlite3"
    seeded(live)
    server = SQLiteStorage(live / "plaza.sqlite3")  # the "server": open and writing throughout
    stop, written = threading.Event(), [0]

    def writer() -> None:
        while not stop.is_set():
            n = written[0]
            server.save_objects([("w", 1, f"ball-{n}", (float(n), 0.0, 0.0, 0.0, 0.0, 0.0, 1.0))])
            server.log_visits([(Visit(f"v{n}", "w", "w#1", 30.0, 40.0, ()), 0)])
            written[0] = n + 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        while written[0] < 20 and t.is_alive():  # really writing before the backup starts
            time.sleep(0.001)
        assert main(["backup", str(file), "--data", str(live)]) == 0
        during = written[0]
        while written[0] < during + 20 and t.is_alive():  # and still writing after it
            time.sleep(0.001)
    finally:
        stop.set()
        t.join(10)
    server.close()
    assert f"schema version {LATEST}" in capsys.readouterr().out
    assert mode(file) == 0o600  # accounts and the token secret are in there

    assert main(["restore", str(file), "--data", str(fresh)]) == 0
    assert mode(fresh) == 0o700 and mode(fresh / "plaza.sqlite3") == 0o600
    s, h = SQLiteStorage(fresh / "plaza.sqlite3"), SQLiteHostingStore(fresh / "plaza.sqlite3")
    objects = s.load_objects("w", 1)
    assert objects["crate"] == POSE
    balls = {int(k.split("-")[1]) for k in objects if k.startswith("ball-")}
    assert balls == set(range(len(balls))) and len(balls) >= 20  # a consistent prefix of the writes
    visitors = {v.user_id for v in s.load_signals().visits} - {"u1"}
    # One snapshot: visit n is written just after ball n (its own transaction), so the copy has
    # the visits of all its balls, except perhaps the last one's.
    expected = {f"v{n}" for n in balls}
    assert visitors <= expected and expected - visitors <= {f"v{max(balls)}"}
    assert h.get_account("olivia") is not None
    assert s._db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    s.close(), h.close()


def _garbage(tmp_path: Path, kind: str) -> Path:
    p = tmp_path / f"{kind}.sqlite3"
    if kind == "text":
        p.write_text("this is not a database\n" * 100)
    elif kind == "truncated":
        src = tmp_path / "src"
        seeded(src)
        main(["backup", str(tmp_path / "good.sqlite3"), "--data", str(src)])
        data = (tmp_path / "good.sqlite3").read_bytes()
        p.write_bytes(data[: len(data) // 2])
    elif kind == "corrupt":
        src = tmp_path / "src"
        seeded(src)
        main(["backup", str(tmp_path / "good.sqlite3"), "--data", str(src)])
        data = bytearray((tmp_path / "good.sqlite3").read_bytes())
        page = 4096
        data[page + 8 : 3 * page] = b"\xff" * (3 * page - page - 8)  # pages after the header: garbage
        p.write_bytes(bytes(data))
    elif kind == "not-plaza":
        db = sqlite3.connect(p)
        db.execute("CREATE TABLE recipes (name TEXT)")
        db.commit()
        db.close()
    elif kind == "newer":
        src = tmp_path / "src"
        seeded(src)
        db = sqlite3.connect(src / "plaza.sqlite3")
        db.execute(f"PRAGMA user_version={LATEST + 1}")
        db.commit()
        db.close()
        p.write_bytes((src / "plaza.sqlite3").read_bytes())
    return p


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("text", "not a usable SQLite database"),
        ("truncated", "plaza"),  # malformed or failing the integrity check, named either way
        ("corrupt", "plaza"),
        ("not-plaza", "not a Plaza one"),
        ("newer", f"newer than this Plaza knows (latest {LATEST})"),
        ("missing", "no such file"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_replaced(tmp_path: Path, capsys, kind: str, reason: str) -> None:
    data = tmp_path / "data"
    seeded(data)
    before = digest(data / "plaza.sqlite3")
    bad = _garbage(tmp_path, kind)
    capsys.readouterr()
    assert main(["restore", str(bad), "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("plaza restore: ") and "nothing was replaced" in err
    assert reason.lower() in err.lower(), err
    assert digest(data / "plaza.sqlite3") == before
    assert [p.name for p in data.iterdir() if p.name.endswith(".tmp")] == []  # no temporary left behind
    s = SQLiteStorage(data / "plaza.sqlite3")
    assert s.load_objects("w", 1) == {"crate": POSE}
    s.close()


def test_restore_refuses_while_a_server_has_the_database_open(tmp_path: Path, capsys) -> None:
    data, file = tmp_path / "data", tmp_path / "b.sqlite3"
    seeded(data)
    assert main(["backup", str(file), "--data", str(data)]) == 0
    server = SQLiteStorage(data / "plaza.sqlite3")
    server.save_objects([("w", 1, "after-backup", POSE)])
    capsys.readouterr()
    assert main(["restore", str(file), "--data", str(data)]) == 1
    assert "stop the server" in capsys.readouterr().err
    assert "after-backup" in server.load_objects("w", 1)  # the server's file is untouched
    server.close()
    assert main(["restore", str(file), "--data", str(data)]) == 0  # once stopped it goes ahead
    s = SQLiteStorage(data / "plaza.sqlite3")
    assert "after-backup" not in s.load_objects("w", 1)
    s.close()


def test_restore_removes_stale_wal_and_shm(tmp_path: Path) -> None:
    data, file = tmp_path / "data", tmp_path / "b.sqlite3"
    seeded(data)
    assert main(["backup", str(file), "--data", str(data)]) == 0
    for suffix in ("-wal", "-shm"):  # left by a crashed server
        (data / f"plaza.sqlite3{suffix}").write_bytes(b"\0" * 100)
    assert main(["restore", str(file), "--data", str(data)]) == 0
    assert sorted(p.name for p in data.iterdir()) == ["plaza.sqlite3"]
    s = SQLiteStorage(data / "plaza.sqlite3")
    assert s.load_objects("w", 1) == {"crate": POSE}
    s.close()


def test_an_old_backup_is_migrated_as_it_is_restored(tmp_path: Path, capsys) -> None:
    old = tmp_path / "old.sqlite3"
    legacy_file(old, user_version=3)
    assert main(["restore", str(old), "--data", str(tmp_path / "data")]) == 0
    assert "migrated from version 3" in capsys.readouterr().out
    s = SQLiteStorage(tmp_path / "data" / "plaza.sqlite3")
    assert s.load_objects("w", 1) == {"crate": POSE}
    assert s._db.execute("PRAGMA user_version").fetchone() == (LATEST,)
    s.close()


def test_backup_without_a_database_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["backup", str(tmp_path / "b.sqlite3"), "--data", str(tmp_path / "nothing")]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "b.sqlite3").exists()
