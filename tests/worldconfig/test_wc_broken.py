"""Every file in broken/ fails with exactly the expected message and location."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.worldconfig import WorldFileError, load_world, load_worlds, validate_paths
from tests.worldconfig.helpers import BROKEN

# Each broken/NAME.toml has a NAME.expected holding the exact issues, one per
# line, as str(ValidationIssue) with the bare file name.
CORPUS = sorted(p.name for p in BROKEN.glob("*.toml"))


def expected(name: str) -> list[str]:
    return (BROKEN / name).with_suffix(".expected").read_text(encoding="utf-8").splitlines()


def test_corpus_is_fully_covered() -> None:
    assert len(CORPUS) >= 20
    assert sorted(p.with_suffix(".toml").name for p in BROKEN.glob("*.expected")) == CORPUS


@pytest.mark.parametrize("name", CORPUS)
def test_broken_file(name: str) -> None:
    with pytest.raises(WorldFileError) as exc:
        load_world(BROKEN / name, name)
    assert [str(i) for i in exc.value.issues] == expected(name)


def test_issue_fields() -> None:
    with pytest.raises(WorldFileError) as exc:
        load_world(BROKEN / "bad-color.toml", "bad-color.toml")
    (issue,) = exc.value.issues
    assert (issue.file, issue.line, issue.col, issue.path) == (
        "bad-color.toml",
        17,
        9,
        "objects[1].material.color",
    )


def test_load_worlds_reports_every_bad_file() -> None:
    worlds, issues = load_worlds(BROKEN)
    assert worlds == {}
    assert len({i.file for i in issues}) == len(CORPUS)


def test_validate_paths_lines_and_exit_code() -> None:
    code, lines = validate_paths([str(BROKEN / "wrong-type.toml")])
    assert code == 1
    assert lines == [f'{BROKEN / "wrong-type.toml"}:2:12: capacity: expected an integer, found "ten"']
    code, lines = validate_paths([str(BROKEN / "nope.toml")])
    assert (code, lines) == (1, [f"{BROKEN / 'nope.toml'}:1:1: no such file or directory"])


# -- cross-file checks --------------------------------------------------------------


def test_portal_to_unknown_world(write_world, tmp_path: Path) -> None:
    write_world("gallery")
    write_world("hub", '[[portals]]\nid = "p"\ntarget = "galery"\nposition = [0, 1, 0]\n')
    worlds, issues = load_worlds(tmp_path)
    assert [f"{Path(i.file).name}:{i.line}:{i.col}: {i.path}: {i.message}" for i in issues] == [
        'hub.toml:10:10: portals[0].target: unknown world "galery"; did you mean "gallery"?'
    ]
    # The world still loads, minus the dangling portal.
    assert set(worlds) == {"gallery", "hub"} and worlds["hub"].portals == []


def test_portal_arrival_spawn_missing(write_world, tmp_path: Path) -> None:
    write_world("gallery", spawns='[[spawns]]\nname = "entrance"\nposition = [0, 0, 0]\n')
    write_world(
        "hub",
        '[[portals]]\nid = "p"\ntarget = "gallery"\narrival = "entrace"\nposition = [0, 1, 0]\n',
    )
    _, issues = load_worlds(tmp_path)
    assert [i.message for i in issues] == ['world "gallery" has no spawn "entrace"; did you mean "entrance"?']
    assert (issues[0].line, issues[0].col, issues[0].path) == (11, 11, "portals[0].arrival")


def test_portal_to_invalid_world(write_world, tmp_path: Path) -> None:
    write_world("gallery", '[[objects]]\nid = "x"\n')
    write_world("hub", '[[portals]]\nid = "p"\ntarget = "gallery"\nposition = [0, 1, 0]\n')
    worlds, issues = load_worlds(tmp_path)
    assert set(worlds) == {"hub"}
    assert [i.message for i in issues] == [
        "expected exactly one of shape, model, text, generate (or a template), found none of them",
        'world "gallery" has errors and is not loaded',
    ]


def test_validate_single_file_uses_siblings(write_world, tmp_path: Path) -> None:
    write_world("gallery")
    hub = write_world("hub", '[[portals]]\nid = "p"\ntarget = "gallery"\nposition = [0, 1, 0]\n')
    assert validate_paths([str(hub)]) == (0, [])
    assert validate_paths([str(tmp_path)]) == (0, [])
