"""Persistent state behind a small interface; SQLite is the embedded default.

Writes are batched by the caller (write-behind): the server collects what changed and calls
``save_objects`` about once a second and on shutdown — never a disk write per pose update.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from server.messages import Pose7, SpawnedRow
from server.recommend.signals import ChatCount, Follow, Like, Signals, Visit

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
-- Objects people made at run time (generated assets), not in any world file; where they
-- are now lives in object_state like any other object's pose.
CREATE TABLE IF NOT EXISTS spawned_objects (
    world TEXT NOT NULL,
    instance INTEGER NOT NULL,
    object TEXT NOT NULL,
    px REAL NOT NULL, py REAL NOT NULL, pz REAL NOT NULL,
    info TEXT NOT NULL,
    PRIMARY KEY (world, instance, object)
);
CREATE TABLE IF NOT EXISTS removed_objects (
    world TEXT NOT NULL, object TEXT NOT NULL, PRIMARY KEY (world, object)
);
-- Recommender signals (never chat content). Times are Unix seconds.
CREATE TABLE IF NOT EXISTS visits (
    user TEXT NOT NULL, world TEXT NOT NULL, instance TEXT NOT NULL,
    start_ts REAL NOT NULL, end_ts REAL NOT NULL, friends TEXT NOT NULL DEFAULT '',
    chat_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS visits_user ON visits (user);
CREATE INDEX IF NOT EXISTS visits_end ON visits (end_ts);
CREATE TABLE IF NOT EXISTS follows (
    follower TEXT NOT NULL, followee TEXT NOT NULL, ts REAL NOT NULL,
    PRIMARY KEY (follower, followee)
);
CREATE TABLE IF NOT EXISTS likes (
    user TEXT NOT NULL, item TEXT NOT NULL, ts REAL NOT NULL,
    PRIMARY KEY (user, item)
);
CREATE TABLE IF NOT EXISTS interests (
    user TEXT PRIMARY KEY, tags TEXT NOT NULL
);
"""
SCHEMA_VERSION = 3  # 3: spawned_objects (a CREATE IF NOT EXISTS: older files just gain it)


class Storage(Protocol):
    def load_objects(self, world: str, instance: int) -> dict[str, Pose7]: ...

    def log_visits(self, visits: list[tuple[Visit, int]]) -> None: ...

    def follow(self, follower: str, followee: str, ts: float, on: bool = True) -> None: ...

    def like(self, user: str, item: str, ts: float, on: bool = True) -> None: ...

    def set_interests(self, user: str, tags: list[str]) -> None: ...

    def follows_of(self, user: str) -> set[str]: ...

    def load_signals(self, since_ts: float = 0.0) -> Signals: ...

    def export_user(self, user: str) -> dict[str, object]: ...

    def delete_user(self, user: str) -> int: ...

    def purge_before(self, ts: float) -> int: ...

    def save_objects(self, rows: list[ObjectRow]) -> None: ...

    def reset_objects(self, world: str, object_ids: list[str]) -> None: ...

    def mark_removed(self, rows: list[tuple[str, str]]) -> None: ...

    def removed_objects(self, world: str) -> set[str]: ...

    def save_spawned(self, rows: list[SpawnedRow]) -> None: ...

    def load_spawned(self, world: str, instance: int) -> list[SpawnedRow]: ...

    def close(self) -> None: ...


