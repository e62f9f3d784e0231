"""Persistence for hosting: accounts, the token secret, roles, invites, moderation, events.

``HostingStore`` is the small interface the pure modules use; ``SQLiteHostingStore`` keeps its
own ``hosting_*`` tables in the server's database file (``plaza.sqlite3``) through its own
connection (WAL mode, so it and ``server.storage.SQLiteStorage`` do not block each other's readers).
Every write commits immediately: moderation must survive a crash, and these writes are rare
(people's actions, not poses), so there is no write-behind here.

Times are Unix seconds (float). User keys are ``Principal.key`` strings (``a:<name>`` for an
account, ``g:<guest id>`` for a guest; see identity.py).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from server.storage import open_db

SCHEMA = """
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


@dataclass(frozen=True, slots=True)
class AccountRow:
    name_key: str  # lower-cased user name: uniqueness is case-insensitive
    name: str  # as registered (display spelling)
    password_hash: str
    created: float


@dataclass(frozen=True, slots=True)
class GrantRow:
    world: str
    account: str  # lower-cased user name
    role: str
    granted_by: str
    at: float


@dataclass(frozen=True, slots=True)
class InviteRow:
    id: str
    world: str
    created_by: str
    created: float
    expires: float
    revoked: float | None


@dataclass(frozen=True, slots=True)
class BlockRow:
    """A ban, mute or kick (``kind``) of ``user`` in ``world``; ``until`` None = until lifted."""

    kind: str
    world: str
    user: str
    until: float | None
    reason: str
    by: str
    at: float


@dataclass(frozen=True, slots=True)
class ReportRow:
    id: int
    world: str
    reporter: str
    target: str
    at: float
    reason: str
    context: dict[str, object] = field(default_factory=dict)  # names, last chat lines


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    world: str
    actor: str
    action: str
    target: str
    at: float
    reason: str


@dataclass(frozen=True, slots=True)
class RsvpRow:
    event: str
    user: str
    at: float
    notified: bool


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    id: int
    event: str
    world: str
    user: str
    joined: float
    left_at: float | None


class HostingStore(Protocol):
    def secret(self) -> bytes: ...

    # accounts
    def add_account(self, row: AccountRow) -> bool: ...  # False when the name_key exists
    def get_account(self, name_key: str) -> AccountRow | None: ...
    def account_exists(self, name_key: str) -> bool: ...

    # roles
    def set_grant(self, row: GrantRow) -> None: ...
    def delete_grant(self, world: str, account: str) -> bool: ...
    def grants(self, world: str) -> list[GrantRow]: ...

    # invites
    def add_invite(self, row: InviteRow) -> None: ...
    def get_invite(self, invite_id: str) -> InviteRow | None: ...
    def revoke_invite(self, invite_id: str, at: float) -> bool: ...
    def invites(self, world: str) -> list[InviteRow]: ...

    # bans, mutes, kicks; world locks
    def set_block(self, row: BlockRow) -> None: ...
    def delete_block(self, kind: str, world: str, user: str) -> bool: ...
    def blocks(self, kind: str | None = None, world: str | None = None) -> list[BlockRow]: ...
    def set_lock(self, world: str, by: str, at: float) -> None: ...
    def delete_lock(self, world: str) -> None: ...
    def locked_worlds(self) -> set[str]: ...

    # reports and audit
    def add_report(
        self, world: str, reporter: str, target: str, at: float, reason: str, context: dict[str, object]
    ) -> int: ...
    def reports(self, world: str, limit: int = 100) -> list[ReportRow]: ...
    def add_audit(self, world: str, actor: str, action: str, target: str, at: float, reason: str) -> int: ...
    def audit(self, world: str, limit: int = 100) -> list[AuditRow]: ...

    # events
    def put_event(self, key: str, world: str, data: dict[str, object]) -> None: ...
    def delete_event(self, key: str) -> None: ...
    def events(self) -> list[dict[str, object]]: ...
    def put_event_state(self, key: str, data: dict[str, object]) -> None: ...
    def event_states(self) -> dict[str, dict[str, object]]: ...
    def add_rsvp(self, event: str, user: str, at: float) -> bool: ...  # False if already there
    def delete_rsvp(self, event: str, user: str) -> bool: ...
    def rsvps(self, event: str | None = None) -> list[RsvpRow]: ...
    def mark_notified(self, event: str, user: str) -> None: ...
    def add_attendance(self, event: str, world: str, user: str, joined: float) -> int: ...
    def close_attendance(self, event: str, user: str, left_at: float) -> bool: ...
    def attendance(self, event: str | None = None) -> list[AttendanceRow]: ...

    def close(self) -> None: ...


