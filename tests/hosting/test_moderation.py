from __future__ import annotations

from collections.abc import Callable

import pytest

from server.hosting import Hosting
from server.hosting.errors import (
    ChatMutedForAll,
    ChatRateLimited,
    HostingError,
    InvalidArgument,
    Muted,
    PermissionDenied,
    Refused,
)
from server.hosting.identity import Principal
from server.hosting.moderation import ChatFilter, ChatRateLimiter
from tests.hosting.conftest import GUEST, GUEST2, MEMBER, MEMBER2, MOD, MOD2, NOW, OWNER, restart


# ----- kick -------------------------------------------------------------------------------------
def test_kicked_user_cannot_rejoin_until_allowed(hosting: Hosting) -> None:
    m = hosting.moderation
    m.admit("plaza", MEMBER, NOW)
    m.kick("plaza", MOD, MEMBER, NOW, reason="spamming")
    for t in (NOW + 1, NOW + 86400 * 30):
        with pytest.raises(Refused, match="kicked from 'plaza'; you can rejoin when a moderator allows it") as e:
            m.admit("plaza", MEMBER, t)
        assert e.value.code == "kicked" and e.value.until is None
    m.admit("hidden", MEMBER, NOW + 1)  # a kick is per world
    assert m.allow("plaza", MOD, MEMBER, NOW + 2)
    m.admit("plaza", MEMBER, NOW + 2)


