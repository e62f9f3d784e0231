"""One visibility rule (Hosting.can_see) for world reads, event lists and RSVPs; who may revoke
an invite; moderator messages that name someone by user key."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from server.catalog import Catalog
from server.effects import Outbox
from server.errors import ProtocolError
from server.hosting import Hosting, Principal
from server.hosting.errors import HostingError, InvalidUserKey, NotFound, PermissionDenied, UnknownEvent
from server.hostlink import HostLink
from server.messages import Moderate, Rsvp
from server.worldconfig import WorldConfig
from tests.hosting.conftest import GUEST, MEMBER, MEMBER2, MOD, MOD2, NOW, OWNER
from tests.hosting.shows import START, show

SECRET = replace(show(capacity=None, key="vault/secret"), world="vault", title="Secret Launch Party", host="olivia")


@pytest.fixture
def h(hosting: Hosting) -> Hosting:
    hosting.events.set_world_events("plaza", [show(capacity=None)])
    hosting.events.set_world_events("vault", [SECRET])
    return hosting


# ----- 9. one rule -------------------------------------------------------------------------------
def test_can_see(h: Hosting) -> None:
    invite = h.roles.make_invite("vault", NOW + 3600, OWNER, NOW)
    for world in ("plaza", "hidden"):  # public and unlisted: anyone, signed in or not
        assert all(h.can_see(world, p) for p in (None, GUEST, MEMBER))
    assert not h.can_see("vault", None) and not h.can_see("vault", GUEST)
    assert not h.can_see("vault", MEMBER)  # an account without a role there
    assert h.can_see("vault", OWNER) and h.can_see("vault", MOD)
    h.roles.grant("vault", OWNER, "carol", "member", NOW)
    assert h.can_see("vault", MEMBER2)
    assert h.can_see("vault", GUEST, invite, NOW) and not h.can_see("vault", GUEST, invite, NOW + 7200)
    assert not h.can_see("vault", GUEST, "forged", NOW)
    assert not h.can_see("nowhere", OWNER)


def test_event_lists_hide_private_worlds(h: Hosting) -> None:
    def keys(viewer: Principal | None) -> list[str]:
        return [e.key for e, _ in h.events.lobby(START, viewer)]

    assert keys(None) == keys(GUEST) == keys(MEMBER) == ["plaza/show"]  # anonymous GET /api/events
    assert keys(OWNER) == ["plaza/show", "vault/secret"]
    host_only = replace(SECRET, key="vault/gig", id="gig", host="dj")
    h.events.set_world_events("vault", [SECRET, host_only])
    assert keys(Principal.for_account("dj")) == ["plaza/show", "vault/gig"]  # a host sees their own event


def test_rsvp_to_a_private_worlds_event_reveals_nothing(h: Hosting) -> None:
    with pytest.raises(UnknownEvent) as e:
        h.events.rsvp("vault/secret", GUEST, NOW)
    with pytest.raises(UnknownEvent) as missing:
        h.events.rsvp("vault/nothing", GUEST, NOW)
    assert "Secret" not in e.value.message and e.value.message.replace("secret", "nothing") == missing.value.message
    with pytest.raises(UnknownEvent):
        h.events.cancel_rsvp("vault/secret", GUEST)
    h.events.rsvp("vault/secret", MOD, NOW)  # a moderator of the vault
    h.events.rsvp("vault/secret", GUEST, NOW, admitted=True)  # an invite holder who is in the vault
    assert h.events.rsvps("vault/secret") == sorted([MOD.key, GUEST.key])


class FakeHub:
    def __init__(self) -> None:
        self.sent: list[tuple[int, bytes]] = []
        self.sessions: dict[int, object] = {}
        self.instances: dict[str, list[object]] = {}
        self.outbox = Outbox()  # what it would tell other workers

    def emit(self, sid: int, data: bytes) -> None:
        self.sent.append((sid, data))


def session(world: str, p: Principal) -> SimpleNamespace:
    inst = SimpleNamespace(spec=SimpleNamespace(id=world), members={}, object_ids={})
    return SimpleNamespace(sid=1, principal=p, user_id=p.key, instance=inst, name=p.name)


def test_rsvp_message_from_another_world_gets_no_notice(h: Hosting) -> None:
    hub = FakeHub()
    link = HostLink(hub, h, lambda ms: ms / 1000.0)  # type: ignore[arg-type]
    with pytest.raises(ProtocolError) as e:
        link.handle(session("plaza", GUEST), Rsvp("vault/secret", True), int(NOW * 1000))  # type: ignore[arg-type]
    assert "Secret" not in e.value.text and hub.sent == []  # no NOTICE with the title
    link.handle(session("vault", GUEST), Rsvp("vault/secret", True), int(NOW * 1000))  # type: ignore[arg-type]
    assert len(hub.sent) == 1 and h.events.has_rsvp("vault/secret", GUEST.key)


def test_world_listing(h: Hosting) -> None:
    assert h.listed_worlds(None) == h.listed_worlds(MEMBER) == ["plaza"]
    assert h.listed_worlds(OWNER) == ["hidden", "plaza", "vault"]
    cfg = WorldConfig.model_validate(
        {"id": "v", "name": "V", "visibility": "private", "spawns": [{"name": "s", "position": [0, 0, 0]}]}
    )
    assert Catalog(configs={"v": cfg}).listed() == []  # no longer "every world" when none is public


# ----- 6. revoking invites ----------------------------------------------------------------------
def test_only_the_creator_or_staff_of_the_world_may_revoke(h: Hosting) -> None:
    h.roles.make_invite("vault", NOW + 3600, MOD, NOW)
    (row,) = h.roles.invites("vault")
    for stranger in (GUEST, MEMBER, MOD2):  # MOD2 moderates plaza, not the vault
        with pytest.raises(PermissionDenied):
            h.roles.revoke_invite(row.id, stranger, NOW)
    assert h.roles.revoke_invite(row.id, OWNER, NOW + 1)  # the owner may revoke a moderator's invite
    h.roles.make_invite("vault", NOW + 3600, MOD, NOW)
    row2 = next(r for r in h.roles.invites("vault") if r.revoked is None)
    assert h.roles.revoke_invite(row2.id, MOD, NOW + 1)  # and the creator
    with pytest.raises(NotFound):
        h.roles.revoke_invite("no-such-invite", OWNER, NOW)


# ----- 7. moderator messages naming a user key ----------------------------------------------------
def test_permission_is_checked_before_the_user_key(h: Hosting) -> None:
    with pytest.raises(PermissionDenied):
        h.moderation.target_for("plaza", GUEST, "unban", "no-colon-here")
    with pytest.raises(InvalidUserKey) as e:
        h.moderation.target_for("plaza", MOD, "unban", "no-colon-here")
    assert isinstance(e.value, HostingError) and e.value.code == "invalid_user_key"
    assert h.moderation.target_for("plaza", MOD, "unban", "g:abc") == Principal.for_guest("abc")


def test_unban_message_from_a_guest(h: Hosting) -> None:
    link = HostLink(FakeHub(), h, lambda ms: ms / 1000.0)  # type: ignore[arg-type]
    msg = Moderate("unban", 0, "", None, user="no-colon-here")
    with pytest.raises(ProtocolError, match="'unban' needs role moderator"):
        link.handle(session("plaza", GUEST), msg, int(NOW * 1000))  # type: ignore[arg-type]
    with pytest.raises(ProtocolError, match="not a user key"):
        link.handle(session("plaza", MOD), msg, int(NOW * 1000))  # type: ignore[arg-type]


def test_rsvp_on_unknown_events_is_a_clean_error(h: Hosting) -> None:
    for call in (lambda: h.events.rsvp("plaza/nope", MEMBER, NOW), lambda: h.events.cancel_rsvp("plaza/nope", MEMBER)):
        with pytest.raises(UnknownEvent) as e:
            call()
        assert e.value.code == "unknown_event"
