"""Persistent state behind a small interface; SQLite is the embedded default.

Writes are batched by the caller (write-behind): the server collects what changed and calls
``save_objects`` about once a second and on shutdown — never a disk write per pose update.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from server.messages import Pose7

ObjectRow = tuple[str, int, str, Pose7]  # world id, instance index, object id, pose

_SCHEMA = """
CREATE TABLE IF NOT EXISTS object_state (
    world TEXT NOT NULL,
    instance INTEGER NOT NULL,
    object TEXT NOT NULL,
    px REAL NOT NULL, py REAL NOT NULL, pz REAL NOT NULL,
    qx REAL NOT NULL, qy REAL NOT NULL, qz REAL NOT NULL, qw REAL NOT NULL,
    PRIMARY KEY (world, instance, object)
);
"""
SCHEMA_VERSION = 1


class Storage(Protocol):
    def load_objects(self, world: str, instance: int) -> dict[str, Pose7]: ...

    def save_objects(self, rows: list[ObjectRow]) -> None: ...

    def reset_objects(self, world: str, object_ids: list[str]) -> None: ...

    def close(self) -> None: ...


class SQLiteStorage:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection guarded by a lock: the event loop writes, background jobs may read.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def load_objects(self, world: str, instance: int) -> dict[str, Pose7]:
        with self._lock:
            rows = self._db.execute(
                "SELECT object, px, py, pz, qx, qy, qz, qw FROM object_state WHERE world = ? AND instance = ?",
                (world, instance),
            ).fetchall()
        return {r[0]: tuple(r[1:]) for r in rows}  # type: ignore[misc]

    def save_objects(self, rows: list[ObjectRow]) -> None:
        if not rows:
            return
        with self._lock:
            # One transaction per batch: atomic, and one fsync instead of one per row.
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT INTO object_state VALUES (?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT(world, instance, object) DO UPDATE SET"
                    " px=excluded.px, py=excluded.py, pz=excluded.pz,"
                    " qx=excluded.qx, qy=excluded.qy, qz=excluded.qz, qw=excluded.qw",
                    [(w, i, o, *p) for w, i, o, p in rows],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def reset_objects(self, world: str, object_ids: list[str]) -> None:
        """Forget saved poses (the author changed these objects in the world file)."""
        if not object_ids:
            return
        with self._lock:
            self._db.executemany(
                "DELETE FROM object_state WHERE world = ? AND object = ?",
                [(world, o) for o in object_ids],
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
