"""Small world files for tests that need their own worlds directory."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

LOBBY = """
id = "lobby"
name = "Lobby"
[bounds]
min = [-20, -1, -20]
max = [20, 10, 20]
[[spawns]]
name = "default"
position = [0, 0, 0]
"""


def club_world(start: datetime, capacity: int = 2, extra: str = "") -> str:
    """A 200 m club with a stage 20 m from the spawn and a weekly event hosted by "djsol"."""
    return f"""
id = "club"
name = "Club"
capacity = {capacity}
[bounds]
min = [-100, -1, -100]
max = [100, 10, 100]
[[spawns]]
name = "default"
position = [0, 0, 0]
[[spawns]]
name = "main"
position = [0, 0, -20]
[roles]
owner = "kofi"
moderators = ["mira"]
[[objects]]
id = "speaker"
shape = "box"
size = [1, 2, 1]
position = [0, 1, -25]
grabbable = true
{extra}
[[events]]
id = "set"
title = "Late set"
description = "Live music"
tags = ["music"]
start = {start.strftime("%Y-%m-%dT%H:%M:%S")}Z
duration_minutes = 120
host = "djsol"
stage = "main"
recurrence = "weekly"
"""


def world_dir(base: Path, files: dict[str, str]) -> Path:
    """``base/worlds`` holding ``{id: toml}`` as ``<id>.toml``."""
    d = base / "worlds"
    d.mkdir()
    for wid, text in files.items():
        (d / f"{wid}.toml").write_text(text)
    return d
