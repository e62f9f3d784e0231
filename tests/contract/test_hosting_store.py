"""The ``HostingStore`` contract (server/hosting/store.py), the same on SQLite and PostgreSQL."""

from __future__ import annotations

from server.hosting.store import AccountMeta, AccountRow, BlockRow, GrantRow, InviteRow
from tests.contract.conftest import Backend

NOW = 1_800_000_000.0


def test_accounts_and_token_binding(backend: Backend) -> None:
    s = backend.open_hosting()
    assert s.take_legacy_secret() is None
    assert s.add_account(AccountRow("bob", "Bob", "h1", NOW))
    assert not s.add_account(AccountRow("bob", "BOB", "h2", NOW))  # names are unique
    assert s.add_account(AccountRow("ann", "Ann", "h3", NOW))
    assert s.get_account("bob") == AccountRow("bob", "Bob", "h1", NOW) and s.get_account("zed") is None
    assert s.account_exists("ann") and not s.account_exists("zed")
    assert [a.name_key for a in s.accounts()] == ["ann", "bob"]
    assert s.set_password_hash("bob", "h9") and not s.set_password_hash("zed", "x")
    s.set_account_meta(AccountMeta("bob", "id-1", 0))
    assert s.bump_epoch("bob") == 1 and s.bump_epoch("bob") == 2 and s.bump_epoch("zed") == 0
    s.set_account_meta(AccountMeta("bob", "id-2", 7))  # replaced
    s.close()
    s = backend.open_hosting()
    assert s.get_account("bob") == AccountRow("bob", "Bob", "h9", NOW)
    assert s.account_meta("bob") == AccountMeta("bob", "id-2", 7) and s.account_meta("ann") is None
    assert s.delete_account("bob") and not s.delete_account("bob")
    assert s.account_meta("bob") is None and s.get_account("bob") is None


def test_roles_invites_blocks_and_locks(backend: Backend) -> None:
    s = backend.open_hosting()
    s.set_grant(GrantRow("w", "bob", "member", "a:olivia", NOW))
    s.set_grant(GrantRow("w", "bob", "moderator", "a:olivia", NOW + 1))  # replaced
    s.set_grant(GrantRow("w", "ann", "member", "a:olivia", NOW))
    s.set_grant(GrantRow("v", "bob", "member", "a:olivia", NOW))
    assert [(g.account, g.role) for g in s.grants("w")] == [("ann", "member"), ("bob", "moderator")]
    assert s.delete_grant("w", "ann") and not s.delete_grant("w", "ann")
    s.add_invite(InviteRow("i1", "w", "a:olivia", NOW, NOW + 60, None))
    s.add_invite(InviteRow("i2", "w", "a:olivia", NOW + 5, NOW + 60, None))
    assert s.revoke_invite("i1", NOW + 1) and not s.revoke_invite("i1", NOW + 2) and not s.revoke_invite("no", NOW)
    assert s.get_invite("i1") == InviteRow("i1", "w", "a:olivia", NOW, NOW + 60, NOW + 1)
    assert s.get_invite("nope") is None and [i.id for i in s.invites("w")] == ["i1", "i2"]
    s.set_block(BlockRow("ban", "w", "g:x", None, "spam", "a:max", NOW))
    s.set_block(BlockRow("mute", "w", "a:bob", NOW + 60, "", "a:max", NOW + 1))
    s.set_block(BlockRow("ban", "v", "g:x", NOW + 9, "again", "a:max", NOW + 2))
    s.set_block(BlockRow("ban", "w", "g:x", NOW + 99, "spam!", "a:mia", NOW + 3))  # replaced
    assert [(b.world, b.until, b.by) for b in s.blocks("ban")] == [("v", NOW + 9, "a:max"), ("w", NOW + 99, "a:mia")]
    assert [b.kind for b in s.blocks(world="w")] == ["mute", "ban"]
    assert len(s.blocks()) == 3 and s.blocks("kick") == []
    assert s.delete_block("mute", "w", "a:bob") and not s.delete_block("mute", "w", "a:bob")
    s.set_lock("w", "a:max", NOW)
    s.set_lock("w", "a:mia", NOW + 1)
    s.set_lock("v", "a:max", NOW)
    s.delete_lock("v")
    s.delete_lock("none")
    assert s.locked_worlds() == {"w"}