def test_kick_with_a_time_limit(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    hosting.moderation.kick("plaza", MOD, GUEST, NOW, until=NOW + 300)
    h2 = restart(hosting, open_hosting)
    with pytest.raises(Refused, match="rejoin in 200 s"):
        h2.moderation.admit("plaza", GUEST, NOW + 100)
    h2.moderation.admit("plaza", GUEST, NOW + 300)


def test_moderators_cannot_act_on_moderators_or_the_owner(hosting: Hosting) -> None:
    m = hosting.moderation
    for target in (MOD2, OWNER):
        for act in (m.kick, m.mute, m.ban):
            with pytest.raises(PermissionDenied, match="a moderator cannot"):
                act("plaza", MOD, target, NOW)
    with pytest.raises(PermissionDenied, match="'kick' needs role moderator or higher; you are member"):
        m.kick("plaza", MEMBER, GUEST, NOW)
    with pytest.raises(PermissionDenied):
        m.ban("plaza", GUEST, GUEST2, NOW)
    m.kick("plaza", OWNER, MOD, NOW)  # the owner can


# ----- mute -------------------------------------------------------------------------------------
def test_mute_blocks_chat_until_expiry(hosting: Hosting) -> None:
    m = hosting.moderation
    assert m.chat("plaza", MEMBER, "hello", NOW) == "hello"
    m.mute("plaza", MOD, MEMBER, NOW, duration_s=60, reason="shouting")
    with pytest.raises(Muted, match="muted in this world for another 30 s") as e:
        m.chat("plaza", MEMBER, "hello?", NOW + 30)
    assert e.value.code == "muted"
    assert m.chat("plaza", MEMBER, "back", NOW + 60) == "back"
    assert m.mute_of("plaza", MEMBER.key, NOW + 60) is None


def test_indefinite_mute_and_unmute_survive_restart(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    hosting.moderation.mute("plaza", MOD, GUEST, NOW)
    h2 = restart(hosting, open_hosting)
    with pytest.raises(Muted, match="until a moderator unmutes you"):
        h2.moderation.chat("plaza", GUEST, "hi", NOW + 10**6)
    assert h2.moderation.unmute("plaza", MOD, GUEST, NOW)
    h3 = restart(h2, open_hosting)
    assert h3.moderation.chat("plaza", GUEST, "hi", NOW + 10**6) == "hi"


# ----- ban --------------------------------------------------------------------------------------
def test_bans_survive_a_restart(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    hosting.moderation.ban("plaza", MOD, MEMBER, NOW, reason="harassment")
    hosting.moderation.ban("plaza", MOD, GUEST, NOW, duration_s=3600)
    h2 = restart(hosting, open_hosting)
    with pytest.raises(Refused, match=r"banned from 'plaza' until a moderator lifts it \(reason: harassment\)") as e:
        h2.moderation.admit("plaza", MEMBER, NOW + 10**7)
    assert e.value.code == "banned"
    # Guests are banned by guest id: a new display name does not help.
    with pytest.raises(Refused, match="for another 60 min"):
        h2.moderation.admit("plaza", Principal.for_guest(GUEST.guest_id or "", "Someone Else"), NOW)
    h2.moderation.admit("plaza", GUEST, NOW + 3600)  # expired
    h2.moderation.admit("hidden", MEMBER, NOW)  # other worlds are unaffected
    assert [b.user for b in h2.moderation.bans("plaza", NOW)] == ["a:bob"]
    assert h2.moderation.unban("plaza", MOD, MEMBER, NOW)
    h3 = restart(h2, open_hosting)
    h3.moderation.admit("plaza", MEMBER, NOW)


def test_ban_outranks_lock_in_the_message(hosting: Hosting) -> None:
    hosting.moderation.lock("plaza", MOD, NOW)
    hosting.moderation.ban("plaza", MOD, GUEST, NOW)
    with pytest.raises(Refused) as e:
        hosting.moderation.admit("plaza", GUEST, NOW)
    assert e.value.code == "banned"


def test_banned_from_private_world_even_with_invite(hosting: Hosting) -> None:
    invite = hosting.roles.make_invite("vault", NOW + 3600, OWNER, NOW)
    hosting.moderation.admit("vault", GUEST, NOW, invite)
    hosting.moderation.ban("vault", MOD, GUEST, NOW)
    with pytest.raises(Refused, match="banned"):
        hosting.moderation.admit("vault", GUEST, NOW, invite)
    with pytest.raises(Refused) as e:
        hosting.moderation.admit("vault", GUEST2, NOW)
    assert e.value.code == "private"


# ----- lock and remove --------------------------------------------------------------------------
def test_locked_world_refuses_new_joins(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    hosting.moderation.lock("plaza", MOD, NOW, reason="private rehearsal")
    h2 = restart(hosting, open_hosting)
    assert h2.moderation.is_locked("plaza")
    for p in (GUEST, MEMBER):
        with pytest.raises(Refused, match="'plaza' is locked") as e:
            h2.moderation.admit("plaza", p, NOW)
        assert e.value.code == "locked"
    h2.moderation.admit("plaza", MOD2, NOW)  # moderators still get in
    with pytest.raises(PermissionDenied):
        h2.moderation.unlock("plaza", MEMBER, NOW)
    h2.moderation.unlock("plaza", OWNER, NOW)
    h2.moderation.admit("plaza", GUEST, NOW)


def test_remove_object_is_checked_and_audited(hosting: Hosting) -> None:
    with pytest.raises(PermissionDenied):
        hosting.moderation.remove_object("plaza", MEMBER, "crate-1", NOW)
    hosting.moderation.remove_object("plaza", MOD, "crate-1", NOW, "blocking the door")
    (entry,) = hosting.moderation.audit_log("plaza", MOD)
    assert (entry.actor, entry.action, entry.target, entry.reason) == (
        "a:max",
        "remove_object",
        "object:crate-1",
        "blocking the door",
    )


# ----- chat filter and rate limit ---------------------------------------------------------------
def test_chat_filter_whole_words_any_case() -> None:
    f = ChatFilter(["darn", "heck", "f*ck", " "])
    assert f.clean("Darn it, HECK!") == "*** it, ***!"
    assert f.clean("darning the heckler") == "darning the heckler"  # whole words only
    assert f.clean("what the f*ck") == "what the ***"
    assert f.clean("darn_it") == "darn_it"
    assert ChatFilter().clean("darn") == "darn"
    f.set_words(["gosh"])
    assert f.clean("darn gosh") == "darn ***"


def test_chat_is_filtered_and_rate_limited(hosting: Hosting) -> None:
    m = hosting.moderation
    assert m.chat("plaza", GUEST, "well heck", NOW) == "well ***"
    for i in range(4):
        m.chat("plaza", GUEST, f"msg {i}", NOW + 0.1 * i)
    with pytest.raises(ChatRateLimited, match=r"at most 5 chat messages per 10 s; next one in 1\.6 s") as e:
        m.chat("plaza", GUEST, "one more", NOW + 0.4)
    assert e.value.code == "chat_rate_limited"
    m.chat("plaza", GUEST2, "others are not affected", NOW + 0.4)
    m.chat("plaza", GUEST, "refilled", NOW + 2.0)  # 0.5 messages per second refill
    with pytest.raises(ChatRateLimited):
        m.chat("plaza", GUEST, "again", NOW + 2.1)


def test_rate_limiter_refills_to_burst() -> None:
    lim = ChatRateLimiter(burst=5, per_s=10)
    for _ in range(5):
        lim.take("u", NOW)
    with pytest.raises(ChatRateLimited):
        lim.take("u", NOW)
    for _ in range(5):
        lim.take("u", NOW + 1000)  # a long pause refills the bucket, not more
    with pytest.raises(ChatRateLimited):
        lim.take("u", NOW + 1000)


def test_mute_all_chat_spares_moderators(hosting: Hosting) -> None:
    with pytest.raises(ChatMutedForAll, match="host has muted chat"):
        hosting.moderation.chat("plaza", MEMBER, "hi", NOW, all_muted=True)
    assert hosting.moderation.chat("plaza", MOD, "quiet please", NOW, all_muted=True) == "quiet please"


# ----- reports and audit log --------------------------------------------------------------------
def test_report_keeps_the_last_chat_lines(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    m = hosting.moderation
    m.history = 3
    m._chat.clear()
    for i in range(5):
        m.chat("plaza", MEMBER2 if i % 2 else GUEST, f"line {i} heck", NOW + 3 * i)
    m.chat("hidden", GUEST, "elsewhere", NOW)
    rid = m.report("plaza", MEMBER, GUEST, "rude", NOW + 20)
    h2 = restart(hosting, open_hosting)
    with pytest.raises(PermissionDenied, match="'view_reports' needs role moderator"):
        h2.moderation.reports("plaza", MEMBER)
    (rep,) = h2.moderation.reports("plaza", MOD)
    assert (rep.id, rep.reporter, rep.target, rep.at, rep.reason) == (rid, "a:bob", GUEST.key, NOW + 20, "rude")
    assert rep.context["target_name"] == "Gus"
    assert [c["text"] for c in rep.context["chat"]] == ["line 2 ***", "line 3 ***", "line 4 ***"]  # type: ignore[union-attr,index]
    with pytest.raises(HostingError, match="cannot report yourself"):
        h2.moderation.report("plaza", GUEST, GUEST, "", NOW)


def test_guests_can_report(hosting: Hosting) -> None:
    hosting.moderation.report("plaza", GUEST, MEMBER, "x" * 1000, NOW)
    (rep,) = hosting.moderation.reports("plaza", OWNER)
    assert len(rep.reason) == 500


def test_audit_log_records_moderator_actions(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    m = hosting.moderation
    m.kick("plaza", MOD, GUEST, NOW, reason="r1")
    m.mute("plaza", MOD2, MEMBER, NOW + 1, duration_s=10)
    m.ban("plaza", OWNER, MEMBER2, NOW + 2, reason="r3")
    m.lock("plaza", MOD, NOW + 3)
    h2 = restart(hosting, open_hosting)
    log = h2.moderation.audit_log("plaza", MOD)
    assert [(e.actor, e.action, e.target, e.at, e.reason) for e in log] == [
        ("a:max", "lock_world", "world:plaza", NOW + 3, ""),
        ("a:olivia", "ban", "a:carol", NOW + 2, "r3"),
        ("a:mia", "mute", "a:bob", NOW + 1, ""),
        ("a:max", "kick", GUEST.key, NOW, "r1"),
    ]
    assert h2.moderation.audit_log("hidden", OWNER) == []
    with pytest.raises(PermissionDenied):
        h2.moderation.audit_log("plaza", MEMBER)


def test_durations_must_be_positive(hosting: Hosting) -> None:
    m = hosting.moderation
    for bad in (0, -5, float("nan"), float("inf")):
        with pytest.raises(InvalidArgument, match="positive number of seconds"):
            m.ban("plaza", MOD, GUEST, NOW, duration_s=bad)
        with pytest.raises(InvalidArgument):
            m.mute("plaza", MOD, GUEST, NOW, duration_s=bad)
    with pytest.raises(InvalidArgument):
        m.kick("plaza", MOD, GUEST, NOW, until=NOW)
    assert m.audit_log("plaza", MOD) == []  # nothing half-done
