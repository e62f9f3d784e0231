"""Paths and text builders shared by the world-config tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORLDS = REPO / "worlds"
BROKEN = Path(__file__).resolve().parent / "broken"


def minimal_world(world_id: str, body: str = "", spawns: str = "") -> str:
    """Smallest valid world text, plus extra TOML appended at the end."""
    spawns = spawns or '[[spawns]]\nname = "default"\nposition = [0, 0, 0]\n'
    return f'id = "{world_id}"\nname = "{world_id.title()}"\n\n{spawns}\n{body}'