def test_reports_audit_and_events(backend: Backend) -> None:
    s = backend.open_hosting()
    r1 = s.add_report("w", "a:bob", "g:x", NOW, "rude", {"chat": [{"user": "g:x", "text": "hi"}]})
    r2 = s.add_report("w", "a:ann", "g:x", NOW + 1, "spam", {})
    s.add_report("v", "a:ann", "g:y", NOW, "x", {})
    assert r2 > r1
    assert [(r.id, r.reason) for r in s.reports("w")] == [(r2, "spam"), (r1, "rude")]
    assert s.reports("w", limit=1)[0].id == r2 and s.reports("w")[1].context["chat"][0]["text"] == "hi"
    a1 = s.add_audit("w", "a:max", "ban", "g:x", NOW, "spam")
    a2 = s.add_audit("w", "a:max", "unban", "g:x", NOW + 1, "")
    assert [a.id for a in s.audit("w")] == [a2, a1] and s.audit("w")[1].action == "ban" and s.audit("v") == []
    s.put_event("w/b", "w", {"k": "b"})
    s.put_event("w/a", "w", {"k": "a"})
    s.put_event("w/b", "w", {"k": "b2"})
    assert s.events() == [{"k": "a"}, {"k": "b2"}]
    s.delete_event("w/a")
    s.put_event_state("w/b", {"started_at": NOW, "spotlight": ["a:bob"]})
    s.put_event_state("w/b", {"started_at": NOW + 1})
    assert s.events() == [{"k": "b2"}] and s.event_states() == {"w/b": {"started_at": NOW + 1}}
    assert s.add_rsvp("w/b", "g:x", NOW) and not s.add_rsvp("w/b", "g:x", NOW + 5)
    assert s.add_rsvp("w/b", "a:ann", NOW + 1) and s.add_rsvp("v/c", "a:ann", NOW + 2)
    s.mark_notified("w/b", "g:x")
    assert [(r.user, r.notified) for r in s.rsvps("w/b")] == [("g:x", True), ("a:ann", False)]
    assert len(s.rsvps()) == 3 and s.delete_rsvp("v/c", "a:ann") and not s.delete_rsvp("v/c", "a:ann")
    i1 = s.add_attendance("w/b", "w", "g:x", NOW)
    i2 = s.add_attendance("w/b", "w", "a:ann", NOW + 1)
    assert i2 > i1
    assert s.close_attendance("w/b", "g:x", NOW + 10) and not s.close_attendance("w/b", "g:x", NOW + 11)
    assert [(a.user, a.left_at) for a in s.attendance("w/b")] == [("g:x", NOW + 10), ("a:ann", None)]
    assert len(s.attendance()) == 2 and s.attendance("none") == []


