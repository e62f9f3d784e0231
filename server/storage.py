"""Persistent state behind a small interface; SQLite is the embedded default.

Writes are batched by the caller (write-behind): the server collects what changed and calls
``save_objects`` about once a second and on shutdown — never a disk write per pose update.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from server.messages import Pose7, SpawnedRow
from server.migrations import migrate, transaction
from server.recommend.signals import ChatCount, Follow, Like, Signals, Visit

ObjectRow = tuple[str, int, str, Pose7]  # world id, instance index, object id, pose

# The schema (both stores' tables) is the ladder in server/migrations.py, run by open_db.

# Bounds on what one person can store through likes and interests (the HTTP layer answers 400
# with InvalidSignal's code and message).
MAX_ITEM_ID = 128  # a world id or an event key
MAX_LIKES_PER_USER = 500
MAX_TAG = 32
MAX_TAGS = 20


class InvalidSignal(ValueError):
    """A like or interest outside the bounds above; ``code`` for the HTTP error body."""

    code = "invalid_signal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_item(item: object) -> None:
    """InvalidSignal unless ``item`` is a world or event id of 1-MAX_ITEM_ID characters."""
    if not isinstance(item, str) or not 1 <= len(item) <= MAX_ITEM_ID:
        raise InvalidSignal(f"item: expected a world or event id of 1–{MAX_ITEM_ID} characters")


def check_tags(tags: object) -> None:
    """InvalidSignal unless ``tags`` is at most MAX_TAGS tags of 1-MAX_TAG characters, no commas."""
    if (
        not isinstance(tags, list | tuple)
        or len(tags) > MAX_TAGS
        or not all(isinstance(t, str) and 1 <= len(t) <= MAX_TAG and "," not in t for t in tags)
    ):
        raise InvalidSignal(f"tags: expected up to {MAX_TAGS} tags of 1–{MAX_TAG} characters, without commas")


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

    def purge(self, before_ts: float) -> dict[str, int]: ...

    def purge_before(self, ts: float) -> int: ...

    def save_objects(self, rows: list[ObjectRow]) -> None: ...

    def reset_objects(self, world: str, object_ids: list[str]) -> None: ...

    def mark_removed(self, rows: list[tuple[str, str]]) -> None: ...

    def removed_objects(self, world: str) -> set[str]: ...

    def save_spawned(self, rows: list[SpawnedRow]) -> None: ...

    def load_spawned(self, world: str, instance: int) -> list[SpawnedRow]: ...

    def snapshot(self) -> tuple[list[ObjectRow], list[tuple[str, str]], list[SpawnedRow]]: ...

    def close(self) -> None: ...


log = logging.getLogger(__name__)

DB_NAME = "plaza.sqlite3"  # in the data dir; both stores share it
DIR_MODE, FILE_MODE = 0o700, 0o600  # accounts' password hashes and the token secret live here


def signals_from_rows(
    visits: Iterable[Sequence[Any]],
    follows: Iterable[Sequence[Any]],
    likes: Iterable[Sequence[Any]],
    interests: Iterable[Sequence[Any]],
) -> Signals:
    """``load_signals`` of every backend: rows (user, world, instance, start, end, friends, chats),
    (follower, followee, ts), (user, item, ts), (user, tags) into Signals."""
    sig = Signals()
    for user, world, inst, start, end, friends, chats in visits:
        sig.visits.append(Visit(user, world, inst, start, end, tuple(f for f in friends.split(",") if f)))
        if chats:
            sig.chats.append(ChatCount(user, world, end, chats))
    sig.follows = [Follow(a, b, ts) for a, b, ts in follows]
    sig.likes = [Like(u, i, ts) for u, i, ts in likes]
    sig.interests = {u: tuple(t for t in tags.split(",") if t) for u, tags in interests}
    return sig


def user_export(
    user: str,
    visits: Iterable[Sequence[Any]],
    follows: Iterable[Sequence[Any]],
    followers: Iterable[Sequence[Any]],
    likes: Iterable[Sequence[Any]],
    interests: Iterable[Sequence[Any]],
) -> dict[str, object]:
    """``export_user`` of every backend (the privacy export), from one user's rows."""
    fields = ("world", "instance", "start_ts", "end_ts", "friends", "chat_count")
    return {
        "user": user,
        "visits": [dict(zip(fields, r, strict=True)) for r in visits],
        "follows": [r[0] for r in follows],
        "followers": [r[0] for r in followers],
        "likes": [{"item": i, "ts": ts} for i, ts in likes],
        "interests": [r[0] for r in interests],
    }


