"""The privacy export and delete across both stores, checked by scanning every table of the
real SQLite file for the person's key and name."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from server.hosting import Hosting, Principal, SQLiteHostingStore
from server.hosting.errors import BadCredentials, InvalidToken
from server.privacy import REPORT_HOLD_S, delete_person, export_person, purge
from server.recommend.signals import Visit
from server.storage import SQLiteStorage
from tests.hosting.conftest import CHEAP, GUEST, MEMBER, MEMBER2, MOD, NOW, OWNER, WORLDS
from tests.hosting.shows import START, show

ZEN = Principal.for_account("zenobia", "Zenobia")
KEY = ZEN.key


def scan(db_path: Path, needle: str) -> list[tuple[str, tuple[object, ...]]]:
    """Every row of every table holding ``needle`` in any column (case-insensitive)."""
    db = sqlite3.connect(db_path)
    hits = []
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for t in tables:
        for row in db.execute(f"SELECT * FROM {t}"):
            if any(needle.lower() in str(v).lower() for v in row):
                hits.append((t, row))
    db.close()
    return hits


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, SQLiteStorage, Hosting, str]:
    """Zenobia with rows in every table that can name a person."""
    db_path = tmp_path / "plaza.sqlite3"
    storage = SQLiteStorage(db_path)
    h = Hosting(SQLiteHostingStore(db_path), data_dir=tmp_path, password_cost=CHEAP)
    h.roles.set_worlds(WORLDS)
    h.events.set_world_events("plaza", [show(capacity=None)])
    h.identity.register("Zenobia", "password1", NOW)
    token = h.identity.sign_in("zenobia", "password1", "c", NOW)
    # recommender signals, hers and others' naming her
    storage.log_visits([(Visit(KEY, "plaza", "plaza#1", NOW, NOW + 60, (MEMBER.key,)), 2)])
    storage.log_visits([(Visit(MEMBER.key, "plaza", "plaza#1", NOW, NOW + 60, (KEY, MEMBER2.key)), 0)])
    storage.follow(KEY, MEMBER.key, NOW)
    storage.follow(MEMBER.key, KEY, NOW)
    storage.like(KEY, "plaza", NOW)
    storage.set_interests(KEY, ["jazz"])
    # roles, invites, blocks, locks, audit (as a moderator of the vault)
    h.roles.grant("vault", OWNER, "zenobia", "moderator", NOW)
    h.roles.make_invite("vault", NOW + 3600, ZEN, NOW)
    h.moderation.ban("vault", ZEN, GUEST, NOW, reason="spam")
    h.moderation.lock("vault", ZEN, NOW)
    h.moderation.mute("plaza", MOD, ZEN, NOW, 600, reason=f"flooding ({KEY})")
    # reports by and about her, and her chat quoted in a report about someone else
    h.moderation.chat("plaza", MEMBER, "hello", NOW)
    h.moderation.unmute("plaza", MOD, ZEN, NOW + 1)
    h.moderation.chat("plaza", ZEN, "zenobia was here", NOW + 2)
    h.moderation.report("plaza", ZEN, MEMBER, "rude", NOW + 3)
    h.moderation.report("plaza", MEMBER2, GUEST, "spam", NOW + 4)
    h.moderation.report("plaza", MEMBER, ZEN, "harassment", NOW + 5)
    # events: RSVP, attendance, an event she hosts, a spotlight naming her
    h.events.rsvp("plaza/show", ZEN, NOW)
    h.events.start("plaza/show", OWNER, START)
    h.events.joined("plaza/show", ZEN, START + 1)
    h.events.set_spotlight("plaza/show", OWNER, [KEY, "obj:piano"], START + 2)
    mine = h.events.create("plaza", OWNER, NOW, title="Zen hour", start=START, duration_s=3600, host="zenobia")
    h.events.rsvp(mine.key, MEMBER, NOW)
    return db_path, storage, h, token


def test_export_includes_everything_but_the_password_hash(world: tuple[Path, SQLiteStorage, Hosting, str]) -> None:
    _, storage, h, _ = world
    out = export_person(storage, h, KEY)
    text = json.dumps(out)
    assert "scrypt$" not in text and "password" not in text
    hs = out["hosting"]
    assert isinstance(hs, dict)
    assert hs["account"]["name"] == "Zenobia"
    assert [r["world"] for r in hs["roles"]] == ["vault"]
    assert [r["event"] for r in hs["rsvps"]] == ["plaza/show"]
    assert [r["event"] for r in hs["attendance"]] == ["plaza/show"]
    assert [r["reason"] for r in hs["reports_by"]] == ["rude"]
    assert hs["reports_about"] == [{"id": 3, "world": "plaza", "at": NOW + 5, "reason": "harassment"}]  # no reporter
    assert {(b["kind"], b["world"]) for b in hs["blocks"]} == set()  # the mute was lifted
    assert {a["action"] for a in hs["audit"]} >= {"ban", "lock_world", "mute", "unmute"}
    assert [e["title"] for e in hs["events"]] == ["Zen hour"]
    sig = out["signals"]
    assert isinstance(sig, dict) and sig["likes"][0]["item"] == "plaza" and sig["interests"] == ["jazz"]


def test_delete_leaves_only_reports_about_her_for_90_days(world: tuple[Path, SQLiteStorage, Hosting, str]) -> None:
    db_path, storage, h, token = world
    assert scan(db_path, "zenobia")  # she is everywhere before
    counts = delete_person(storage, h, KEY, NOW + 100)
    assert counts["hosting_accounts"] == 1 and counts["signals"] >= 6 and counts["hosting_report_holds"] == 1
    hits = scan(db_path, "zenobia")
    assert hits and all(t == "hosting_reports" and row[3] == KEY for t, row in hits)  # held: reports about her
    # Everyone else's data is still there, without her.
    sig = storage.load_signals()
    assert [v.friends_present for v in sig.visits] == [(MEMBER2.key,)] and sig.follows == []
    assert [r.reason for r in h.store.reports("plaza")] == ["harassment", "spam"]
    assert h.store.invites("vault")[0].created_by == "deleted"
    assert h.events.state("plaza/show").spotlight == ["obj:piano"]
    # Sign-in and her tokens stop working; in-memory state forgot her too.
    with pytest.raises(BadCredentials):
        h.identity.sign_in("zenobia", "password1", "c", NOW + 101)
    with pytest.raises(InvalidToken):
        h.identity.authenticate(token, NOW + 101)
    assert h.roles.role_of("vault", ZEN).value == "guest"
    assert all(ln.user != KEY for ln in h.moderation.recent_chat("plaza"))
    assert not h.events.has_rsvp("plaza/show", KEY)
    assert all(e.host != "zenobia" for e in h.events.events())
    # After the hold, nothing at all.
    assert purge(h, NOW + 100 + REPORT_HOLD_S - 1) == 0
    assert purge(h, NOW + 100 + REPORT_HOLD_S) == 1
    assert scan(db_path, "zenobia") == []
    h.identity.register("zenobia", "password2", NOW + 200)  # the name is free again
    storage.close()
    h.close()


def test_guests_can_be_deleted_too(tmp_path: Path) -> None:
    db_path = tmp_path / "plaza.sqlite3"
    storage = SQLiteStorage(db_path)
    h = Hosting(SQLiteHostingStore(db_path), password_cost=CHEAP)
    h.roles.set_worlds(WORLDS)
    h.events.set_world_events("plaza", [show(capacity=None)])
    storage.like(GUEST.key, "plaza", NOW)
    h.events.rsvp("plaza/show", GUEST, NOW)
    h.moderation.report("plaza", GUEST, MEMBER, "x", NOW)
    delete_person(storage, h, GUEST.key, NOW)
    assert scan(db_path, GUEST.guest_id or "") == []
    storage.close()
    h.close()
