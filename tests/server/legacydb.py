"""A plaza.sqlite3 as the code before the schema ladder left it (for the migration and backup
tests)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Frozen copies of the schemas the stores created on every open before the ladder (storage
# wrote user_version 3; the hosting store wrote none). Never import these from the code.
LEGACY_STORAGE_SQL = """
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

LEGACY_HOSTING_SQL = """
CREATE TABLE IF NOT EXISTS hosting_secret (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS hosting_accounts (
    name_key TEXT PRIMARY KEY, name TEXT NOT NULL, password_hash TEXT NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS hosting_grants (
    world TEXT NOT NULL, account TEXT NOT NULL, role TEXT NOT NULL, granted_by TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (world, account)
);
CREATE TABLE IF NOT EXISTS hosting_invites (
    id TEXT PRIMARY KEY, world TEXT NOT NULL, created_by TEXT NOT NULL, created REAL NOT NULL,
    expires REAL NOT NULL, revoked REAL
);
CREATE TABLE IF NOT EXISTS hosting_blocks (
    kind TEXT NOT NULL, world TEXT NOT NULL, user TEXT NOT NULL, until REAL, reason TEXT NOT NULL,
    by TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (kind, world, user)
);
CREATE TABLE IF NOT EXISTS hosting_locks (world TEXT PRIMARY KEY, by TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS hosting_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT, world TEXT NOT NULL, reporter TEXT NOT NULL, target TEXT NOT NULL,
    at REAL NOT NULL, reason TEXT NOT NULL, context TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hosting_reports_world ON hosting_reports (world, id);
CREATE TABLE IF NOT EXISTS hosting_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, world TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, at REAL NOT NULL, reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hosting_audit_world ON hosting_audit (world, id);
CREATE TABLE IF NOT EXISTS hosting_events (
    key TEXT PRIMARY KEY, world TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hosting_event_state (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hosting_rsvps (
    event TEXT NOT NULL, user TEXT NOT NULL, at REAL NOT NULL, notified INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event, user)
);
CREATE TABLE IF NOT EXISTS hosting_attendance (
    id INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL, world TEXT NOT NULL, user TEXT NOT NULL,
    joined REAL NOT NULL, left_at REAL
);
CREATE INDEX IF NOT EXISTS hosting_attendance_event ON hosting_attendance (event, user);
"""


def legacy_file(path: Path, user_version: int = 3, hosting: bool = True) -> None:
    """A plaza.sqlite3 as the code before the ladder left it, with a little data in it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(LEGACY_STORAGE_SQL if user_version else "")
    if hosting:
        db.executescript(LEGACY_HOSTING_SQL)
        db.execute("INSERT INTO hosting_accounts VALUES ('olivia', 'Olivia', 'hash', 1.0)")
    if user_version:
        db.execute("INSERT INTO object_state VALUES ('w', 1, 'crate', 1, 2, 3, 0, 0, 0, 1)")
        db.execute("INSERT INTO visits VALUES ('u1', 'w', 'w#1', 10, 20, 'u2', 3)")
        db.execute("INSERT INTO likes VALUES ('u1', 'w', 15)")
        db.execute(f"PRAGMA user_version={user_version}")
    db.close()
