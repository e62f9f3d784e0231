"""The schema ladder of ``plaza.sqlite3``: one ordered list of steps on ``PRAGMA user_version``.

Both stores that share the file (``server.storage.SQLiteStorage`` and
``server.hosting.store.SQLiteHostingStore``) open it through ``server.storage.open_db``, which
calls ``migrate``: whichever opens first brings the file up to ``LATEST``, the other finds it
there. Each step runs in its own ``BEGIN IMMEDIATE`` transaction together with the
``user_version`` it leads to, so a step that fails leaves the file at the version before it
(DDL is transactional in SQLite), and two processes opening at once do not both migrate: the
second waits for the write lock (``busy_timeout``), re-reads the version and skips what is done.
A file whose version is newer than ``LATEST`` (written by a newer Plaza) is refused.

To change the schema, append a step — never edit a shipped one (files in the field already ran
it). A step is SQL (one or more statements, no ``BEGIN``/``COMMIT``) or a function taking the
connection (inside the transaction: it must not commit). ``CREATE TABLE IF NOT EXISTS`` cannot
add a column; a step can (``ALTER TABLE ... ADD COLUMN``, or create-copy-rename for the rest).

Versions 1-3 (and 0, a file only the hosting store had opened) were written by code before this
ladder, which created its tables with ``CREATE ... IF NOT EXISTS`` on every open and wrote
``user_version`` without reading it. All their tables are subsets of the baseline (step 4,
itself all ``IF NOT EXISTS``), so such a file is brought to 4 by running the baseline over it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

Step = str | Callable[[sqlite3.Connection], None]


class SchemaTooNew(RuntimeError):
    """The file was written by a newer Plaza than this one."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int  # user_version once this step has run
    what: str
    step: Step


# Written by code before the ladder: what server/storage.py and server/hosting/store.py had as
# their schemas (storage SCHEMA_VERSION 3, spawned_objects being the last addition).
BASELINE_SQL = """
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
-- Hosting: accounts, the token secret, roles, invites, moderation, events (server/hosting/store.py).
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

MIGRATIONS: tuple[Migration, ...] = (
    Migration(4, "baseline: every table of both stores (files at 0-3 from before the ladder)", BASELINE_SQL),
    Migration(5, "index likes by time (retention purge, signals since a time)", "CREATE INDEX likes_ts ON likes (ts);"),
    # Hosting security (server/hosting/identity.py, server/privacy.py): per-account random id and
    # token epoch (tokens are bound to them, not to the name), and reports about deleted people
    # held for moderation until a date.
    Migration(
        6,
        "hosting_account_meta (token binding) and hosting_report_holds (privacy delete)",
        """
CREATE TABLE IF NOT EXISTS hosting_account_meta (
    name_key TEXT PRIMARY KEY, account_id TEXT NOT NULL, epoch INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS hosting_report_holds (report_id INTEGER PRIMARY KEY, until REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hosting_reports_target ON hosting_reports (target);
CREATE INDEX IF NOT EXISTS hosting_reports_reporter ON hosting_reports (reporter, at);
""",
    ),
)
LATEST = MIGRATIONS[-1].version


@contextmanager
def transaction(db: sqlite3.Connection, mode: str = "") -> Iterator[None]:
    """``BEGIN [mode]`` ... ``COMMIT``; on any error ``ROLLBACK`` and re-raise, so a failure leaves
    nothing partial behind and the connection usable. ``db`` must be in autocommit mode
    (``isolation_level=None``), as ``server.storage.open_db`` makes it."""
    db.execute(f"BEGIN {mode}".strip())
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite rolls back by itself on some errors (disk full, ...)
            db.execute("ROLLBACK")
        raise


def version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def statements(sql: str) -> Iterator[str]:
    """Split a script into statements (``executescript`` would commit first: no transaction)."""
    start = 0
    for end, ch in enumerate(sql):
        # Every statement ends at a ";" that completes it (not one inside a string, a comment
        # or a trigger body): complete_statement tells these apart.
        if ch == ";" and sqlite3.complete_statement(sql[start : end + 1]):
            yield sql[start : end + 1].strip()
            start = end + 1
    if sql[start:].strip():
        yield sql[start:].strip()


def _too_new(name: str, found: int, latest: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"{name}: database schema version {found} is newer than this Plaza knows (latest {latest}); "
        "it was written by a newer Plaza: run that one, or restore a backup this version made"
    )


def check_ladder(migrations: tuple[Migration, ...]) -> None:
    versions = [m.version for m in migrations]
    if not versions or versions != sorted(set(versions)) or versions[0] < 1:
        raise ValueError(f"migration versions must be positive and strictly increasing: {versions}")


def migrate(db: sqlite3.Connection, name: str | Path, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Bring the open database ``db`` (autocommit) up to the last step's version; returns it.

    ``name`` is the file, for messages. Raises ``SchemaTooNew`` (nothing changed) for a file newer
    than the ladder; an error from a step propagates after rolling that step back."""
    check_ladder(migrations)
    latest = migrations[-1].version
    found = version(db)
    if found > latest:
        raise _too_new(str(name), found, latest)
    if found == latest:
        return found  # the usual open: no write lock taken
    for m in migrations:
        with transaction(db, "IMMEDIATE"):
            found = version(db)  # another opener may have migrated while we waited for the lock
            if found > latest:
                raise _too_new(str(name), found, latest)
            if found >= m.version:
                continue
            if isinstance(m.step, str):
                for stmt in statements(m.step):
                    db.execute(stmt)
            else:
                m.step(db)
            db.execute(f"PRAGMA user_version={int(m.version)}")
    return version(db)


check_ladder(MIGRATIONS)
