"""The web client in a ``--workers 2`` cluster: a page whose socket reached the worker that does
not own the lobby's instance follows MOVED to the owner's port and lands beside the first
person (a real browser: the cross-port socket must pass the origin check)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.cluster.link import DIRECTORY_EVERY_S
from tests.contract.conftest import redis_server  # noqa: F401  (session fixture)
from tests.e2e.conftest import Pages, state, wait_joined
from tests.serverproc import ServerProcess, worker_ports
from tests.services import RedisServer
from tests.worldfiles import LOBBY, world_dir

WATCH = "fps=10&lowpower&test"


@pytest.fixture
def cluster(tmp_path: Path, redis_server: RedisServer) -> Iterator[ServerProcess]:  # noqa: F811
    redis_server.flush()  # no directory entries of an earlier test's workers
    worlds = world_dir(tmp_path, {"lobby": LOBBY})
    s = ServerProcess.in_dir(tmp_path, worlds, extra_args=("--workers", "2", "--redis", redis_server.url, "--no-voice"))
    yield s
    s.stop(timeout=20)


def test_a_page_on_the_other_worker_follows_moved_and_joins_the_same_instance(
    cluster: ServerProcess, pages: Pages
) -> None:
    a_port, b_port = worker_ports(cluster)
    # Each page is served by one worker's own port, so its socket reaches that worker for sure.
    first = pages.open(f"http://127.0.0.1:{a_port}/w/lobby?name=Ana&{WATCH}")
    key = wait_joined(first, "lobby")["instance"]
    time.sleep(2 * DIRECTORY_EVERY_S + 0.5)  # both workers' directories know it
    second = pages.open(f"http://127.0.0.1:{b_port}/w/lobby?name=Ben&{WATCH}")
    assert wait_joined(second, "lobby")["instance"] == key
    log = (cluster.data_dir / "server.log").read_text()
    assert re.search(r"closing session \d+: 4012 lobby is on another worker", log), "Ben was not MOVED"
    # One room: each sees the other.
    for page, other in ((first, "Ben"), (second, "Ana")):
        page.wait_for_function("(n) => plaza.state().people.some((p) => p.name === n)", arg=other, timeout=15_000)
    assert state(second)["connected"] and not pages.errors, pages.errors