def test_privacy_export_delete_and_holds(backend: Backend) -> None:
    s = backend.open_hosting()
    s.add_account(AccountRow("bob", "Bob", "secret-hash", NOW))
    s.set_account_meta(AccountMeta("bob", "id", 0))
    s.set_grant(GrantRow("w", "bob", "moderator", "a:olivia", NOW))
    s.set_grant(GrantRow("w", "ann", "member", "a:bob", NOW))
    s.add_invite(InviteRow("i1", "w", "a:bob", NOW, NOW + 60, None))
    s.set_block(BlockRow("ban", "w", "a:bob", None, "spam", "a:max", NOW))
    s.set_block(BlockRow("mute", "w", "g:x", None, "", "a:bob", NOW))
    s.set_lock("w", "a:bob", NOW)
    by = s.add_report("w", "a:bob", "g:x", NOW, "rude", {"chat": []})
    about = s.add_report("w", "a:ann", "a:bob", NOW, "mean", {"chat": [{"user": "a:bob", "name": "Bob", "text": "x"}]})
    quoted = s.add_report("w", "a:ann", "g:y", NOW, "spam", {"chat": [{"user": "a:bob", "name": "Bob", "text": "y"}]})
    s.add_audit("w", "a:max", "ban", "a:bob", NOW, "banned a:bob for spam")
    s.put_event("w/talk", "w", {"key": "w/talk", "host": "Bob"})
    s.put_event("w/meet", "w", {"key": "w/meet", "host": "ann", "created_by": "a:bob"})
    s.put_event_state("w/meet", {"spotlight": ["a:bob", "a:ann"]})
    s.add_rsvp("w/meet", "a:bob", NOW)
    s.add_attendance("w/meet", "w", "a:bob", NOW)
    out = s.export_user("a:bob")
    assert out["account"] == {"name_key": "bob", "name": "Bob", "created": NOW}  # no password hash
    assert "secret-hash" not in repr(out)
    assert out["roles"] == [{"world": "w", "role": "moderator", "granted_by": "a:olivia", "at": NOW}]
    assert out["roles_granted"] == [{"world": "w", "account": "ann", "role": "member", "at": NOW}]
    assert [i["id"] for i in out["invites_created"]] == ["i1"]  # type: ignore[index]
    assert out["blocks"] == [{"kind": "ban", "world": "w", "until": None, "reason": "spam", "by": "a:max", "at": NOW}]
    assert out["reports_by"] == [
        {"id": by, "world": "w", "target": "g:x", "at": NOW, "reason": "rude", "context": {"chat": []}}
    ]
    assert out["reports_about"] == [{"id": about, "world": "w", "at": NOW, "reason": "mean"}]
    assert len(out["audit"]) == 1  # type: ignore[arg-type]
    assert out["rsvps"] == [{"event": "w/meet", "at": NOW, "notified": False}]
    assert out["attendance"] == [{"event": "w/meet", "world": "w", "joined": NOW, "left": None}]
    assert [e["key"] for e in out["events"]] == ["w/meet", "w/talk"]  # type: ignore[index]

    n = s.delete_user("a:bob", hold_until=NOW + 90)
    assert n["hosting_accounts"] == 1 and n["hosting_grants"] == 2 and n["hosting_invites"] == 1
    assert n["hosting_blocks"] == 2 and n["hosting_locks"] == 1 and n["hosting_report_holds"] == 1
    assert n["hosting_reports"] == 2 and n["hosting_audit"] == 1 and n["hosting_events"] == 2
    assert n["hosting_event_state"] == 1 and n["hosting_rsvps"] == 1 and n["hosting_attendance"] == 1
    assert s.get_account("bob") is None and s.account_meta("bob") is None
    assert [(g.account, g.granted_by) for g in s.grants("w")] == [("ann", "deleted")]
    assert s.get_invite("i1") is not None and s.get_invite("i1").created_by == "deleted"  # type: ignore[union-attr]
    assert [(b.user, b.by) for b in s.blocks()] == [("g:x", "deleted")]
    assert {r.id for r in s.reports("w")} == {about, quoted}
    assert s.reports("w")[0].context["chat"][0] == {"user": "deleted", "name": "[deleted]", "text": "[deleted]"}
    a = s.audit("w")[0]
    assert (a.target, a.reason) == ("deleted", "banned deleted for spam")
    assert s.events() == [{"key": "w/meet", "host": "ann", "created_by": "deleted"}]
    assert s.event_states() == {"w/meet": {"spotlight": ["a:ann"]}}
    assert s.rsvps() == [] and s.attendance() == []
    assert s.purge_holds(NOW + 89) == 0
    assert s.purge_holds(NOW + 90) == 1 and [r.id for r in s.reports("w")] == [quoted]
    assert s.export_user("a:bob")["account"] is None


def test_both_stores_share_one_database(backend: Backend) -> None:
    objects, hosting = backend.open_storage(), backend.open_hosting()
    objects.save_objects([("w", 1, "crate", (1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0))])
    hosting.set_lock("w", "a:max", NOW)
    other = backend.open_hosting()  # a second node on the same database sees it at once
    assert other.locked_worlds() == {"w"} and objects.load_objects("w", 1)["crate"][0] == 1.0
