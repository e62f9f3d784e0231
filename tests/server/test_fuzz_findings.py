"""Regressions for what ``bench/fuzz.py`` found against a real server: each of these wrote a
traceback into the server's log (and some answered 500) for a request any client can make.

- a frame still in flight when its session is kicked: ``KeyError`` in the WebSocket edge;
- a NUL byte in a static file path: ``ValueError: embedded null byte`` -> 500; a generated
  asset's key of 300 letters: ``OSError: File name too long`` -> 500;
- a body that fails to decode (``Content-Encoding: gzip`` on plain bytes) -> 500;
- malformed requests (a bad ``Content-Length``, a header without a colon, an oversized
  header): aiohttp logged each one at ERROR with a traceback.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from server.protocol import CloseCode, MsgType
from tests.serverproc import ANY_PORT, ServerProcess
from tests.worldfiles import LOBBY, club_world, world_dir
from tests.wsclient import Client, account, join


def log_size(srv: ServerProcess) -> int:
    return (srv.data_dir / "server.log").stat().st_size


def log_problems(srv: ServerProcess, offset: int = 0) -> list[str]:
    """Log lines (after byte ``offset``) with a traceback or at ERROR (JSON lines or text)."""
    bad = []
    with open(srv.data_dir / "server.log", "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if isinstance(rec, dict):
            if rec.get("exc") or rec.get("level") in ("ERROR", "CRITICAL"):
                bad.append(line[:2000])
        elif "Traceback (most recent call last)" in line or " ERROR " in line:
            bad.append(line[:2000])
    return bad


def raw(srv: ServerProcess, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` on a fresh socket; (status, whole response)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(request)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return int(out.split(b" ", 2)[1]), out


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    base = tmp_path_factory.mktemp("fuzz-findings")
    data = base / "data"
    (data / "assets").mkdir(parents=True)  # where generated GLBs live (made by the first generation)
    s = ServerProcess(ANY_PORT, data, world_dir(base, {"lobby": LOBBY})).start()
    yield s
    s.stop()


@pytest.mark.parametrize(
    "path",
    [
        "/%00",
        "/sdk/%00",
        "/sdk/a%00b.js",
        "/w/%00/x",
        "/assets/gen/" + "a" * 300 + ".glb",
        "/assets/gen/%C3%A9%C3%A9.glb",
    ],
    ids=["nul", "sdk-nul", "sdk-nul-mid", "page-nul", "gen-key-300-chars", "gen-key-unicode"],
)
def test_a_nul_byte_or_an_overlong_name_in_a_file_path_is_a_404_not_a_500(web: ServerProcess, path: str) -> None:
    before = log_size(web)
    status, resp = raw(web, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    assert status == 404, resp[:300]
    assert log_problems(web, before) == []


def test_a_body_that_fails_to_decode_is_a_400_not_a_500(web: ServerProcess) -> None:
    before = log_size(web)
    status, resp = raw(
        web,
        b"POST /api/guest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Encoding: gzip\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    )
    assert status == 400, resp[:300]
    assert b'"error"' in resp  # the API's JSON error body
    assert log_problems(web, before) == []


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /api/guest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\nConnection: close\r\n\r\n",
        b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColonHeader\r\nConnection: close\r\n\r\n",
        b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"h" * 20000 + b"\r\nConnection: close\r\n\r\n",
        b"POST /api/guest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
    ],
    ids=["bad-content-length", "header-without-colon", "oversized-header", "bad-chunk"],
)
def test_a_malformed_request_is_a_400_without_a_traceback_in_the_log(web: ServerProcess, request_bytes: bytes) -> None:
    before = log_size(web)
    status, resp = raw(web, request_bytes)
    assert 400 <= status < 500, resp[:300]
    assert log_problems(web, before) == []


async def spam(c: Client) -> None:
    """POSE and PING as fast as the socket takes them, until it is closed."""
    k = 0
    try:
        while True:
            k += 1
            await c.pose(c.spawn_head(), ts=k)
            await c.send([MsgType.PING, k])
            if k % 20 == 0:
                await asyncio.sleep(0.001)
    except (ConnectionError, RuntimeError, aiohttp.ClientError):
        return


@pytest.fixture
def club(tmp_path: Path) -> Iterator[ServerProcess]:
    worlds = world_dir(tmp_path, {"lobby": LOBBY, "club": club_world(datetime.now(UTC) - timedelta(minutes=10), 50)})
    s = ServerProcess.in_dir(tmp_path, worlds)
    yield s
    s.stop()


async def test_frames_in_flight_when_a_session_is_kicked_do_not_fail_it(
    club: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """The kicked session's socket still holds frames it sent; the edge must drop them (the hub
    has forgotten the session), not hand them to the hub and log ``session N failed``."""
    mira = await join(http, club, "mira", "club", await account(http, club, "mira"))
    for round_ in range(4):
        guest = await join(http, club, f"Spammer{round_}", "club")
        sender = asyncio.create_task(spam(guest))
        await asyncio.sleep(0.2)
        await mira.send([MsgType.MODERATE, "kick", guest.id, {"reason": "spam", "duration_s": 60}])
        while (await guest.ws.receive(timeout=5)).type == aiohttp.WSMsgType.BINARY:
            pass
        # 4007, or 1006 when the spammer's own writes race aiohttp's close reply (client side)
        assert guest.ws.close_code in (CloseCode.KICKED, aiohttp.WSCloseCode.ABNORMAL_CLOSURE)
        await asyncio.wait_for(sender, 5)
    await asyncio.sleep(0.3)  # the server logs what went wrong as the socket ends
    assert log_problems(club) == []
