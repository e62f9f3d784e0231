"""Persistence for hosting: accounts, the token secret, roles, invites, moderation, events.

``HostingStore`` is the small interface the pure modules use; ``SQLiteHostingStore`` keeps its
own ``hosting_*`` tables in the server's database file (``plaza.sqlite3``) through its own
connection (WAL mode, so it and ``server.storage.SQLiteStorage`` do not block each other's readers).
The tables are defined by the one schema ladder of that file, ``server/migrations.py``, which
``open_db`` runs (whichever of the two stores opens the file first migrates it).
Every write commits immediately: moderation must survive a crash, and these writes are rare
(people's actions, not poses), so there is no write-behind here.

Times are Unix seconds (float). User keys are ``Principal.key`` strings (``a:<name>`` for an
account, ``g:<guest id>`` for a guest; see identity.py).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from server.migrations import transaction
from server.storage import open_db


@dataclass(frozen=True, slots=True)
class AccountRow:
    name_key: str  # lower-cased user name: uniqueness is case-insensitive
    name: str  # as registered (display spelling)
    password_hash: str
    created: float


@dataclass(frozen=True, slots=True)
class AccountMeta:
    """``hosting_account_meta`` (migration 6): what tokens are bound to besides the name."""

    name_key: str
    account_id: str  # random, made at registration: tokens carry it, so they die with the account
    epoch: int  # token generation: "sign out everywhere" and password changes bump it


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
    # The token secret lives in <data_dir>/secret.key (keyfile.py); older servers kept it in
    # the database: this returns that value once (and removes it) so it can be moved there.
    def take_legacy_secret(self) -> bytes | None: ...

    # accounts
    def add_account(self, row: AccountRow) -> bool: ...  # False when the name_key exists
    def get_account(self, name_key: str) -> AccountRow | None: ...
    def account_exists(self, name_key: str) -> bool: ...
    def accounts(self) -> list[AccountRow]: ...
    def set_password_hash(self, name_key: str, password_hash: str) -> bool: ...
    def delete_account(self, name_key: str) -> bool: ...  # the account and its meta row
    def account_meta(self, name_key: str) -> AccountMeta | None: ...
    def set_account_meta(self, meta: AccountMeta) -> None: ...
    def bump_epoch(self, name_key: str) -> int: ...  # returns the new epoch

    # privacy: everything naming one person (user key a:<name> / g:<id>); see server/privacy.py
    def export_user(self, user: str) -> dict[str, object]: ...
    def delete_user(self, user: str, hold_until: float) -> dict[str, int]: ...
    def purge_holds(self, now: float) -> int: ...

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
    def event_states(self) -> dict[str, dict[str, Any]]: ...  # JSON objects
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
        self._db = open_db(path)
        self._lock = threading.Lock()

    def _all(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:  # sqlite3 rows are untyped
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> int:
        """Execute one statement; returns the changed row count."""
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # ----- legacy secret ------------------------------------------------------------------------
    def take_legacy_secret(self) -> bytes | None:
        """The token secret an older server kept in ``hosting_secret``, removed from the database
        (``keyfile.load_or_create_secret`` writes it to secret.key, so old tokens keep working)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM hosting_secret WHERE name = 'token'").fetchone()
            if row is None:
                return None
            self._db.execute("DELETE FROM hosting_secret WHERE name = 'token'")
        return bytes(row[0])

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
        return AccountRow(*rows[0]) if rows else None

    def account_exists(self, name_key: str) -> bool:
        return bool(self._all("SELECT 1 FROM hosting_accounts WHERE name_key = ?", (name_key,)))

    def accounts(self) -> list[AccountRow]:
        return [AccountRow(*r) for r in self._all("SELECT * FROM hosting_accounts ORDER BY name_key")]

    def set_password_hash(self, name_key: str, password_hash: str) -> bool:
        n = self._run("UPDATE hosting_accounts SET password_hash = ? WHERE name_key = ?", (password_hash, name_key))
        return n > 0

    def delete_account(self, name_key: str) -> bool:
        with self._lock, transaction(self._db):
            n = self._db.execute("DELETE FROM hosting_accounts WHERE name_key = ?", (name_key,)).rowcount
            self._db.execute("DELETE FROM hosting_account_meta WHERE name_key = ?", (name_key,))
        return n > 0

    def account_meta(self, name_key: str) -> AccountMeta | None:
        rows = self._all("SELECT name_key, account_id, epoch FROM hosting_account_meta WHERE name_key = ?", (name_key,))
        return AccountMeta(str(rows[0][0]), str(rows[0][1]), int(rows[0][2])) if rows else None

    def set_account_meta(self, meta: AccountMeta) -> None:
        self._run(
            "INSERT OR REPLACE INTO hosting_account_meta VALUES (?,?,?)", (meta.name_key, meta.account_id, meta.epoch)
        )

    def bump_epoch(self, name_key: str) -> int:
        with self._lock:
            self._db.execute("UPDATE hosting_account_meta SET epoch = epoch + 1 WHERE name_key = ?", (name_key,))
            row = self._db.execute("SELECT epoch FROM hosting_account_meta WHERE name_key = ?", (name_key,)).fetchone()
        return int(row[0]) if row else 0

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
        return [GrantRow(*r) for r in rows]

    # ----- invites ------------------------------------------------------------------------------
    def add_invite(self, row: InviteRow) -> None:
        self._run(
            "INSERT INTO hosting_invites VALUES (?,?,?,?,?,?)",
            (row.id, row.world, row.created_by, row.created, row.expires, row.revoked),
        )

    def get_invite(self, invite_id: str) -> InviteRow | None:
        rows = self._all("SELECT * FROM hosting_invites WHERE id = ?", (invite_id,))
        return InviteRow(*rows[0]) if rows else None

    def revoke_invite(self, invite_id: str, at: float) -> bool:
        return self._run("UPDATE hosting_invites SET revoked = ? WHERE id = ? AND revoked IS NULL", (at, invite_id)) > 0

    def invites(self, world: str) -> list[InviteRow]:
        rows = self._all("SELECT * FROM hosting_invites WHERE world = ? ORDER BY created", (world,))
        return [InviteRow(*r) for r in rows]

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
        return [BlockRow(*r) for r in rows]

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
        return [
            ReportRow(*cast("tuple[int, str, str, str, float, str]", r[:6]), context=json.loads(str(r[6])))
            for r in rows
        ]

    def add_audit(self, world: str, actor: str, action: str, target: str, at: float, reason: str) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO hosting_audit (world, actor, action, target, at, reason) VALUES (?,?,?,?,?,?)",
                (world, actor, action, target, at, reason),
            )
            return int(cur.lastrowid or 0)

    def audit(self, world: str, limit: int = 100) -> list[AuditRow]:
        rows = self._all("SELECT * FROM hosting_audit WHERE world = ? ORDER BY id DESC LIMIT ?", (world, limit))
        return [AuditRow(*r) for r in rows]

    # ----- events -------------------------------------------------------------------------------
    def put_event(self, key: str, world: str, data: dict[str, object]) -> None:
        self._run("INSERT OR REPLACE INTO hosting_events VALUES (?,?,?)", (key, world, json.dumps(data)))

    def delete_event(self, key: str) -> None:
        self._run("DELETE FROM hosting_events WHERE key = ?", (key,))

    def events(self) -> list[dict[str, object]]:
        return [json.loads(str(r[0])) for r in self._all("SELECT data FROM hosting_events ORDER BY key")]

    def put_event_state(self, key: str, data: dict[str, object]) -> None:
        self._run("INSERT OR REPLACE INTO hosting_event_state VALUES (?,?)", (key, json.dumps(data)))

    def event_states(self) -> dict[str, dict[str, Any]]:
        return {str(k): json.loads(str(d)) for k, d in self._all("SELECT key, data FROM hosting_event_state")}

    def add_rsvp(self, event: str, user: str, at: float) -> bool:
        return self._run("INSERT OR IGNORE INTO hosting_rsvps VALUES (?,?,?,0)", (event, user, at)) > 0

    def delete_rsvp(self, event: str, user: str) -> bool:
        return self._run("DELETE FROM hosting_rsvps WHERE event = ? AND user = ?", (event, user)) > 0

    def rsvps(self, event: str | None = None) -> list[RsvpRow]:
        rows = self._all("SELECT * FROM hosting_rsvps WHERE (?1 IS NULL OR event = ?1) ORDER BY at", (event,))
        return [RsvpRow(str(e), str(u), float(a), bool(n)) for e, u, a, n in rows]

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
        return [AttendanceRow(*r) for r in rows]

    # ----- privacy (server/privacy.py) -----------------------------------------------------------
    def export_user(self, user: str) -> dict[str, object]:
        """Every hosting row naming ``user`` (a user key), for the person themselves. The password
        hash and the account's token binding stay out; reports *about* them come without the
        reporter or the chat context (that is other people's data)."""
        account = user[2:] if user.startswith("a:") else None
        q = self._all
        acct = q("SELECT name_key, name, created FROM hosting_accounts WHERE name_key = ?", (account,))
        return {
            "account": dict(zip(("name_key", "name", "created"), acct[0], strict=True)) if acct else None,
            "roles": [
                dict(zip(("world", "role", "granted_by", "at"), r, strict=True))
                for r in q("SELECT world, role, granted_by, at FROM hosting_grants WHERE account = ?", (account,))
            ],
            "roles_granted": [
                dict(zip(("world", "account", "role", "at"), r, strict=True))
                for r in q("SELECT world, account, role, at FROM hosting_grants WHERE granted_by = ?", (user,))
            ],
            "invites_created": [
                dict(zip(("id", "world", "created", "expires", "revoked"), r, strict=True))
                for r in q(
                    "SELECT id, world, created, expires, revoked FROM hosting_invites WHERE created_by = ?", (user,)
                )
            ],
            "blocks": [  # bans, mutes, kicks of this person
                dict(zip(("kind", "world", "until", "reason", "by", "at"), r, strict=True))
                for r in q("SELECT kind, world, until, reason, by, at FROM hosting_blocks WHERE user = ?", (user,))
            ],
            "reports_by": [
                {**dict(zip(("id", "world", "target", "at", "reason"), r[:5], strict=True)), "context": json.loads(c)}
                for r in q(
                    "SELECT id, world, target, at, reason, context FROM hosting_reports WHERE reporter = ? ORDER BY id",
                    (user,),
                )
                for c in [str(r[5])]
            ],
            "reports_about": [
                dict(zip(("id", "world", "at", "reason"), r, strict=True))
                for r in q("SELECT id, world, at, reason FROM hosting_reports WHERE target = ? ORDER BY id", (user,))
            ],
            "audit": [
                dict(zip(("id", "world", "actor", "action", "target", "at", "reason"), r, strict=True))
                for r in q(
                    "SELECT id, world, actor, action, target, at, reason FROM hosting_audit"
                    " WHERE actor = ?1 OR target = ?1 ORDER BY id",
                    (user,),
                )
            ],
            "rsvps": [
                {"event": e, "at": a, "notified": bool(n)}
                for e, a, n in q("SELECT event, at, notified FROM hosting_rsvps WHERE user = ? ORDER BY at", (user,))
            ],
            "attendance": [
                dict(zip(("event", "world", "joined", "left"), r, strict=True))
                for r in q(
                    "SELECT event, world, joined, left_at FROM hosting_attendance WHERE user = ? ORDER BY id", (user,)
                )
            ],
            "events": [
                d
                for (data,) in q("SELECT data FROM hosting_events ORDER BY key")
                if (d := json.loads(str(data))).get("created_by") == user
                or (account is not None and str(d.get("host", "")).lower() == account)
            ],
        }

    def delete_user(self, user: str, hold_until: float) -> dict[str, int]:
        """Delete or anonymise every hosting row naming ``user``, in one transaction; returns
        rows touched per table. Reports *about* them are kept (held) until ``hold_until`` for
        the moderators, then ``purge_holds`` deletes them. Where a row is someone else's record
        (an audit entry, a grant or an invite they made), their key becomes ``"deleted"``."""
        account = user[2:] if user.startswith("a:") else None
        gone = "deleted"
        gu = (gone, user)
        n: dict[str, int] = {}
        with self._lock, transaction(self._db):
            x = self._db.execute
            n["hosting_accounts"] = x("DELETE FROM hosting_accounts WHERE name_key = ?", (account,)).rowcount
            x("DELETE FROM hosting_account_meta WHERE name_key = ?", (account,))
            n["hosting_grants"] = x("DELETE FROM hosting_grants WHERE account = ?", (account,)).rowcount
            n["hosting_grants"] += x("UPDATE hosting_grants SET granted_by = ?1 WHERE granted_by = ?2", gu).rowcount
            n["hosting_invites"] = x("UPDATE hosting_invites SET created_by = ?1 WHERE created_by = ?2", gu).rowcount
            n["hosting_blocks"] = x("DELETE FROM hosting_blocks WHERE user = ?", (user,)).rowcount
            n["hosting_blocks"] += x("UPDATE hosting_blocks SET by = ?1 WHERE by = ?2", gu).rowcount
            n["hosting_locks"] = x("UPDATE hosting_locks SET by = ?1 WHERE by = ?2", gu).rowcount
            x(
                "DELETE FROM hosting_report_holds"
                " WHERE report_id IN (SELECT id FROM hosting_reports WHERE reporter = ?)",
                (user,),
            )
            n["hosting_reports"] = x("DELETE FROM hosting_reports WHERE reporter = ?", (user,)).rowcount
            n["hosting_report_holds"] = x(
                "INSERT OR IGNORE INTO hosting_report_holds SELECT id, ? FROM hosting_reports WHERE target = ?",
                (hold_until, user),
            ).rowcount
            # Their chat lines quoted as context in reports about other people.
            for rid, ctx in x(
                "SELECT id, context FROM hosting_reports WHERE target != ? AND instr(context, ?) > 0", (user, user)
            ).fetchall():
                c = json.loads(ctx)
                c["chat"] = [
                    {**ln, "user": gone, "name": "[deleted]", "text": "[deleted]"} if ln.get("user") == user else ln
                    for ln in c.get("chat", [])
                ]
                x("UPDATE hosting_reports SET context = ? WHERE id = ?", (json.dumps(c), rid))
                n["hosting_reports"] += 1
            n["hosting_audit"] = x(
                "UPDATE hosting_audit SET actor = CASE actor WHEN ?1 THEN ?2 ELSE actor END,"
                " target = CASE target WHEN ?1 THEN ?2 ELSE target END, reason = replace(reason, ?1, ?2)"
                " WHERE actor = ?1 OR target = ?1 OR instr(reason, ?1) > 0",
                (user, gone),
            ).rowcount
            n["hosting_events"] = 0
            for key, data in x("SELECT key, data FROM hosting_events").fetchall():
                d = json.loads(data)
                if account is not None and str(d.get("host", "")).lower() == account:
                    x("DELETE FROM hosting_events WHERE key = ?", (key,))  # an event hosted by nobody
                    x("DELETE FROM hosting_event_state WHERE key = ?", (key,))
                    x("DELETE FROM hosting_rsvps WHERE event = ?", (key,))
                    n["hosting_events"] += 1
                elif d.get("created_by") == user:
                    x("UPDATE hosting_events SET data = ? WHERE key = ?", (json.dumps({**d, "created_by": gone}), key))
                    n["hosting_events"] += 1
            n["hosting_event_state"] = 0
            states = x("SELECT key, data FROM hosting_event_state WHERE instr(data, ?) > 0", (user,)).fetchall()
            for key, data in states:
                d = json.loads(data)
                d["spotlight"] = [i for i in d.get("spotlight", []) if i != user]
                x("UPDATE hosting_event_state SET data = ? WHERE key = ?", (json.dumps(d), key))
                n["hosting_event_state"] += 1
            n["hosting_rsvps"] = x("DELETE FROM hosting_rsvps WHERE user = ?", (user,)).rowcount
            n["hosting_attendance"] = x("DELETE FROM hosting_attendance WHERE user = ?", (user,)).rowcount
        return n

    def purge_holds(self, now: float) -> int:
        """Delete the held reports about deleted people whose hold has ended; returns how many."""
        with self._lock, transaction(self._db):
            due = self._db.execute("SELECT report_id FROM hosting_report_holds WHERE until <= ?", (now,))
            ids = [r[0] for r in due.fetchall()]
            for rid in ids:
                self._db.execute("DELETE FROM hosting_reports WHERE id = ?", (rid,))
                self._db.execute("DELETE FROM hosting_report_holds WHERE report_id = ?", (rid,))
        return len(ids)

    def close(self) -> None:
        with self._lock:
            self._db.close()
