"""``Storage`` and ``HostingStore`` on PostgreSQL (psycopg 3), for nodes that share one database.

The same interfaces and the same behaviour as the SQLite stores (``server.storage``,
``server.hosting.store``): tests/contract/ runs one suite against both. Calls are blocking like
SQLite's (the server already calls them in threads where they could be slow), each store holds
one connection in autocommit mode behind a lock, and a batch or a multi-statement change runs in
one transaction. A connection that broke (the database restarted, the network dropped) is
replaced on the next call; the call that found it broken raises, and the duty that made it
(the write-behind, retention) logs it and retries next period.

``database`` is a libpq URL: ``postgresql://user:password@host:5432/plaza`` (or
``postgresql:///plaza?host=/run/postgresql`` for a Unix socket).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import psycopg

from server.backends import pgschema
from server.hosting.store import (
    AccountMeta,
    AccountRow,
    AttendanceRow,
    AuditRow,
    BlockRow,
    GrantRow,
    InviteRow,
    ReportRow,
    RsvpRow,
)
from server.messages import Pose7, SpawnedRow
from server.recommend.signals import Signals, Visit
from server.storage import (
    MAX_LIKES_PER_USER,
    InvalidSignal,
    ObjectRow,
    check_item,
    check_tags,
    signals_from_rows,
    user_export,
)

log = logging.getLogger("plaza.postgres")

Row = tuple[Any, ...]


def redact(url: str) -> str:
    """The URL without its password, for log lines and errors."""
    u = urlsplit(url)
    if u.password is None:
        return url
    netloc = f"{u.username}:***@{u.hostname}" + (f":{u.port}" if u.port else "")
    return urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment))


def is_postgres_url(url: str) -> bool:
    return urlsplit(url).scheme in ("postgres", "postgresql")


class _Conn:
    """One autocommit connection behind a lock, reopened when it broke; migrates on first open."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = redact(url)
        self._lock = threading.RLock()
        self._conn = self._open()
        pgschema.migrate(self._conn, self.name)

    def _open(self) -> psycopg.Connection[Row]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=10)

    @contextmanager
    def cursor(self, transaction: bool = False) -> Iterator[psycopg.Cursor[Row]]:
        with self._lock:
            if self._conn.closed or self._conn.broken:
                log.warning("PostgreSQL connection to %s was lost; reconnecting", self.name)
                self._conn = self._open()
            if transaction:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield cur
            else:
                with self._conn.cursor() as cur:
                    yield cur

    def all(self, sql: str, args: tuple[object, ...] | Mapping[str, object] = ()) -> list[Row]:
        with self.cursor() as c:
            c.execute(sql.encode(), args)
            return c.fetchall()

    def run(self, sql: str, args: tuple[object, ...] | Mapping[str, object] = ()) -> int:
        with self.cursor() as c:
            c.execute(sql.encode(), args)
            return c.rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _q(sql: str) -> bytes:
    # psycopg types a str query as LiteralString; ours are constants built in this module.
    return sql.encode()


