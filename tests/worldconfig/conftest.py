"""Fixtures for the world-config tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.worldconfig.helpers import minimal_world


@pytest.fixture
def write_world(tmp_path: Path) -> Callable[..., Path]:
    """Write ``<tmp_path>/<id>.toml`` from ``minimal_world`` and return its path."""

    def write(world_id: str, body: str = "", spawns: str = "", directory: Path | None = None) -> Path:
        p = (directory or tmp_path) / f"{world_id}.toml"
        p.write_text(minimal_world(world_id, body, spawns), encoding="utf-8")
        return p

    return write