def make_private_dir(d: Path) -> None:
    """Create ``d`` (and parents) and make it 0700: only the server's user may list or enter it."""
    d.mkdir(parents=True, exist_ok=True)
    mode = d.stat().st_mode
    if mode & 0o777 != DIR_MODE:
        if mode & stat.S_ISVTX:  # /tmp and the like: shared by design, never lock others out of it
            log.warning("%s is a shared directory: leaving its mode; give --data a directory of its own", d)
            return
        try:
            os.chmod(d, DIR_MODE)
        except OSError as e:  # not ours (a shared directory given as --data): say so, carry on
            log.warning("could not make %s private (mode 0700): %s", d, e)


def make_private_file(path: Path) -> None:
    """Create ``path`` if missing as 0600 (never readable by others, even for a moment), and
    tighten an existing one; the same for its ``-wal``/``-shm`` files when present."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if p.stat().st_mode & 0o777 != FILE_MODE:
                os.chmod(p, FILE_MODE)
        except FileNotFoundError:
            pass


def open_db(path: Path | str) -> sqlite3.Connection:
    """The one way Plaza opens its SQLite file: WAL, autocommit, shared across threads (callers
    hold a lock), a busy timeout since several stores write to the same file, private file
    modes (directory 0700, file and its -wal/-shm 0600), and the schema ladder
    (``server.migrations``) run to the latest version — or ``SchemaTooNew`` for a newer file."""
    on_disk = str(path) != ":memory:"
    if on_disk:
        make_private_dir(Path(path).parent)
        make_private_file(Path(path))
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        migrate(db, path)
        if on_disk:  # SQLite gives -wal/-shm the main file's mode; make sure of it
            make_private_file(Path(path))
    except BaseException:
        db.close()
        raise
    return db


class SQLiteStorage:
    def __init__(self, path: Path) -> None:
        self.path = path
        # One connection guarded by a lock: the event loop writes, background jobs may read.
        self._db = open_db(path)
        self._lock = threading.Lock()

    def load_objects(self, world: str, instance: int) -> dict[str, Pose7]:
        with self._lock:
            rows = self._db.execute(
                "SELECT object, px, py, pz, qx, qy, qz, qw FROM object_state WHERE world = ? AND instance = ?",
                (world, instance),
            ).fetchall()
        return {r[0]: tuple(r[1:]) for r in rows}

    def save_objects(self, rows: list[ObjectRow]) -> None:
        if not rows:
            return
        # One transaction per batch: atomic, and one fsync instead of one per row.
        with self._lock, transaction(self._db):
            self._db.executemany(
                "INSERT INTO object_state VALUES (?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(world, instance, object) DO UPDATE SET"
                " px=excluded.px, py=excluded.py, pz=excluded.pz,"
                " qx=excluded.qx, qy=excluded.qy, qz=excluded.qz, qw=excluded.qw",
                [(w, i, o, *p) for w, i, o, p in rows],
            )

    def reset_objects(self, world: str, object_ids: list[str]) -> None:
        """Forget saved poses (the author changed these objects in the world file)."""
        if not object_ids:
            return
        with self._lock, transaction(self._db):
            self._db.executemany(
                "DELETE FROM object_state WHERE world = ? AND object = ?",
                [(world, o) for o in object_ids],
            )

    # ----- recommender signals ------------------------------------------------------------
    def log_visits(self, visits: list[tuple[Visit, int]]) -> None:
        """Append finished visits, each with the number of chat messages sent during it."""
        if not visits:
            return
        with self._lock, transaction(self._db):  # all of the batch or none of it
            self._db.executemany(
                "INSERT INTO visits VALUES (?,?,?,?,?,?,?)",
                [
                    (v.user_id, v.world_id, v.instance_id, v.start_ts, v.end_ts, ",".join(v.friends_present), chats)
                    for v, chats in visits
                ],
            )

    def follow(self, follower: str, followee: str, ts: float, on: bool = True) -> None:
        with self._lock:
            if on:
                self._db.execute("INSERT OR IGNORE INTO follows VALUES (?,?,?)", (follower, followee, ts))
            else:
                self._db.execute("DELETE FROM follows WHERE follower = ? AND followee = ?", (follower, followee))

    def like(self, user: str, item: str, ts: float, on: bool = True) -> None:
        """Like (or unlike) ``item``. InvalidSignal for an item id that is empty or over
        MAX_ITEM_ID characters, or a new like past MAX_LIKES_PER_USER."""
        check_item(item)
        with self._lock:
            if on:
                q = self._db.execute
                if not q("SELECT 1 FROM likes WHERE user = ? AND item = ?", (user, item)).fetchone():
                    (count,) = q("SELECT COUNT(*) FROM likes WHERE user = ?", (user,)).fetchone()
                    if count >= MAX_LIKES_PER_USER:
                        raise InvalidSignal(f"at most {MAX_LIKES_PER_USER} likes; unlike something first")
                q("INSERT OR REPLACE INTO likes VALUES (?,?,?)", (user, item, ts))
            else:
                self._db.execute("DELETE FROM likes WHERE user = ? AND item = ?", (user, item))

    def set_interests(self, user: str, tags: list[str]) -> None:
        """Replace the user's interest tags: at most MAX_TAGS tags of 1–MAX_TAG characters, no
        commas (the storage separator); InvalidSignal otherwise."""
        check_tags(tags)
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
        return signals_from_rows(visits, follows, likes, interests)

    def export_user(self, user: str) -> dict[str, object]:
        """Everything stored about one user (the privacy export)."""
        with self._lock:
            q = self._db.execute
            return user_export(
                user,
                q("SELECT world, instance, start_ts, end_ts, friends, chat_count FROM visits WHERE user = ?", (user,)),
                q("SELECT followee FROM follows WHERE follower = ?", (user,)),
                q("SELECT follower FROM follows WHERE followee = ?", (user,)),
                q("SELECT item, ts FROM likes WHERE user = ?", (user,)),
                q("SELECT tags FROM interests WHERE user = ?", (user,)),
            )

    def delete_user(self, user: str) -> int:
        """Forget a user's signals (the privacy delete); returns rows removed."""
        with self._lock, transaction(self._db):  # all of it or, on an error, nothing
            n = self._db.execute("DELETE FROM visits WHERE user = ?", (user,)).rowcount
            n += self._db.execute("DELETE FROM follows WHERE follower = ? OR followee = ?", (user, user)).rowcount
            n += self._db.execute("DELETE FROM likes WHERE user = ?", (user,)).rowcount
            n += self._db.execute("DELETE FROM interests WHERE user = ?", (user,)).rowcount
            # Other people's visits that list them as a friend present: take them off the list.
            rows = self._db.execute(
                "SELECT rowid, friends FROM visits WHERE instr(',' || friends || ',', ?) > 0", (f",{user},",)
            ).fetchall()
            for rowid, friends in rows:
                kept = ",".join(f for f in friends.split(",") if f and f != user)
                self._db.execute("UPDATE visits SET friends = ? WHERE rowid = ?", (kept, rowid))
            n += len(rows)
        return n

    def purge(self, before_ts: float) -> dict[str, int]:
        """Retention: drop time-stamped signals older than ``before_ts`` (Unix seconds) — visits
        that ended before it and likes given before it; returns rows removed per table. Follows
        and interests are standing choices, kept until the user changes them or is deleted."""
        with self._lock, transaction(self._db):
            return {
                "visits": self._db.execute("DELETE FROM visits WHERE end_ts < ?", (before_ts,)).rowcount,
                "likes": self._db.execute("DELETE FROM likes WHERE ts < ?", (before_ts,)).rowcount,
            }

    def purge_before(self, ts: float) -> int:
        """``purge``, as one total of rows removed."""
        return sum(self.purge(ts).values())

    def mark_removed(self, rows: list[tuple[str, str]]) -> None:
        """Objects a moderator removed stay removed across restarts (world, object id)."""
        if rows:
            with self._lock, transaction(self._db):
                self._db.executemany("INSERT OR IGNORE INTO removed_objects VALUES (?,?)", rows)

    def removed_objects(self, world: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT object FROM removed_objects WHERE world = ?", (world,)).fetchall()
        return {r[0] for r in rows}

    def save_spawned(self, rows: list[SpawnedRow]) -> None:
        if rows:
            with self._lock, transaction(self._db):
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

    def snapshot(self) -> tuple[list[ObjectRow], list[tuple[str, str]], list[SpawnedRow]]:
        """Every saved object pose, removal and spawned object: read once at start (in a
        thread), so opening an instance never reads SQLite on the event loop."""
        with self._lock:
            poses = self._db.execute("SELECT world, instance, object, px, py, pz, qx, qy, qz, qw FROM object_state")
            objects = [(r[0], r[1], r[2], tuple(r[3:])) for r in poses.fetchall()]
            removed = [(r[0], r[1]) for r in self._db.execute("SELECT world, object FROM removed_objects").fetchall()]
            spawned = self._db.execute(
                "SELECT world, instance, object, px, py, pz, info FROM spawned_objects ORDER BY rowid"
            ).fetchall()
        return (
            objects,
            removed,
            [(r[0], r[1], r[2], (r[3], r[4], r[5]), json.loads(r[6])) for r in spawned],
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()