def open_db(path: Path | str, schema: str) -> sqlite3.Connection:
    """The one way Plaza opens its SQLite file: WAL, autocommit, shared across threads (callers
    hold a lock), and a busy timeout since several stores write to the same file."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.executescript(schema)
    return db


class SQLiteStorage:
    def __init__(self, path: Path) -> None:
        self.path = path
        # One connection guarded by a lock: the event loop writes, background jobs may read.
        self._db = open_db(path, _SCHEMA)
        self._lock = threading.Lock()
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

    # ----- recommender signals ------------------------------------------------------------
    def log_visits(self, visits: list[tuple[Visit, int]]) -> None:
        """Append finished visits, each with the number of chat messages sent during it."""
        if not visits:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO visits VALUES (?,?,?,?,?,?,?)",
                [
                    (v.user_id, v.world_id, v.instance_id, v.start_ts, v.end_ts, ",".join(v.friends_present), chats)
                    for v, chats in visits
                ],
            )
            self._db.execute("COMMIT")

    def follow(self, follower: str, followee: str, ts: float, on: bool = True) -> None:
        with self._lock:
            if on:
                self._db.execute("INSERT OR IGNORE INTO follows VALUES (?,?,?)", (follower, followee, ts))
            else:
                self._db.execute("DELETE FROM follows WHERE follower = ? AND followee = ?", (follower, followee))

    def like(self, user: str, item: str, ts: float, on: bool = True) -> None:
        with self._lock:
            if on:
                self._db.execute("INSERT OR REPLACE INTO likes VALUES (?,?,?)", (user, item, ts))
            else:
                self._db.execute("DELETE FROM likes WHERE user = ? AND item = ?", (user, item))

    def set_interests(self, user: str, tags: list[str]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO interests VALUES (?,?)", (user, ",".join(tags)))

    def follows_of(self, user: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT followee FROM follows WHERE follower = ?", (user,)).fetchall()
        return {r[0] for r in rows}

    def load_signals(self, since_ts: float = 0.0) -> Signals:
        with self._lock:
            visits = self._db.execute("SELECT * FROM visits WHERE end_ts >= ?", (since_ts,)).fetchall()
            follows = self._db.execute("SELECT * FROM follows").fetchall()
            likes = self._db.execute("SELECT * FROM likes WHERE ts >= ?", (since_ts,)).fetchall()
            interests = self._db.execute("SELECT * FROM interests").fetchall()
        sig = Signals()
        for user, world, inst, start, end, friends, chats in visits:
            sig.visits.append(Visit(user, world, inst, start, end, tuple(f for f in friends.split(",") if f)))
            if chats:
                sig.chats.append(ChatCount(user, world, end, chats))
        sig.follows = [Follow(a, b, ts) for a, b, ts in follows]
        sig.likes = [Like(u, i, ts) for u, i, ts in likes]
        sig.interests = {u: tuple(t for t in tags.split(",") if t) for u, tags in interests}
        return sig

    def export_user(self, user: str) -> dict[str, object]:
        """Everything stored about one user (the privacy export)."""
        with self._lock:
            q = self._db.execute
            return {
                "user": user,
                "visits": [
                    dict(zip(("world", "instance", "start_ts", "end_ts", "friends", "chat_count"), r, strict=True))
                    for r in q(
                        "SELECT world, instance, start_ts, end_ts, friends, chat_count FROM visits WHERE user = ?",
                        (user,),
                    )
                ],
                "follows": [r[0] for r in q("SELECT followee FROM follows WHERE follower = ?", (user,))],
                "followers": [r[0] for r in q("SELECT follower FROM follows WHERE followee = ?", (user,))],
                "likes": [{"item": i, "ts": ts} for i, ts in q("SELECT item, ts FROM likes WHERE user = ?", (user,))],
                "interests": [r[0] for r in q("SELECT tags FROM interests WHERE user = ?", (user,))],
            }

    def delete_user(self, user: str) -> int:
        """Forget a user's signals (the privacy delete); returns rows removed."""
        with self._lock:
            self._db.execute("BEGIN")
            n = self._db.execute("DELETE FROM visits WHERE user = ?", (user,)).rowcount
            n += self._db.execute("DELETE FROM follows WHERE follower = ? OR followee = ?", (user, user)).rowcount
            n += self._db.execute("DELETE FROM likes WHERE user = ?", (user,)).rowcount
            n += self._db.execute("DELETE FROM interests WHERE user = ?", (user,)).rowcount
            self._db.execute("COMMIT")
        return n

    def purge_before(self, ts: float) -> int:
        """Retention: drop visits and likes older than ``ts``."""
        with self._lock:
            n = self._db.execute("DELETE FROM visits WHERE end_ts < ?", (ts,)).rowcount
            n += self._db.execute("DELETE FROM likes WHERE ts < ?", (ts,)).rowcount
        return n

    def mark_removed(self, rows: list[tuple[str, str]]) -> None:
        """Objects a moderator removed stay removed across restarts (world, object id)."""
        if rows:
            with self._lock:
                self._db.executemany("INSERT OR IGNORE INTO removed_objects VALUES (?,?)", rows)

    def removed_objects(self, world: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT object FROM removed_objects WHERE world = ?", (world,)).fetchall()
        return {r[0] for r in rows}

    def save_spawned(self, rows: list[SpawnedRow]) -> None:
        if rows:
            with self._lock:
                self._db.executemany(
                    "INSERT OR REPLACE INTO spawned_objects VALUES (?,?,?,?,?,?,?)",
                    [(w, i, o, *pos, json.dumps(info)) for w, i, o, pos, info in rows],
                )

    def load_spawned(self, world: str, instance: int) -> list[SpawnedRow]:
        """In the order they were made (rowid), so entity ids come back in a stable order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT object, px, py, pz, info FROM spawned_objects WHERE world = ? AND instance = ? ORDER BY rowid",
                (world, instance),
            ).fetchall()
        return [(world, instance, r[0], (r[1], r[2], r[3]), json.loads(r[4])) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
