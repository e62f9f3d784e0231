from __future__ import annotations

from collections.abc import Callable

import pytest

from server.hosting import Hosting, Role, is_listed
from server.hosting.errors import InviteInvalid, PermissionDenied, Refused, UnknownWorld
from tests.hosting.conftest import GUEST, MEMBER, MEMBER2, MOD, MOD2, NOW, OWNER, restart


def test_roles_from_world_file(hosting: Hosting) -> None:
    r = hosting.roles
    assert r.role_of("plaza", OWNER) is Role.OWNER  # file says "Olivia": names are case-insensitive
    assert r.role_of("plaza", MOD) is Role.MODERATOR
    assert r.role_of("plaza", MOD2) is Role.MODERATOR
    assert r.role_of("plaza", MEMBER) is Role.MEMBER  # signed in, public world
    assert r.role_of("plaza", GUEST) is Role.GUEST
    assert r.role_of("vault", MEMBER) is Role.GUEST  # private: members are granted explicitly
    assert r.role_of("hidden", MOD2) is Role.MEMBER
    with pytest.raises(UnknownWorld):
        r.role_of("nowhere", OWNER)


def test_is_listed() -> None:
    assert is_listed("public")
    assert not is_listed("unlisted")
    assert not is_listed("private")


def test_role_grants_survive_a_restart(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    hosting.roles.grant("plaza", OWNER, "Bob", "moderator", NOW)
    hosting.roles.grant("vault", OWNER, "carol", Role.MEMBER, NOW)
    assert hosting.roles.role_of("plaza", MEMBER) is Role.MODERATOR
    h2 = restart(hosting, open_hosting)
    assert h2.roles.role_of("plaza", MEMBER) is Role.MODERATOR
    assert h2.roles.role_of("vault", MEMBER2) is Role.MEMBER
    assert [(g.account, g.role, g.granted_by) for g in h2.roles.grants("plaza")] == [("bob", "moderator", "a:olivia")]
    assert h2.roles.revoke("plaza", OWNER, "bob", NOW)
    h3 = restart(h2, open_hosting)
    assert h3.roles.role_of("plaza", MEMBER) is Role.MEMBER


def test_only_owners_grant_and_never_owner(hosting: Hosting) -> None:
    with pytest.raises(PermissionDenied, match="'grant_role' needs role owner or higher; you are moderator"):
        hosting.roles.grant("plaza", MOD, "bob", "member", NOW)
    with pytest.raises(PermissionDenied, match="only member, moderator can be granted"):
        hosting.roles.grant("plaza", OWNER, "bob", "owner", NOW)
    with pytest.raises(PermissionDenied, match="an owner cannot grant_role an owner"):
        hosting.roles.revoke("plaza", OWNER, "olivia", NOW)


def test_grants_cannot_demote_a_file_role(hosting: Hosting) -> None:
    hosting.roles.grant("plaza", OWNER, "max", "member", NOW)
    assert hosting.roles.role_of("plaza", MOD) is Role.MODERATOR


def test_private_world_admits_members_and_invite_holders(hosting: Hosting) -> None:
    r = hosting.roles
    r.admits("vault", OWNER, NOW)
    r.admits("vault", MOD, NOW)
    with pytest.raises(Refused, match="'vault' is private") as e:
        r.admits("vault", MEMBER, NOW)
    assert e.value.code == "private"
    invite = r.make_invite("vault", NOW + 3600, MOD, NOW)
    r.admits("vault", MEMBER, NOW, invite)
    r.admits("vault", GUEST, NOW, invite)
    r.grant("vault", OWNER, "carol", "member", NOW)
    r.admits("vault", MEMBER2, NOW)
    r.admits("plaza", GUEST, NOW)  # public and unlisted worlds need nothing
    r.admits("hidden", GUEST, NOW)


def test_invites_expire(hosting: Hosting) -> None:
    r = hosting.roles
    invite = r.make_invite("vault", NOW + 60, OWNER, NOW)
    assert r.check_invite(invite, "vault", NOW + 59).created_by == "a:olivia"
    with pytest.raises(InviteInvalid, match="expired"):
        r.check_invite(invite, "vault", NOW + 60)
    with pytest.raises(Refused, match="expired") as e:
        r.admits("vault", GUEST, NOW + 61, invite)
    assert e.value.code == "invite_invalid"


def test_invites_can_be_revoked_and_stay_revoked(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    invite = hosting.roles.make_invite("vault", NOW + 3600, OWNER, NOW)
    (row,) = hosting.roles.invites("vault")
    assert hosting.roles.revoke_invite(row.id, OWNER, NOW + 1)
    assert not hosting.roles.revoke_invite(row.id, OWNER, NOW + 2)
    with pytest.raises(InviteInvalid, match="revoked"):
        hosting.roles.check_invite(invite, "vault", NOW + 3)
    h2 = restart(hosting, open_hosting)
    with pytest.raises(InviteInvalid, match="revoked"):
        h2.roles.check_invite(invite, "vault", NOW + 3)


def test_invites_are_bound_to_a_world_and_unforgeable(hosting: Hosting) -> None:
    r = hosting.roles
    invite = r.make_invite("vault", NOW + 3600, OWNER, NOW)
    with pytest.raises(InviteInvalid, match="not for world 'hidden'"):
        r.check_invite(invite, "hidden", NOW)
    p, payload, mac = invite.split(".")
    with pytest.raises(InviteInvalid, match="not valid"):
        r.check_invite(f"{p}.{payload}.{mac[::-1]}", "vault", NOW)
    guest_token = hosting.identity.guest("Gus", NOW)  # a session token is not an invite
    with pytest.raises(InviteInvalid):
        r.check_invite(guest_token, "vault", NOW)


def test_invite_rules(hosting: Hosting) -> None:
    with pytest.raises(PermissionDenied, match="'invite' needs role moderator"):
        hosting.roles.make_invite("plaza", NOW + 60, MEMBER, NOW)
    with pytest.raises(InviteInvalid, match="expire in the future"):
        hosting.roles.make_invite("vault", NOW, OWNER, NOW)
    with pytest.raises(InviteInvalid):
        hosting.roles.make_invite("vault", NOW + 365 * 86400, OWNER, NOW)
