"""[[npcs]] and [chat_assist] in world files: valid ones reach the client description,
mistakes get a precise message at the right place."""

from __future__ import annotations

from pathlib import Path

from server.worldconfig.loader import load_file
from tests.worldconfig.helpers import minimal_world

GUIDE = """
[[npcs]]
name = "Nova"
home = [1, 0, 2]
lines = {{ greet = "Hello {{name}}" }}
{extra}
"""


def load(tmp_path: Path, body: str) -> tuple[object, list[str]]:
    p = tmp_path / "w.toml"
    p.write_text(minimal_world("w", body))
    r = load_file(p)
    return r.config, [str(i) for i in r.issues]


def test_a_guide_and_the_chat_policy_reach_the_client(tmp_path: Path) -> None:
    cfg, issues = load(tmp_path, GUIDE.format(extra="") + '[chat_assist]\nmode = "hold"\nhold_at = 0.95\n')
    assert issues == []
    desc = cfg.to_client()  # type: ignore[attr-defined]
    (npc,) = desc["npcs"]
    assert npc["name"] == "Nova" and npc["home"] == [1.0, 0.0, 2.0] and npc["behaviour"] == "guide"
    assert npc["lines"]["greet"] == "Hello {name}" and "{place}" in npc["lines"]["arrive"]  # defaults filled
    assert desc["chat_assist"] == {"mode": "hold", "hold_at": 0.95}


def test_npc_mistakes_are_pointed_at(tmp_path: Path) -> None:
    _, issues = load(tmp_path, '[[npcs]]\nname = "Nova"\nhome = [500, 0, 0]\n')
    assert any("npcs[0].home" in i and "inside bounds" in i for i in issues), issues
    _, issues = load(tmp_path, GUIDE.format(extra='[[npcs]]\nname = "NOVA"\nhome = [0, 0, 0]'))
    assert any("npcs[1].name" in i and "duplicate npc name" in i for i in issues), issues
    _, issues = load(tmp_path, '[[npcs]]\nname = "Nova"\nhome = [0, 0, 0]\nbehaviour = "dancer"\n')
    assert any("behaviour" in i and "guide" in i for i in issues), issues
    _, issues = load(tmp_path, '[chat_assist]\nmode = "loud"\n')
    assert any("mode" in i for i in issues), issues
