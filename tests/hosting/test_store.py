from __future__ import annotations

import time
from pathlib import Path

from server.hosting import Hosting, HostingStore, Role, SQLiteHostingStore
from server.hosting.identity import Principal
from server.hosting.store import BlockRow, GrantRow, InviteRow
from server.storage import SQLiteStorage
from server.worldconfig import load_worlds
from tests.hosting.conftest import NOW

REPO = Path(__file__).resolve().parents[2]


def test_everything_survives_reopening(db_path: Path) -> None:
    s: HostingStore = SQLiteHostingStore(db_path)
    assert s.take_legacy_secret() is None  # the token secret is not in the database (secret.key)
    s.set_grant(GrantRow("w", "bob", "moderator", "a:olivia", NOW))
    s.add_invite(InviteRow("inv1", "w", "a:olivia", NOW, NOW + 60, None))
    s.revoke_invite("inv1", NOW + 1)
    s.set_block(BlockRow("ban", "w", "g:x", None, "spam", "a:max", NOW))
    s.set_block(BlockRow("mute", "w", "a:bob", NOW + 60, "", "a:max", NOW))
    s.set_lock("w", "a:max", NOW)
    s.add_report("w", "a:bob", "g:x", NOW, "rude", {"chat": [{"text": "hi"}]})
    s.add_audit("w", "a:max", "ban", "g:x", NOW, "spam")
    s.put_event("w/e", "w", {"k": 1})
    s.put_event_state("w/e", {"started_at": NOW})
    s.add_rsvp("w/e", "g:x", NOW)
    s.mark_notified("w/e", "g:x")
    s.add_attendance("w/e", "w", "g:x", NOW)
    s.close()

    s2 = SQLiteHostingStore(db_path)
    assert [g.role for g in s2.grants("w")] == ["moderator"]
    assert s2.get_invite("inv1") == InviteRow("inv1", "w", "a:olivia", NOW, NOW + 60, NOW + 1)
    blocks = {(b.kind, b.user, b.until) for b in s2.blocks(world="w")}
    assert blocks == {("ban", "g:x", None), ("mute", "a:bob", NOW + 60)}
    assert [b.kind for b in s2.blocks("ban")] == ["ban"]
    assert s2.locked_worlds() == {"w"}
    assert s2.reports("w")[0].context == {"chat": [{"text": "hi"}]}
    assert s2.audit("w")[0].reason == "spam"
    assert s2.events() == [{"k": 1}] and s2.event_states() == {"w/e": {"started_at": NOW}}
    assert [(r.user, r.notified) for r in s2.rsvps("w/e")] == [("g:x", True)]
    assert s2.attendance("w/e")[0].left_at is None
    s2.close()


def test_shares_the_server_database_file(db_path: Path) -> None:
    objects = SQLiteStorage(db_path)
    hosting = SQLiteHostingStore(db_path)
    objects.save_objects([("w", 1, "crate", (1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0))])
    hosting.set_lock("w", "a:max", NOW)
    assert objects.load_objects("w", 1)["crate"][0] == 1.0
    assert hosting.locked_worlds() == {"w"}
    objects.close()
    hosting.close()


def test_load_bundled_worlds() -> None:
    cfgs, issues = load_worlds(REPO / "worlds")
    assert not issues
    h = Hosting(SQLiteHostingStore(":memory:"))
    now = time.time()
    h.load_worlds(cfgs.values(), now)
    hall = cfgs["concert-hall"]
    assert h.roles.role_of("concert-hall", Principal.for_account(hall.roles.owner or "")) is Role.OWNER
    assert {m.lower() for m in hall.roles.moderators} <= h.reserved()
    assert {e.host.lower() for c in cfgs.values() for e in c.events} <= h.reserved()
    # Upcoming file events are known by key and carry the world's data.
    for e in h.events.events():
        assert e.key.startswith(f"{e.world}/") and e.source == "world" and e.end > now
    h.close()
