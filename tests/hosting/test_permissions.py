from __future__ import annotations

import json

import pytest

from server.hosting.errors import PermissionDenied, UnknownAction, UnknownRole
from server.hosting.permissions import (
    ACTIONS,
    ROLES_ASCENDING,
    Role,
    allowed,
    can_act_on,
    check,
    check_target,
    parse_role,
    table_json,
)

# An independent copy of the intended table: a change to the code table must change this too.
EXPECTED_MIN = {
    "chat": "guest", "grab": "guest", "report": "guest", "rsvp": "guest",
    "spawn_object": "member", "generate_object": "member",
    "kick": "moderator", "mute": "moderator", "ban": "moderator", "unban": "moderator",
    "remove_object": "moderator", "move_others_object": "moderator", "lock_world": "moderator",
    "view_reports": "moderator", "view_audit_log": "moderator", "invite": "moderator",
    "start_event": "moderator", "end_event": "moderator", "spotlight": "moderator", "gather": "moderator",
    "mute_all_chat": "moderator", "pin_message": "moderator",
    "grant_role": "owner", "edit_world": "owner", "create_event": "owner",
}  # fmt: skip
ORDER = ["guest", "member", "moderator", "owner"]


def test_table_covers_exactly_the_expected_actions() -> None:
    assert set(ACTIONS) == set(EXPECTED_MIN)


@pytest.mark.parametrize("action", sorted(EXPECTED_MIN))
@pytest.mark.parametrize("role", ORDER)
def test_permission_matrix(role: str, action: str) -> None:
    should = ORDER.index(role) >= ORDER.index(EXPECTED_MIN[action])
    assert allowed(role, action) is should
    assert allowed(Role(role), action) is should
    if should:
        check(role, action)
    else:
        with pytest.raises(PermissionDenied) as e:
            check(role, action)
        assert (e.value.action, e.value.role, e.value.needed_role) == (action, role, EXPECTED_MIN[action])
        assert e.value.code == "permission_denied"
        assert e.value.message == f"{action!r} needs role {EXPECTED_MIN[action]} or higher; you are {role}"


def test_guests_cannot_spawn_or_generate_but_can_take_part() -> None:
    for a in ("chat", "grab", "report", "rsvp"):
        assert allowed("guest", a)
    for a in ("spawn_object", "generate_object"):
        assert not allowed("guest", a)
        assert allowed("member", a)


@pytest.mark.parametrize("actor", ORDER)
@pytest.mark.parametrize("target", ORDER)
def test_can_act_on_only_lower_roles(actor: str, target: str) -> None:
    assert can_act_on(actor, target) is (ORDER.index(actor) > ORDER.index(target))


def test_moderator_cannot_act_on_moderators_or_owner() -> None:
    check_target("moderator", "member", "kick")
    check_target("moderator", "guest", "ban")
    check_target("owner", "moderator", "mute")
    for target in ("moderator", "owner"):
        with pytest.raises(PermissionDenied, match=f"a moderator cannot kick an? {target}"):
            check_target("moderator", target, "kick")
    with pytest.raises(PermissionDenied, match="needs role moderator"):  # the action check comes first
        check_target("member", "guest", "kick")


def test_unknown_action_and_role_fail_loudly() -> None:
    with pytest.raises(UnknownAction, match="unknown action 'kik'"):
        allowed("owner", "kik")
    with pytest.raises(UnknownRole, match="roles are guest, member, moderator, owner"):
        parse_role("admin")
    with pytest.raises(UnknownRole):
        allowed("admin", "chat")


def test_table_json_is_what_the_checks_use() -> None:
    t = json.loads(json.dumps(table_json()))
    assert t["roles"] == ORDER == [str(r) for r in ROLES_ASCENDING]
    assert set(t["actions"]) == set(EXPECTED_MIN)
    for action, row in t["actions"].items():
        assert row["min_role"] == EXPECTED_MIN[action]
        assert row["allowed"] == [r for r in ORDER if allowed(r, action)]
        assert row["description"]
    assert t["actions"]["kick"]["targets_lower_roles_only"] is True
    assert t["actions"]["chat"]["targets_lower_roles_only"] is False
    assert t["actions"]["gather"]["event_host_may"] is True


def test_docs_show_the_table_from_code() -> None:
    from pathlib import Path

    from server.hosting.permissions import table_markdown

    doc = (Path(__file__).resolve().parents[2] / "docs" / "hosting.md").read_text()
    start = doc.index("<!-- permission-table:start -->\n") + len("<!-- permission-table:start -->\n")
    end = doc.index("<!-- permission-table:end -->")
    assert doc[start:end] == table_markdown(), "regenerate the table in docs/hosting.md from table_markdown()"