class PostgresStorage:
    """``server.storage.Storage`` on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db = _Conn(url)

    def load_objects(self, world: str, instance: int) -> dict[str, Pose7]:
        rows = self._db.all(
            "SELECT object, px, py, pz, qx, qy, qz, qw FROM object_state WHERE world = %s AND instance = %s",
            (world, instance),
        )
        return {r[0]: cast("Pose7", tuple(r[1:])) for r in rows}

    def save_objects(self, rows: list[ObjectRow]) -> None:
        if not rows:
            return
        with self._db.cursor(transaction=True) as c:
            c.executemany(
                _q(
                    "INSERT INTO object_state VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
                    " ON CONFLICT (world, instance, object) DO UPDATE SET"
                    " px=excluded.px, py=excluded.py, pz=excluded.pz,"
                    " qx=excluded.qx, qy=excluded.qy, qz=excluded.qz, qw=excluded.qw"
                ),
                [(w, i, o, *p) for w, i, o, p in rows],
            )

    def reset_objects(self, world: str, object_ids: list[str]) -> None:
        if object_ids:
            self._db.run("DELETE FROM object_state WHERE world = %s AND object = ANY(%s)", (world, list(object_ids)))

    # ----- recommender signals ------------------------------------------------------------
    def log_visits(self, visits: list[tuple[Visit, int]]) -> None:
        if not visits:
            return
        with self._db.cursor(transaction=True) as c:
            c.executemany(
                _q(
                    "INSERT INTO visits (user_key, world, instance, start_ts, end_ts, friends, chat_count)"
                    " VALUES (%s,%s,%s,%s,%s,%s,%s)"
                ),
                [
                    (v.user_id, v.world_id, v.instance_id, v.start_ts, v.end_ts, ",".join(v.friends_present), chats)
                    for v, chats in visits
                ],
            )

    def follow(self, follower: str, followee: str, ts: float, on: bool = True) -> None:
        if on:
            self._db.run("INSERT INTO follows VALUES (%s,%s,%s) ON CONFLICT DO NOTHING", (follower, followee, ts))
        else:
            self._db.run("DELETE FROM follows WHERE follower = %s AND followee = %s", (follower, followee))

    def like(self, user: str, item: str, ts: float, on: bool = True) -> None:
        check_item(item)
        if not on:
            self._db.run("DELETE FROM likes WHERE user_key = %s AND item = %s", (user, item))
            return
        with self._db.cursor(transaction=True) as c:
            # Serialise one person's likes so two at once cannot both pass the count.
            c.execute(_q("SELECT pg_advisory_xact_lock(hashtext(%s))"), (f"likes:{user}",))
            c.execute(_q("SELECT 1 FROM likes WHERE user_key = %s AND item = %s"), (user, item))
            if c.fetchone() is None:
                c.execute(_q("SELECT COUNT(*) FROM likes WHERE user_key = %s"), (user,))
                row = c.fetchone()
                if row is not None and int(row[0]) >= MAX_LIKES_PER_USER:
                    raise InvalidSignal(f"at most {MAX_LIKES_PER_USER} likes; unlike something first")
            c.execute(
                _q("INSERT INTO likes VALUES (%s,%s,%s) ON CONFLICT (user_key, item) DO UPDATE SET ts = excluded.ts"),
                (user, item, ts),
            )

    def set_interests(self, user: str, tags: list[str]) -> None:
        check_tags(tags)
        self._db.run(
            "INSERT INTO interests VALUES (%s,%s) ON CONFLICT (user_key) DO UPDATE SET tags = excluded.tags",
            (user, ",".join(tags)),
        )

    def follows_of(self, user: str) -> set[str]:
        return {r[0] for r in self._db.all("SELECT followee FROM follows WHERE follower = %s", (user,))}

    def load_signals(self, since_ts: float = 0.0) -> Signals:
        with self._db.cursor(transaction=True) as c:  # one consistent snapshot of the four tables
            c.execute(
                _q(
                    "SELECT user_key, world, instance, start_ts, end_ts, friends, chat_count FROM visits"
                    " WHERE end_ts >= %s ORDER BY id"
                ),
                (since_ts,),
            )
            visits = c.fetchall()
            follows = c.execute(_q("SELECT follower, followee, ts FROM follows")).fetchall()
            likes = c.execute(_q("SELECT user_key, item, ts FROM likes WHERE ts >= %s"), (since_ts,)).fetchall()
            interests = c.execute(_q("SELECT user_key, tags FROM interests")).fetchall()
        return signals_from_rows(visits, follows, likes, interests)

    def export_user(self, user: str) -> dict[str, object]:
        q = self._db.all
        return user_export(
            user,
            q(
                "SELECT world, instance, start_ts, end_ts, friends, chat_count FROM visits"
                " WHERE user_key = %s ORDER BY id",
                (user,),
            ),
            q("SELECT followee FROM follows WHERE follower = %s", (user,)),
            q("SELECT follower FROM follows WHERE followee = %s", (user,)),
            q("SELECT item, ts FROM likes WHERE user_key = %s", (user,)),
            q("SELECT tags FROM interests WHERE user_key = %s", (user,)),
        )

    def delete_user(self, user: str) -> int:
        with self._db.cursor(transaction=True) as c:
            n = c.execute(_q("DELETE FROM visits WHERE user_key = %s"), (user,)).rowcount
            n += c.execute(_q("DELETE FROM follows WHERE follower = %s OR followee = %s"), (user, user)).rowcount
            n += c.execute(_q("DELETE FROM likes WHERE user_key = %s"), (user,)).rowcount
            n += c.execute(_q("DELETE FROM interests WHERE user_key = %s"), (user,)).rowcount
            rows = c.execute(
                _q("SELECT id, friends FROM visits WHERE strpos(',' || friends || ',', %s) > 0"), (f",{user},",)
            ).fetchall()
            for rid, friends in rows:
                kept = ",".join(f for f in friends.split(",") if f and f != user)
                c.execute(_q("UPDATE visits SET friends = %s WHERE id = %s"), (kept, rid))
            n += len(rows)
        return n

    def purge(self, before_ts: float) -> dict[str, int]:
        with self._db.cursor(transaction=True) as c:
            return {
                "visits": c.execute(_q("DELETE FROM visits WHERE end_ts < %s"), (before_ts,)).rowcount,
                "likes": c.execute(_q("DELETE FROM likes WHERE ts < %s"), (before_ts,)).rowcount,
            }

    def purge_before(self, ts: float) -> int:
        return sum(self.purge(ts).values())

    def mark_removed(self, rows: list[tuple[str, str]]) -> None:
        if rows:
            with self._db.cursor(transaction=True) as c:
                c.executemany(_q("INSERT INTO removed_objects VALUES (%s,%s) ON CONFLICT DO NOTHING"), rows)

    def removed_objects(self, world: str) -> set[str]:
        return {r[0] for r in self._db.all("SELECT object FROM removed_objects WHERE world = %s", (world,))}

    def save_spawned(self, rows: list[SpawnedRow]) -> None:
        if rows:
            with self._db.cursor(transaction=True) as c:
                # A re-made object moves to the end of the order (a new seq), as SQLite's
                # INSERT OR REPLACE gives it a new rowid.
                c.executemany(
                    _q(
                        "INSERT INTO spawned_objects (world, instance, object, px, py, pz, info)"
                        " VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (world, instance, object) DO UPDATE SET"
                        " px=excluded.px, py=excluded.py, pz=excluded.pz, info=excluded.info, seq=excluded.seq"
                    ),
                    [(w, i, o, *pos, json.dumps(info)) for w, i, o, pos, info in rows],
                )

    def load_spawned(self, world: str, instance: int) -> list[SpawnedRow]:
        rows = self._db.all(
            "SELECT object, px, py, pz, info FROM spawned_objects WHERE world = %s AND instance = %s ORDER BY seq",
            (world, instance),
        )
        return [(world, instance, r[0], (r[1], r[2], r[3]), json.loads(r[4])) for r in rows]

    def snapshot(self) -> tuple[list[ObjectRow], list[tuple[str, str]], list[SpawnedRow]]:
        with self._db.cursor(transaction=True) as c:
            poses = c.execute(
                _q("SELECT world, instance, object, px, py, pz, qx, qy, qz, qw FROM object_state")
            ).fetchall()
            removed = c.execute(_q("SELECT world, object FROM removed_objects")).fetchall()
            spawned = c.execute(
                _q("SELECT world, instance, object, px, py, pz, info FROM spawned_objects ORDER BY seq")
            ).fetchall()
        return (
            [(r[0], r[1], r[2], cast("Pose7", tuple(r[3:]))) for r in poses],
            [(r[0], r[1]) for r in removed],
            [(r[0], r[1], r[2], (r[3], r[4], r[5]), json.loads(r[6])) for r in spawned],
        )

    def close(self) -> None:
        self._db.close()


class PostgresHostingStore:
    """``server.hosting.store.HostingStore`` on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db = _Conn(url)

    def take_legacy_secret(self) -> bytes | None:
        with self._db.cursor(transaction=True) as c:
            row = c.execute(_q("DELETE FROM hosting_secret WHERE name = 'token' RETURNING value")).fetchone()
        return bytes(row[0]) if row else None

    # ----- accounts -----------------------------------------------------------------------------
    def add_account(self, row: AccountRow) -> bool:
        n = self._db.run(
            "INSERT INTO hosting_accounts VALUES (%s,%s,%s,%s) ON CONFLICT DO NOTHING",
            (row.name_key, row.name, row.password_hash, row.created),
        )
        return n > 0

    def get_account(self, name_key: str) -> AccountRow | None:
        rows = self._db.all(
            "SELECT name_key, name, password_hash, created FROM hosting_accounts WHERE name_key = %s", (name_key,)
        )
        return AccountRow(*rows[0]) if rows else None

    def account_exists(self, name_key: str) -> bool:
        return bool(self._db.all("SELECT 1 FROM hosting_accounts WHERE name_key = %s", (name_key,)))

    def accounts(self) -> list[AccountRow]:
        rows = self._db.all("SELECT name_key, name, password_hash, created FROM hosting_accounts ORDER BY name_key")
        return [AccountRow(*r) for r in rows]

    def set_password_hash(self, name_key: str, password_hash: str) -> bool:
        n = self._db.run(
            "UPDATE hosting_accounts SET password_hash = %s WHERE name_key = %s", (password_hash, name_key)
        )
        return n > 0

    def delete_account(self, name_key: str) -> bool:
        with self._db.cursor(transaction=True) as c:
            n = c.execute(_q("DELETE FROM hosting_accounts WHERE name_key = %s"), (name_key,)).rowcount
            c.execute(_q("DELETE FROM hosting_account_meta WHERE name_key = %s"), (name_key,))
        return n > 0

    def account_meta(self, name_key: str) -> AccountMeta | None:
        rows = self._db.all(
            "SELECT name_key, account_id, epoch FROM hosting_account_meta WHERE name_key = %s", (name_key,)
        )
        return AccountMeta(str(rows[0][0]), str(rows[0][1]), int(rows[0][2])) if rows else None

    def set_account_meta(self, meta: AccountMeta) -> None:
        self._db.run(
            "INSERT INTO hosting_account_meta VALUES (%s,%s,%s) ON CONFLICT (name_key) DO UPDATE SET"
            " account_id = excluded.account_id, epoch = excluded.epoch",
            (meta.name_key, meta.account_id, meta.epoch),
        )

    def bump_epoch(self, name_key: str) -> int:
        rows = self._db.all(
            "UPDATE hosting_account_meta SET epoch = epoch + 1 WHERE name_key = %s RETURNING epoch", (name_key,)
        )
        return int(rows[0][0]) if rows else 0

    # ----- roles --------------------------------------------------------------------------------
    def set_grant(self, row: GrantRow) -> None:
        self._db.run(
            "INSERT INTO hosting_grants VALUES (%s,%s,%s,%s,%s) ON CONFLICT (world, account) DO UPDATE SET"
            " role = excluded.role, granted_by = excluded.granted_by, at = excluded.at",
            (row.world, row.account, row.role, row.granted_by, row.at),
        )

    def delete_grant(self, world: str, account: str) -> bool:
        return self._db.run("DELETE FROM hosting_grants WHERE world = %s AND account = %s", (world, account)) > 0

    def grants(self, world: str) -> list[GrantRow]:
        rows = self._db.all(
            "SELECT world, account, role, granted_by, at FROM hosting_grants WHERE world = %s ORDER BY account",
            (world,),
        )
        return [GrantRow(*r) for r in rows]

    # ----- invites ------------------------------------------------------------------------------
    def add_invite(self, row: InviteRow) -> None:
        self._db.run(
            "INSERT INTO hosting_invites VALUES (%s,%s,%s,%s,%s,%s)",
            (row.id, row.world, row.created_by, row.created, row.expires, row.revoked),
        )

    def get_invite(self, invite_id: str) -> InviteRow | None:
        rows = self._db.all(
            "SELECT id, world, created_by, created, expires, revoked FROM hosting_invites WHERE id = %s", (invite_id,)
        )
        return InviteRow(*rows[0]) if rows else None

    def revoke_invite(self, invite_id: str, at: float) -> bool:
        n = self._db.run("UPDATE hosting_invites SET revoked = %s WHERE id = %s AND revoked IS NULL", (at, invite_id))
        return n > 0

    def invites(self, world: str) -> list[InviteRow]:
        rows = self._db.all(
            "SELECT id, world, created_by, created, expires, revoked FROM hosting_invites"
            " WHERE world = %s ORDER BY created",
            (world,),
        )
        return [InviteRow(*r) for r in rows]

    # ----- blocks and locks ---------------------------------------------------------------------
    def set_block(self, row: BlockRow) -> None:
        self._db.run(
            "INSERT INTO hosting_blocks VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (kind, world, user_key) DO UPDATE SET"
            " until = excluded.until, reason = excluded.reason, by_key = excluded.by_key, at = excluded.at",
            (row.kind, row.world, row.user, row.until, row.reason, row.by, row.at),
        )

    def delete_block(self, kind: str, world: str, user: str) -> bool:
        n = self._db.run(
            "DELETE FROM hosting_blocks WHERE kind = %s AND world = %s AND user_key = %s", (kind, world, user)
        )
        return n > 0

    def blocks(self, kind: str | None = None, world: str | None = None) -> list[BlockRow]:
        rows = self._db.all(
            "SELECT kind, world, user_key, until, reason, by_key, at FROM hosting_blocks"
            " WHERE (%(kind)s::text IS NULL OR kind = %(kind)s) AND (%(world)s::text IS NULL OR world = %(world)s)"
            " ORDER BY at",
            {"kind": kind, "world": world},
        )
        return [BlockRow(*r) for r in rows]

    def set_lock(self, world: str, by: str, at: float) -> None:
        self._db.run(
            "INSERT INTO hosting_locks VALUES (%s,%s,%s)"
            " ON CONFLICT (world) DO UPDATE SET by_key = excluded.by_key, at = excluded.at",
            (world, by, at),
        )

    def delete_lock(self, world: str) -> None:
        self._db.run("DELETE FROM hosting_locks WHERE world = %s", (world,))

    def locked_worlds(self) -> set[str]:
        return {str(r[0]) for r in self._db.all("SELECT world FROM hosting_locks")}

    # ----- reports and audit --------------------------------------------------------------------
    def add_report(
        self, world: str, reporter: str, target: str, at: float, reason: str, context: dict[str, object]
    ) -> int:
        rows = self._db.all(
            "INSERT INTO hosting_reports (world, reporter, target, at, reason, context)"
            " VALUES (%s,%s,%s,%s,%s,%s) RETURNING id",
            (world, reporter, target, at, reason, json.dumps(context)),
        )
        return int(rows[0][0])

    def reports(self, world: str, limit: int = 100) -> list[ReportRow]:
        rows = self._db.all(
            "SELECT id, world, reporter, target, at, reason, context FROM hosting_reports"
            " WHERE world = %s ORDER BY id DESC LIMIT %s",
            (world, limit),
        )
        return [ReportRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], context=json.loads(str(r[6]))) for r in rows]

    def add_audit(self, world: str, actor: str, action: str, target: str, at: float, reason: str) -> int:
        rows = self._db.all(
            "INSERT INTO hosting_audit (world, actor, action, target, at, reason)"
            " VALUES (%s,%s,%s,%s,%s,%s) RETURNING id",
            (world, actor, action, target, at, reason),
        )
        return int(rows[0][0])

    def audit(self, world: str, limit: int = 100) -> list[AuditRow]:
        rows = self._db.all(
            "SELECT id, world, actor, action, target, at, reason FROM hosting_audit"
            " WHERE world = %s ORDER BY id DESC LIMIT %s",
            (world, limit),
        )
        return [AuditRow(int(r[0]), *r[1:]) for r in rows]

    # ----- events -------------------------------------------------------------------------------
    def put_event(self, key: str, world: str, data: dict[str, object]) -> None:
        self._db.run(
            "INSERT INTO hosting_events VALUES (%s,%s,%s)"
            " ON CONFLICT (key) DO UPDATE SET world = excluded.world, data = excluded.data",
            (key, world, json.dumps(data)),
        )

    def delete_event(self, key: str) -> None:
        self._db.run("DELETE FROM hosting_events WHERE key = %s", (key,))

    def events(self) -> list[dict[str, object]]:
        return [json.loads(str(r[0])) for r in self._db.all("SELECT data FROM hosting_events ORDER BY key")]

    def put_event_state(self, key: str, data: dict[str, object]) -> None:
        self._db.run(
            "INSERT INTO hosting_event_state VALUES (%s,%s) ON CONFLICT (key) DO UPDATE SET data = excluded.data",
            (key, json.dumps(data)),
        )

    def event_states(self) -> dict[str, dict[str, Any]]:
        return {str(k): json.loads(str(d)) for k, d in self._db.all("SELECT key, data FROM hosting_event_state")}

    def add_rsvp(self, event: str, user: str, at: float) -> bool:
        n = self._db.run("INSERT INTO hosting_rsvps VALUES (%s,%s,%s,FALSE) ON CONFLICT DO NOTHING", (event, user, at))
        return n > 0

    def delete_rsvp(self, event: str, user: str) -> bool:
        return self._db.run("DELETE FROM hosting_rsvps WHERE event = %s AND user_key = %s", (event, user)) > 0

    def rsvps(self, event: str | None = None) -> list[RsvpRow]:
        rows = self._db.all(
            "SELECT event, user_key, at, notified FROM hosting_rsvps"
            " WHERE (%(e)s::text IS NULL OR event = %(e)s) ORDER BY at",
            {"e": event},
        )
        return [RsvpRow(str(e), str(u), float(a), bool(n)) for e, u, a, n in rows]

    def mark_notified(self, event: str, user: str) -> None:
        self._db.run("UPDATE hosting_rsvps SET notified = TRUE WHERE event = %s AND user_key = %s", (event, user))

    def add_attendance(self, event: str, world: str, user: str, joined: float) -> int:
        rows = self._db.all(
            "INSERT INTO hosting_attendance (event, world, user_key, joined) VALUES (%s,%s,%s,%s) RETURNING id",
            (event, world, user, joined),
        )
        return int(rows[0][0])

    def close_attendance(self, event: str, user: str, left_at: float) -> bool:
        n = self._db.run(
            "UPDATE hosting_attendance SET left_at = %s WHERE event = %s AND user_key = %s AND left_at IS NULL",
            (left_at, event, user),
        )
        return n > 0

    def attendance(self, event: str | None = None) -> list[AttendanceRow]:
        rows = self._db.all(
            "SELECT id, event, world, user_key, joined, left_at FROM hosting_attendance"
            " WHERE (%(e)s::text IS NULL OR event = %(e)s) ORDER BY id",
            {"e": event},
        )
        return [AttendanceRow(int(r[0]), *r[1:]) for r in rows]

    # ----- privacy (server/privacy.py) -----------------------------------------------------------
    def export_user(self, user: str) -> dict[str, object]:
        """As ``SQLiteHostingStore.export_user``: the same keys and the same rows."""
        account = user[2:] if user.startswith("a:") else None
        q = self._db.all
        acct = q("SELECT name_key, name, created FROM hosting_accounts WHERE name_key = %s", (account,))
        return {
            "account": dict(zip(("name_key", "name", "created"), acct[0], strict=True)) if acct else None,
            "roles": [
                dict(zip(("world", "role", "granted_by", "at"), r, strict=True))
                for r in q("SELECT world, role, granted_by, at FROM hosting_grants WHERE account = %s", (account,))
            ],
            "roles_granted": [
                dict(zip(("world", "account", "role", "at"), r, strict=True))
                for r in q("SELECT world, account, role, at FROM hosting_grants WHERE granted_by = %s", (user,))
            ],
            "invites_created": [
                dict(zip(("id", "world", "created", "expires", "revoked"), r, strict=True))
                for r in q(
                    "SELECT id, world, created, expires, revoked FROM hosting_invites WHERE created_by = %s", (user,)
                )
            ],
            "blocks": [
                dict(zip(("kind", "world", "until", "reason", "by", "at"), r, strict=True))
                for r in q(
                    "SELECT kind, world, until, reason, by_key, at FROM hosting_blocks WHERE user_key = %s", (user,)
                )
            ],
            "reports_by": [
                {
                    **dict(zip(("id", "world", "target", "at", "reason"), (int(r[0]), *r[1:5]), strict=True)),
                    "context": json.loads(str(r[5])),
                }
                for r in q(
                    "SELECT id, world, target, at, reason, context FROM hosting_reports"
                    " WHERE reporter = %s ORDER BY id",
                    (user,),
                )
            ],
            "reports_about": [
                dict(zip(("id", "world", "at", "reason"), (int(r[0]), *r[1:]), strict=True))
                for r in q("SELECT id, world, at, reason FROM hosting_reports WHERE target = %s ORDER BY id", (user,))
            ],
            "audit": [
                dict(
                    zip(("id", "world", "actor", "action", "target", "at", "reason"), (int(r[0]), *r[1:]), strict=True)
                )
                for r in q(
                    "SELECT id, world, actor, action, target, at, reason FROM hosting_audit"
                    " WHERE actor = %(u)s OR target = %(u)s ORDER BY id",
                    {"u": user},
                )
            ],
            "rsvps": [
                {"event": e, "at": a, "notified": bool(n)}
                for e, a, n in q(
                    "SELECT event, at, notified FROM hosting_rsvps WHERE user_key = %s ORDER BY at", (user,)
                )
            ],
            "attendance": [
                dict(zip(("event", "world", "joined", "left"), r, strict=True))
                for r in q(
                    "SELECT event, world, joined, left_at FROM hosting_attendance WHERE user_key = %s ORDER BY id",
                    (user,),
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
        """As ``SQLiteHostingStore.delete_user``, in one transaction."""
        account = user[2:] if user.startswith("a:") else None
        gone = "deleted"
        gu = {"g": gone, "u": user}
        n: dict[str, int] = {}
        with self._db.cursor(transaction=True) as c:

            def x(sql: str, args: tuple[object, ...] | Mapping[str, object] = ()) -> psycopg.Cursor[Row]:
                return c.execute(sql.encode(), args)

            n["hosting_accounts"] = x("DELETE FROM hosting_accounts WHERE name_key = %s", (account,)).rowcount
            x("DELETE FROM hosting_account_meta WHERE name_key = %s", (account,))
            n["hosting_grants"] = x("DELETE FROM hosting_grants WHERE account = %s", (account,)).rowcount
            n["hosting_grants"] += x(
                "UPDATE hosting_grants SET granted_by = %(g)s WHERE granted_by = %(u)s", gu
            ).rowcount
            n["hosting_invites"] = x(
                "UPDATE hosting_invites SET created_by = %(g)s WHERE created_by = %(u)s", gu
            ).rowcount
            n["hosting_blocks"] = x("DELETE FROM hosting_blocks WHERE user_key = %s", (user,)).rowcount
            n["hosting_blocks"] += x("UPDATE hosting_blocks SET by_key = %(g)s WHERE by_key = %(u)s", gu).rowcount
            n["hosting_locks"] = x("UPDATE hosting_locks SET by_key = %(g)s WHERE by_key = %(u)s", gu).rowcount
            x(
                "DELETE FROM hosting_report_holds"
                " WHERE report_id IN (SELECT id FROM hosting_reports WHERE reporter = %s)",
                (user,),
            )
            n["hosting_reports"] = x("DELETE FROM hosting_reports WHERE reporter = %s", (user,)).rowcount
            n["hosting_report_holds"] = x(
                "INSERT INTO hosting_report_holds SELECT id, %s FROM hosting_reports WHERE target = %s"
                " ON CONFLICT DO NOTHING",
                (hold_until, user),
            ).rowcount
            for rid, ctx in x(
                "SELECT id, context FROM hosting_reports WHERE target != %(u)s AND strpos(context, %(u)s) > 0",
                {"u": user},
            ).fetchall():
                cx = json.loads(ctx)
                cx["chat"] = [
                    {**ln, "user": gone, "name": "[deleted]", "text": "[deleted]"} if ln.get("user") == user else ln
                    for ln in cx.get("chat", [])
                ]
                x("UPDATE hosting_reports SET context = %s WHERE id = %s", (json.dumps(cx), rid))
                n["hosting_reports"] += 1
            n["hosting_audit"] = x(
                "UPDATE hosting_audit SET actor = CASE actor WHEN %(u)s THEN %(g)s ELSE actor END,"
                " target = CASE target WHEN %(u)s THEN %(g)s ELSE target END, reason = replace(reason, %(u)s, %(g)s)"
                " WHERE actor = %(u)s OR target = %(u)s OR strpos(reason, %(u)s) > 0",
                gu,
            ).rowcount
            n["hosting_events"] = 0
            for key, data in x("SELECT key, data FROM hosting_events").fetchall():
                d = json.loads(data)
                if account is not None and str(d.get("host", "")).lower() == account:
                    x("DELETE FROM hosting_events WHERE key = %s", (key,))
                    x("DELETE FROM hosting_event_state WHERE key = %s", (key,))
                    x("DELETE FROM hosting_rsvps WHERE event = %s", (key,))
                    n["hosting_events"] += 1
                elif d.get("created_by") == user:
                    x(
                        "UPDATE hosting_events SET data = %s WHERE key = %s",
                        (json.dumps({**d, "created_by": gone}), key),
                    )
                    n["hosting_events"] += 1
            n["hosting_event_state"] = 0
            states = x("SELECT key, data FROM hosting_event_state WHERE strpos(data, %s) > 0", (user,)).fetchall()
            for key, data in states:
                d = json.loads(data)
                d["spotlight"] = [i for i in d.get("spotlight", []) if i != user]
                x("UPDATE hosting_event_state SET data = %s WHERE key = %s", (json.dumps(d), key))
                n["hosting_event_state"] += 1
            n["hosting_rsvps"] = x("DELETE FROM hosting_rsvps WHERE user_key = %s", (user,)).rowcount
            n["hosting_attendance"] = x("DELETE FROM hosting_attendance WHERE user_key = %s", (user,)).rowcount
        return n

    def purge_holds(self, now: float) -> int:
        with self._db.cursor(transaction=True) as c:
            ids = [
                r[0]
                for r in c.execute(
                    _q("DELETE FROM hosting_report_holds WHERE until <= %s RETURNING report_id"), (now,)
                ).fetchall()
            ]
            if ids:
                c.execute(_q("DELETE FROM hosting_reports WHERE id = ANY(%s)"), (ids,))
        return len(ids)

    def close(self) -> None:
        self._db.close()
