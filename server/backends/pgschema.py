"""The schema ladder of a PostgreSQL database shared by a cluster: its own ordered steps.

The SQLite ladder (``server/migrations.py``) counts ``PRAGMA user_version`` from a history of
files in the field; a PostgreSQL database starts at step 1 with every table that SQLite has at
its version 6, so its numbers are its own. The version lives in ``plaza_schema`` (one row).
Each step runs in one transaction with the version it leads to, holding an advisory
transaction lock, so several Plaza nodes starting at once migrate once: the others wait on the
lock, re-read the version and skip what is done. DDL is transactional in PostgreSQL, so a
failing step leaves the database at the version before it. A database newer than ``LATEST``
(written by a newer Plaza) is refused with ``SchemaTooNew``.

To change the schema, append a step; never edit a shipped one. Keep the SQLite ladder and this
one describing the same tables (the contract tests in tests/contract/ hold both to the same
behaviour).

Column names differ from SQLite's where the SQLite one is a reserved word here: ``user`` is
``user_key`` and ``by`` is ``by_key``. Times are Unix seconds (double precision), as in SQLite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.migrations import Migration, SchemaTooNew, check_ladder

if TYPE_CHECKING:
    import psycopg

# pg_advisory_xact_lock key: "plaza" in ASCII, so no other application's lock collides by chance.
MIGRATION_LOCK = 0x706C617A61

BASELINE = """
CREATE TABLE object_state (
    world TEXT NOT NULL, instance INTEGER NOT NULL, object TEXT NOT NULL,
    px DOUBLE PRECISION NOT NULL, py DOUBLE PRECISION NOT NULL, pz DOUBLE PRECISION NOT NULL,
    qx DOUBLE PRECISION NOT NULL, qy DOUBLE PRECISION NOT NULL, qz DOUBLE PRECISION NOT NULL,
    qw DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (world, instance, object)
);
-- seq plays SQLite's rowid: spawned objects come back in the order they were (re)made.
CREATE TABLE spawned_objects (
    world TEXT NOT NULL, instance INTEGER NOT NULL, object TEXT NOT NULL,
    px DOUBLE PRECISION NOT NULL, py DOUBLE PRECISION NOT NULL, pz DOUBLE PRECISION NOT NULL,
    info TEXT NOT NULL, seq BIGSERIAL NOT NULL,
    PRIMARY KEY (world, instance, object)
);
CREATE TABLE removed_objects (world TEXT NOT NULL, object TEXT NOT NULL, PRIMARY KEY (world, object));
CREATE TABLE visits (
    id BIGSERIAL PRIMARY KEY, user_key TEXT NOT NULL, world TEXT NOT NULL, instance TEXT NOT NULL,
    start_ts DOUBLE PRECISION NOT NULL, end_ts DOUBLE PRECISION NOT NULL, friends TEXT NOT NULL DEFAULT '',
    chat_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX visits_user ON visits (user_key);
CREATE INDEX visits_end ON visits (end_ts);
CREATE TABLE follows (
    follower TEXT NOT NULL, followee TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, PRIMARY KEY (follower, followee)
);
CREATE TABLE likes (
    user_key TEXT NOT NULL, item TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, PRIMARY KEY (user_key, item)
);
CREATE INDEX likes_ts ON likes (ts);
CREATE TABLE interests (user_key TEXT PRIMARY KEY, tags TEXT NOT NULL);
CREATE TABLE hosting_secret (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE hosting_accounts (
    name_key TEXT PRIMARY KEY, name TEXT NOT NULL, password_hash TEXT NOT NULL, created DOUBLE PRECISION NOT NULL
);
CREATE TABLE hosting_account_meta (
    name_key TEXT PRIMARY KEY, account_id TEXT NOT NULL, epoch INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE hosting_grants (
    world TEXT NOT NULL, account TEXT NOT NULL, role TEXT NOT NULL, granted_by TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL, PRIMARY KEY (world, account)
);
CREATE TABLE hosting_invites (
    id TEXT PRIMARY KEY, world TEXT NOT NULL, created_by TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL, revoked DOUBLE PRECISION
);
CREATE TABLE hosting_blocks (
    kind TEXT NOT NULL, world TEXT NOT NULL, user_key TEXT NOT NULL, until DOUBLE PRECISION, reason TEXT NOT NULL,
    by_key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, PRIMARY KEY (kind, world, user_key)
);
CREATE TABLE hosting_locks (world TEXT PRIMARY KEY, by_key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE TABLE hosting_reports (
    id BIGSERIAL PRIMARY KEY, world TEXT NOT NULL, reporter TEXT NOT NULL, target TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL, context TEXT NOT NULL
);
CREATE INDEX hosting_reports_world ON hosting_reports (world, id);
CREATE INDEX hosting_reports_target ON hosting_reports (target);
CREATE INDEX hosting_reports_reporter ON hosting_reports (reporter, at);
CREATE TABLE hosting_report_holds (report_id BIGINT PRIMARY KEY, until DOUBLE PRECISION NOT NULL);
CREATE TABLE hosting_audit (
    id BIGSERIAL PRIMARY KEY, world TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL
);
CREATE INDEX hosting_audit_world ON hosting_audit (world, id);
CREATE TABLE hosting_events (key TEXT PRIMARY KEY, world TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE hosting_event_state (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE hosting_rsvps (
    event TEXT NOT NULL, user_key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
    notified BOOLEAN NOT NULL DEFAULT FALSE, PRIMARY KEY (event, user_key)
);
CREATE TABLE hosting_attendance (
    id BIGSERIAL PRIMARY KEY, event TEXT NOT NULL, world TEXT NOT NULL, user_key TEXT NOT NULL,
    joined DOUBLE PRECISION NOT NULL, left_at DOUBLE PRECISION
);
CREATE INDEX hosting_attendance_event ON hosting_attendance (event, user_key);
"""

MIGRATIONS: tuple[Migration, ...] = (Migration(1, "baseline: the tables of SQLite schema version 6", BASELINE),)
LATEST = MIGRATIONS[-1].version
check_ladder(MIGRATIONS)


def _statements(sql: str) -> list[str]:
    # The steps here hold no functions or strings with ";" in them: a plain split is exact.
    return [
        s.strip() for s in sql.split(";") if s.strip() and not all(ln.startswith("--") for ln in s.strip().splitlines())
    ]


def version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS plaza_schema (version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM plaza_schema").fetchone()
    return int(str(row[0])) if row else 0


def _too_new(name: str, found: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"{name}: database schema version {found} is newer than this Plaza knows (latest {LATEST}); "
        "it was written by a newer Plaza: run that one, or restore a backup this version made"
    )


def migrate(
    conn: psycopg.Connection[tuple[object, ...]], name: str, migrations: tuple[Migration, ...] = MIGRATIONS
) -> int:
    """Bring the database of ``conn`` (autocommit) to the last step's version; returns it."""
    check_ladder(migrations)
    latest = migrations[-1].version
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        found = version(conn)
    if found > latest:
        raise _too_new(name, found)
    if found == latest:
        return found
    for m in migrations:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            found = version(conn)  # another node may have migrated while we waited for the lock
            if found > latest:
                raise _too_new(name, found)
            if found >= m.version:
                continue
            if isinstance(m.step, str):
                for stmt in _statements(m.step):
                    conn.execute(stmt.encode())
            else:
                raise TypeError("PostgreSQL steps are SQL")
            conn.execute("DELETE FROM plaza_schema")
            conn.execute("INSERT INTO plaza_schema VALUES (%s)", (m.version,))
    return version(conn)