class SQLiteHostingStore:
    """``HostingStore`` on SQLite. ``path`` may be ``":memory:"`` for tests."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        # Autocommit + one lock, like server.storage: the event loop writes, jobs may read.
        self._db = open_db(path, SCHEMA)
        self._lock = threading.Lock()

    def _all(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> int:
        """Execute one statement; returns the changed row count."""
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # ----- secret -------------------------------------------------------------------------------
    def secret(self) -> bytes:
        """The server's token secret, created on first start (so tokens survive restarts)."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO hosting_secret VALUES ('token', ?)", (secrets.token_bytes(32),))
            (value,) = self._db.execute("SELECT value FROM hosting_secret WHERE name = 'token'").fetchone()
        return bytes(value)

    # ----- accounts -----------------------------------------------------------------------------
    def add_account(self, row: AccountRow) -> bool:
        try:
            self._run(
                "INSERT INTO hosting_accounts VALUES (?,?,?,?)",
                (row.name_key, row.name, row.password_hash, row.created),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def get_account(self, name_key: str) -> AccountRow | None:
        rows = self._all("SELECT * FROM hosting_accounts WHERE name_key = ?", (name_key,))
        return AccountRow(*rows[0]) if rows else None  # type: ignore[arg-type]

    def account_exists(self, name_key: str) -> bool:
        return bool(self._all("SELECT 1 FROM hosting_accounts WHERE name_key = ?", (name_key,)))

    # ----- roles --------------------------------------------------------------------------------
    def set_grant(self, row: GrantRow) -> None:
        self._run(
            "INSERT OR REPLACE INTO hosting_grants VALUES (?,?,?,?,?)",
            (row.world, row.account, row.role, row.granted_by, row.at),
        )

    def delete_grant(self, world: str, account: str) -> bool:
        return self._run("DELETE FROM hosting_grants WHERE world = ? AND account = ?", (world, account)) > 0

    def grants(self, world: str) -> list[GrantRow]:
        rows = self._all("SELECT * FROM hosting_grants WHERE world = ? ORDER BY account", (world,))
        return [GrantRow(*r) for r in rows]  # type: ignore[arg-type]

    # ----- invites ------------------------------------------------------------------------------
    def add_invite(self, row: InviteRow) -> None:
        self._run(
            "INSERT INTO hosting_invites VALUES (?,?,?,?,?,?)",
            (row.id, row.world, row.created_by, row.created, row.expires, row.revoked),
        )

    def get_invite(self, invite_id: str) -> InviteRow | None:
        rows = self._all("SELECT * FROM hosting_invites WHERE id = ?", (invite_id,))
        return InviteRow(*rows[0]) if rows else None  # type: ignore[arg-type]

    def revoke_invite(self, invite_id: str, at: float) -> bool:
        return self._run("UPDATE hosting_invites SET revoked = ? WHERE id = ? AND revoked IS NULL", (at, invite_id)) > 0

    def invites(self, world: str) -> list[InviteRow]:
        rows = self._all("SELECT * FROM hosting_invites WHERE world = ? ORDER BY created", (world,))
        return [InviteRow(*r) for r in rows]  # type: ignore[arg-type]

    # ----- blocks and locks ---------------------------------------------------------------------
    def set_block(self, row: BlockRow) -> None:
        self._run(
            "INSERT OR REPLACE INTO hosting_blocks VALUES (?,?,?,?,?,?,?)",
            (row.kind, row.world, row.user, row.until, row.reason, row.by, row.at),
        )

    def delete_block(self, kind: str, world: str, user: str) -> bool:
        n = self._run("DELETE FROM hosting_blocks WHERE kind = ? AND world = ? AND user = ?", (kind, world, user))
        return n > 0

    def blocks(self, kind: str | None = None, world: str | None = None) -> list[BlockRow]:
        rows = self._all(
            "SELECT * FROM hosting_blocks WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR world = ?2) ORDER BY at",
            (kind, world),
        )
        return [BlockRow(*r) for r in rows]  # type: ignore[arg-type]

    def set_lock(self, world: str, by: str, at: float) -> None:
        self._run("INSERT OR REPLACE INTO hosting_locks VALUES (?,?,?)", (world, by, at))

    def delete_lock(self, world: str) -> None:
        self._run("DELETE FROM hosting_locks WHERE world = ?", (world,))

    def locked_worlds(self) -> set[str]:
        return {str(r[0]) for r in self._all("SELECT world FROM hosting_locks")}

    # ----- reports and audit --------------------------------------------------------------------
    def add_report(
        self, world: str, reporter: str, target: str, at: float, reason: str, context: dict[str, object]
    ) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO hosting_reports (world, reporter, target, at, reason, context) VALUES (?,?,?,?,?,?)",
                (world, reporter, target, at, reason, json.dumps(context)),
            )
            return int(cur.lastrowid or 0)

    def reports(self, world: str, limit: int = 100) -> list[ReportRow]:
        rows = self._all("SELECT * FROM hosting_reports WHERE world = ? ORDER BY id DESC LIMIT ?", (world, limit))
        return [ReportRow(*r[:6], context=json.loads(str(r[6]))) for r in rows]  # type: ignore[arg-type]

    def add_audit(self, world: str, actor: str, action: str, target: str, at: float, reason: str) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO hosting_audit (world, actor, action, target, at, reason) VALUES (?,?,?,?,?,?)",
                (world, actor, action, target, at, reason),
            )
            return int(cur.lastrowid or 0)

    def audit(self, world: str, limit: int = 100) -> list[AuditRow]:
        rows = self._all("SELECT * FROM hosting_audit WHERE world = ? ORDER BY id DESC LIMIT ?", (world, limit))
        return [AuditRow(*r) for r in rows]  # type: ignore[arg-type]

    # ----- events -------------------------------------------------------------------------------
    def put_event(self, key: str, world: str, data: dict[str, object]) -> None:
        self._run("INSERT OR REPLACE INTO hosting_events VALUES (?,?,?)", (key, world, json.dumps(data)))

    def delete_event(self, key: str) -> None:
        self._run("DELETE FROM hosting_events WHERE key = ?", (key,))

    def events(self) -> list[dict[str, object]]:
        return [json.loads(str(r[0])) for r in self._all("SELECT data FROM hosting_events ORDER BY key")]

    def put_event_state(self, key: str, data: dict[str, object]) -> None:
        self._run("INSERT OR REPLACE INTO hosting_event_state VALUES (?,?)", (key, json.dumps(data)))

    def event_states(self) -> dict[str, dict[str, object]]:
        return {str(k): json.loads(str(d)) for k, d in self._all("SELECT key, data FROM hosting_event_state")}

    def add_rsvp(self, event: str, user: str, at: float) -> bool:
        return self._run("INSERT OR IGNORE INTO hosting_rsvps VALUES (?,?,?,0)", (event, user, at)) > 0

    def delete_rsvp(self, event: str, user: str) -> bool:
        return self._run("DELETE FROM hosting_rsvps WHERE event = ? AND user = ?", (event, user)) > 0

    def rsvps(self, event: str | None = None) -> list[RsvpRow]:
        rows = self._all("SELECT * FROM hosting_rsvps WHERE (?1 IS NULL OR event = ?1) ORDER BY at", (event,))
        return [RsvpRow(str(e), str(u), float(a), bool(n)) for e, u, a, n in rows]  # type: ignore[arg-type]

    def mark_notified(self, event: str, user: str) -> None:
        self._run("UPDATE hosting_rsvps SET notified = 1 WHERE event = ? AND user = ?", (event, user))

    def add_attendance(self, event: str, world: str, user: str, joined: float) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO hosting_attendance (event, world, user, joined) VALUES (?,?,?,?)",
                (event, world, user, joined),
            )
            return int(cur.lastrowid or 0)

    def close_attendance(self, event: str, user: str, left_at: float) -> bool:
        n = self._run(
            "UPDATE hosting_attendance SET left_at = ? WHERE event = ? AND user = ? AND left_at IS NULL",
            (left_at, event, user),
        )
        return n > 0

    def attendance(self, event: str | None = None) -> list[AttendanceRow]:
        rows = self._all("SELECT * FROM hosting_attendance WHERE (?1 IS NULL OR event = ?1) ORDER BY id", (event,))
        return [AttendanceRow(*r) for r in rows]  # type: ignore[arg-type]

    def close(self) -> None:
        with self._lock:
            self._db.close()
