from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.serverproc import ANY_PORT, REPO, ServerProcess


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A real Plaza server on 127.0.0.1 with the bundled worlds and a fresh data dir."""
    proc = ServerProcess(ANY_PORT, tmp_path / "data", REPO / "worlds")
    proc.data_dir.mkdir()
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP/WebSocket client session for talking to a test server."""
    async with aiohttp.ClientSession() as s:
        yield s
