"""``plaza serve --workers N``: N processes behind one port, sharing Redis; one killed is restarted."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from server.cluster.link import DIRECTORY_EVERY_S
from server.protocol import MsgType
from tests.serverproc import REPO, ServerProcess, worker_ports
from tests.services import RedisServer
from tests.worldfiles import LOBBY, world_dir
from tests.wsclient import join


def test_more_than_one_worker_needs_redis(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--workers", "2", "--port", "0", "--data", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "--workers 2 needs --redis" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture
def workers(tmp_path: Path, redis_server: RedisServer, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    redis_server.flush()  # no directory entries of an earlier test's workers
    policy = getattr(request, "param", "fill-first")
    worlds = world_dir(tmp_path, {"lobby": LOBBY + f'[instances]\npolicy = "{policy}"\n'})
    s = ServerProcess.in_dir(tmp_path, worlds, extra_args=("--workers", "2", "--redis", redis_server.url))
    yield s
    s.stop(timeout=20)


def _pids(s: ServerProcess) -> list[int]:
    m = re.search(r"2 workers, pids \[(\d+), (\d+)\]", (s.data_dir / "server.log").read_text())
    assert m, "supervisor line missing"
    return [int(m[1]), int(m[2])]


# Balanced: two instances opened in a race stay two (a fill-first world merges them, moving
# people mid-session, which these plain test clients do not follow).
@pytest.mark.parametrize("workers", ["balanced"], indirect=True)
async def test_two_workers_share_one_port_and_a_killed_one_comes_back(
    workers: ServerProcess, http: aiohttp.ClientSession
) -> None:
    clients = [await join(http, workers, f"p{i}", "lobby") for i in range(8)]
    keys = {c.welcome["instance"] for c in clients}
    # Worker 0 numbers its instances from 1, worker 1 from 1001: never the same key twice.
    assert keys <= {"lobby#1", "lobby#1001"}

    async def everyone_counted() -> None:
        while True:  # whichever worker answers, the directory has both workers' instances
            async with http.get(workers.url + "/api/worlds") as r:
                lobby = next(w for w in await r.json() if w["id"] == "lobby")
            if lobby["occupancy"] == 8 and {i["id"] for i in lobby["instances"]} == keys:
                return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(everyone_counted(), 15)
    os.kill(_pids(workers)[0], signal.SIGKILL)

    async def restarted() -> None:
        while "restarting it" not in (workers.data_dir / "server.log").read_text():
            await asyncio.sleep(0.1)

    await asyncio.wait_for(restarted(), 10)
    # People reconnect and are served on the one port throughout.
    for i in range(4):
        c = await join(http, workers, f"again{i}", "lobby")
        assert c.welcome["instance"] in {"lobby#1", "lobby#1001"}


async def test_people_who_open_a_world_land_in_one_instance_whichever_worker_took_the_socket(
    workers: ServerProcess, http: aiohttp.ClientSession
) -> None:
    await asyncio.to_thread(worker_ports, workers)  # both workers serving (the public port: one is enough)
    first = await join(http, workers, "host", "lobby")
    key = first.welcome["instance"]

    # Within two directory refreshes (2 s each) the other worker knows the instance: its own
    # worker writes it, the other reads it back.
    await asyncio.sleep(2 * DIRECTORY_EVERY_S + 0.5)
    guests = [await join(http, workers, f"friend{i}", "lobby") for i in range(12)]
    assert {g.welcome["instance"] for g in guests} == {key}
    moved = [g.moved for g in guests if g.moved is not None]
    # The kernel spreads sockets over both workers: some of the twelve reached the other one
    # (all twelve on one worker: 1 in 4096) and were sent to the owner's own port.
    assert moved, "nobody was MOVED"
    port = int(workers.url.rsplit(":", 1)[1])
    assert all(m["instance"] == key and f":{port}/" not in m["url"] for m in moved)
    await first.send([MsgType.CHAT, "welcome, everyone"])
    for g in guests:  # one room: chat reaches all of them
        await g.until(lambda m: m[0] == MsgType.CHAT_MSG and m[3] == "welcome, everyone", timeout=5)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--database", "mysql://db/plaza"), "--database mysql://db/plaza: database:"),
        (("--database", "postgresql://plaza@/plaza?host=/nonexistent"), "error: database postgresql://plaza@/plaza"),
        (("--redis", "http://r"), "--redis http://r: redis:"),
        (("--workers", "0"), "--workers 0: workers:"),
    ],
)
def test_bad_cluster_settings_get_a_precise_error(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0", "--data", str(tmp_path), "--no-voice", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr, r.stderr


async def test_the_per_address_cap_counts_the_sockets_on_every_worker(
    tmp_path: Path, redis_server: RedisServer, http: aiohttp.ClientSession
) -> None:
    redis_server.flush()
    data = tmp_path / "data"
    data.mkdir()
    # Behind a (pretend) proxy on loopback, so the cap counts the forwarded address.
    (data / "plaza.toml").write_text('trusted_proxies = ["127.0.0.1"]\nmax_connections_per_ip = 3\n')
    worlds = world_dir(tmp_path, {"lobby": LOBBY})
    s = ServerProcess(0, data, worlds, extra_args=("--workers", "2", "--redis", redis_server.url)).start()
    try:
        a, b = worker_ports(s)
        me = {"X-Forwarded-For": "203.0.113.7"}

        async def open_at(port: int) -> aiohttp.ClientWebSocketResponse:
            return await http.ws_connect(f"ws://127.0.0.1:{port}/ws", headers=me)

        async def refused_at(port: int) -> bool:
            try:
                ws = await open_at(port)
            except aiohttp.WSServerHandshakeError as e:
                return e.status == 429
            await ws.close()
            return False

        held = [await open_at(a), await open_at(a), await open_at(b)]  # 3: the cap, over two workers

        async def eventually_refused(port: int, what: str) -> None:
            # Each worker hears of the other's sockets within a relay period or two.
            deadline = asyncio.get_running_loop().time() + 5
            while not await refused_at(port):
                assert asyncio.get_running_loop().time() < deadline, what
                await asyncio.sleep(0.1)

        await eventually_refused(b, "b never counted a's sockets")
        await eventually_refused(a, "a never counted b's socket")
        # (That a closed socket frees its place on the others is the delta rule's, in
        # test_directory.py: a client's close here does not always reach the server at once.)
        for ws in held:
            await ws.close()
    finally:
        s.stop(timeout=20)
