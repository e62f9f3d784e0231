from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serverproc import REPO, ServerProcess, free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A real Plaza server on 127.0.0.1 with the bundled worlds and a fresh data dir."""
    proc = ServerProcess(free_port(), tmp_path / "data", REPO / "worlds")
    proc.data_dir.mkdir()
    proc.start()
    yield proc
    proc.stop()
