"""The edge on the open internet: whose address a request is (trusted proxies only), the
per-address WebSocket cap, the wait for a request's headers, the Origin check on /ws, the
security headers of every response, and cross-site form posts.

The servers here run in-process (``create_app`` + ``AppRunner`` with ``run_options``) so a test
can set the open-internet settings the CLI may not expose as flags.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import msgpack
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from server.config import ServerConfig
from server.protocol import MsgType
from server.web import create_app
from server.web.keys import EDGE
from server.web.security import client_ip, inline_script_hashes, run_options
from tests.serverproc import REPO

INDEX = REPO / "web_client" / "index.html"


class Running:
    def __init__(self, app: web.Application, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/ws"


@contextlib.asynccontextmanager
async def running(tmp_path: Path, **settings: Any) -> AsyncIterator[Running]:
    """A Plaza app on a free loopback port, started the way ``plaza serve`` starts it."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    config = ServerConfig(
        data_dir=data, recommender=False, watch=False, generate_placeholders=False, port=0, **settings
    )
    app = create_app(config)
    runner = web.AppRunner(app, **run_options(config))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield Running(app, runner.addresses[0][1])
    finally:
        await runner.cleanup()


def mocked(headers: dict[str, str] | list[tuple[str, str]], peer: str) -> web.Request:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda k, d=None: (peer, 5555) if k == "peername" else d
    hdrs = headers.items() if isinstance(headers, dict) else headers
    from multidict import CIMultiDict

    return make_mocked_request("GET", "/", headers=CIMultiDict(hdrs), transport=transport)


# ----- 1. the client's address -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("peer", "trusted", "headers", "expected"),
    [
        # No trusted proxy: the peer, whatever the headers say.
        ("198.51.100.9", (), {"X-Forwarded-For": "203.0.113.7"}, "198.51.100.9"),
        ("127.0.0.1", (), {"Forwarded": "for=203.0.113.7"}, "127.0.0.1"),
        # The peer is not one of the trusted proxies: still the peer.
        ("198.51.100.9", ("10.0.0.0/8",), {"X-Forwarded-For": "203.0.113.7"}, "198.51.100.9"),
        # A trusted proxy: the right-most address that is not a trusted proxy.
        ("10.0.0.2", ("10.0.0.0/8",), {"X-Forwarded-For": "203.0.113.7"}, "203.0.113.7"),
        ("10.0.0.2", ("10.0.0.0/8",), {"X-Forwarded-For": "1.1.1.1, 203.0.113.7, 10.0.0.5"}, "203.0.113.7"),
        (
            "10.0.0.2",
            ("10.0.0.2",),
            [("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-For", "203.0.113.7")],
            "203.0.113.7",
        ),
        ("10.0.0.2", ("10.0.0.0/8",), {"X-Forwarded-For": "203.0.113.7:4711"}, "203.0.113.7"),
        ("10.0.0.2", ("10.0.0.0/8",), {"X-Forwarded-For": "[2001:db8::1]:4711"}, "2001:db8::1"),
        # RFC 7239, when there is no X-Forwarded-For.
        ("10.0.0.2", ("10.0.0.0/8",), {"Forwarded": 'for=1.1.1.1, for="[2001:db8::7]:80";proto=https'}, "2001:db8::7"),
        ("::1", ("::1",), {"Forwarded": "for=203.0.113.7;by=10.0.0.1"}, "203.0.113.7"),
        # The proxy could not say ("unknown"): the proxy is who we know.
        ("10.0.0.2", ("10.0.0.0/8",), {"X-Forwarded-For": "unknown"}, "10.0.0.2"),
        ("10.0.0.2", ("10.0.0.0/8",), {"X-Forwarded-For": "1.1.1.1, unknown, 10.0.0.3"}, "10.0.0.3"),
        # Every hop a proxy: the left-most.
        ("10.0.0.2", ("10.0.0.0/8",), {"X-Forwarded-For": "10.0.0.4, 10.0.0.3"}, "10.0.0.4"),
        ("10.0.0.2", ("10.0.0.0/8",), {}, "10.0.0.2"),
        # IPv4-mapped IPv6 peers (a dual-stack listener) count as their IPv4 address.
        ("::ffff:10.0.0.2", ("10.0.0.0/8",), {"X-Forwarded-For": "203.0.113.7"}, "203.0.113.7"),
    ],
)
def test_client_ip_believes_forwarded_headers_only_from_trusted_proxies(
    peer: str, trusted: tuple[str, ...], headers: Any, expected: str
) -> None:
    assert client_ip(mocked(headers, peer), trusted) == expected


def test_a_bad_trusted_proxy_entry_fails_at_start(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    config = ServerConfig(data_dir=tmp_path / "data", recommender=False, watch=False, trusted_proxies=("nginx",))
    with pytest.raises(ValueError, match="nginx"):
        create_app(config)


async def _sign_in(http: aiohttp.ClientSession, url: str, user: str, forwarded_for: str) -> int:
    async with http.post(
        url + "/api/signin",
        json={"user": user, "password": "wrong password"},
        headers={"X-Forwarded-For": forwarded_for},
    ) as r:
        await r.read()
        return r.status


async def test_sign_in_lockout_follows_the_forwarded_address_behind_a_trusted_proxy(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running(tmp_path, trusted_proxies=("127.0.0.1",)) as srv:
        # A different (unknown) name each time: only the per-address limit can lock.
        for i in range(5):
            assert await _sign_in(http, srv.url, f"nobody{i}", "203.0.113.7") == 401
        assert await _sign_in(http, srv.url, "nobody5", "203.0.113.7") == 429
        assert await _sign_in(http, srv.url, "nobody6", "198.51.100.20") == 401  # someone else behind the proxy


async def test_a_spoofed_forwarded_for_is_ignored_without_a_trusted_proxy(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running(tmp_path) as srv:
        for i in range(5):  # a new made-up address each time does not dodge the limit
            assert await _sign_in(http, srv.url, f"nobody{i}", f"203.0.113.{i + 1}") == 401
        assert await _sign_in(http, srv.url, "nobody5", "198.51.100.20") == 429


# ----- 2. concurrent WebSockets per address ----------------------------------------------------
async def test_the_17th_websocket_from_one_address_is_refused_with_429(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    # Through a (trusted) reverse proxy on loopback, as a public deployment runs.
    async with running(tmp_path, trusted_proxies=("127.0.0.1",)) as srv:
        a = {"X-Forwarded-For": "203.0.113.7"}
        socks = [await http.ws_connect(srv.ws_url, headers=a) for _ in range(16)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(srv.ws_url, headers=a)
        assert refused.value.status == 429
        async with http.get(srv.ws_url.replace("ws:", "http:"), headers=a) as r:  # the body, for the record
            assert r.status == 429 and (await r.json())["error"] == "too_many_connections"
            assert r.headers["Retry-After"]
        assert srv.app[EDGE].per_ip.open == {"203.0.113.7": 16}
        # One leaves: one more may come; all leave: nothing is left counted.
        await socks.pop().close()
        for _ in range(50):
            if srv.app[EDGE].per_ip.open["203.0.113.7"] < 16:
                break
            await asyncio.sleep(0.05)
        socks.append(await http.ws_connect(srv.ws_url, headers=a))
        for ws in socks:
            await ws.close()
        for _ in range(50):
            if not srv.app[EDGE].per_ip.open:
                break
            await asyncio.sleep(0.05)
        assert srv.app[EDGE].per_ip.open == {}


async def test_this_machine_is_not_capped(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    """Loopback peers (load tests, local tools) may open more; a local proxy must be trusted."""
    async with running(tmp_path, max_connections_per_ip=2) as srv:
        socks = [await http.ws_connect(srv.ws_url) for _ in range(5)]
        for ws in socks:
            await ws.close()


async def test_the_cap_counts_forwarded_addresses_behind_a_trusted_proxy(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running(tmp_path, trusted_proxies=("127.0.0.1",), max_connections_per_ip=2) as srv:
        a = {"X-Forwarded-For": "203.0.113.7"}
        socks = [await http.ws_connect(srv.ws_url, headers=a) for _ in range(2)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(srv.ws_url, headers=a)
        assert refused.value.status == 429
        socks.append(await http.ws_connect(srv.ws_url, headers={"X-Forwarded-For": "203.0.113.8"}))
        for ws in socks:
            await ws.close()


# ----- 3. the wait for a request's headers -----------------------------------------------------
async def test_a_half_sent_request_is_closed_within_the_header_timeout(tmp_path: Path) -> None:
    async with running(tmp_path, header_timeout_s=1.0) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        writer.write(b"GET / HTTP/1.1\r\n")  # and nothing more
        await writer.drain()
        t0 = time.monotonic()
        data = await asyncio.wait_for(reader.read(), timeout=1.0 + 2.0)
        assert data == b"" and time.monotonic() - t0 <= 3.0
        writer.close()
        # Trickling header bytes does not buy more time.
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        t0 = time.monotonic()
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        with contextlib.suppress(ConnectionError):
            while not reader.at_eof() and time.monotonic() - t0 < 5:
                writer.write(b"X-a: b\r\n")
                await writer.drain()
                await asyncio.sleep(0.2)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reader.read(1), 0.01)
        assert time.monotonic() - t0 <= 3.0
        writer.close()


async def test_the_header_timeout_leaves_websockets_and_complete_requests_alone(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running(tmp_path, header_timeout_s=1.0) as srv:
        ws = await http.ws_connect(srv.ws_url)
        async with http.get(srv.url + "/api/health") as r:
            assert r.status == 200
        await asyncio.sleep(1.6)
        assert not ws.closed
        await ws.send_bytes(msgpack.packb([MsgType.HELLO, {"v": [1], "name": "Ada", "world": "lobby"}]))
        m = msgpack.unpackb((await ws.receive(timeout=5)).data, strict_map_key=False)
        assert m[0] == MsgType.WELCOME
        await ws.close()


def test_run_options_bound_the_wait_for_headers() -> None:
    assert run_options(ServerConfig(header_timeout_s=7.5)) == {"keepalive_timeout": 7.5}


# ----- 4. the Origin of WebSocket upgrades -----------------------------------------------------
async def _ws_status(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> int:
    try:
        ws = await http.ws_connect(url, headers=headers)
    except aiohttp.WSServerHandshakeError as e:
        return e.status
    await ws.close()
    return 101


async def test_websockets_from_another_origin_are_refused(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with running(tmp_path) as srv:
        here = f"http://127.0.0.1:{srv.port}"
        assert await _ws_status(http, srv.ws_url, {}) == 101  # no Origin: bots, the SDK
        assert await _ws_status(http, srv.ws_url, {"Origin": here}) == 101  # the server's own page
        for other in (
            "http://evil.example",
            f"http://127.0.0.1:{srv.port + 1}",
            f"https://127.0.0.1.evil:{srv.port}",
            "null",
        ):
            assert await _ws_status(http, srv.ws_url, {"Origin": other}) == 403, other
        async with http.get(srv.url + "/ws", headers={"Origin": "http://evil.example"}) as r:
            assert r.status == 403 and (await r.json())["error"] == "origin_not_allowed"
        assert srv.app[EDGE].per_ip.open == {}  # refused before it was counted
        # A proxy that rewrites Host: the forwarded host counts, but only from a trusted proxy.
        fwd = {"Origin": "https://plaza.example", "X-Forwarded-Host": "plaza.example"}
        assert await _ws_status(http, srv.ws_url, fwd) == 403


async def test_allowed_origins_and_trusted_proxy_hosts(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with running(tmp_path, allowed_origins=("https://app.example",), trusted_proxies=("127.0.0.0/8",)) as srv:
        assert await _ws_status(http, srv.ws_url, {"Origin": "https://app.example"}) == 101
        assert await _ws_status(http, srv.ws_url, {"Origin": "https://app.example:443"}) == 101
        assert await _ws_status(http, srv.ws_url, {"Origin": "http://app.example"}) == 403
        assert await _ws_status(http, srv.ws_url, {"Origin": f"http://127.0.0.1:{srv.port}"}) == 101
        fwd = {"Origin": "https://plaza.example", "X-Forwarded-Host": "plaza.example"}
        assert await _ws_status(http, srv.ws_url, fwd) == 101
        assert (
            await _ws_status(http, srv.ws_url, {"Origin": "https://plaza.example", "Forwarded": "host=plaza.example"})
            == 101
        )
    async with running(tmp_path, allowed_origins=("*",)) as srv:
        assert await _ws_status(http, srv.ws_url, {"Origin": "http://anywhere.example"}) == 101


# ----- 5. security headers -------------------------------------------------------------------
def _import_map_hash() -> str:
    html = INDEX.read_text(encoding="utf-8")
    body = re.search(r'<script type="importmap">(.*?)</script>', html, re.DOTALL)
    assert body is not None
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode() + "'"


def test_inline_script_hashes_are_the_browsers() -> None:
    html = '<script type="importmap">\r\n{"imports": {}}\r\n</script><script src="/x.js"></script><SCRIPT>a()</SCRIPT >'
    expected = [hashlib.sha256(b'\n{"imports": {}}\n').digest(), hashlib.sha256(b"a()").digest()]
    assert inline_script_hashes(html) == [f"'sha256-{base64.b64encode(d).decode()}'" for d in expected]


async def test_every_response_carries_the_security_headers(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with running(tmp_path) as srv:
        for path, status in [("/", 200), ("/w/lobby", 200), ("/js/main.js", 200), ("/api/health", 200),
                             ("/nope.txt", 404), ("/api/nope", 404)]:  # fmt: skip
            async with http.get(srv.url + path) as r:
                assert r.status == status, path
                h = r.headers
                csp = h["Content-Security-Policy"]
                directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
                assert directives["script-src"].split() == ["'self'", _import_map_hash()], path
                assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
                assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
                assert {"'self'", "ws:", "wss:"} <= set(directives["connect-src"].split())
                assert {"'self'", "data:", "blob:"} <= set(directives["img-src"].split())
                assert h["X-Content-Type-Options"] == "nosniff"
                assert h["X-Frame-Options"] == "DENY"
                assert h["Referrer-Policy"] == "no-referrer"
                assert h["Server"] == "Plaza", path  # no Python or aiohttp version
        ws = await http.ws_connect(srv.ws_url)
        await ws.close()


# ----- 6. cross-site form posts ------------------------------------------------------------------
async def test_a_cross_site_form_post_creates_no_account(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    """A page on any site can make a browser POST a form or text/plain without a CORS preflight;
    the API takes JSON bodies only, so such a post does nothing."""
    creds = {"user": "mallory", "password": "correct horse battery"}
    async with running(tmp_path) as srv:
        posts = [
            ("application/x-www-form-urlencoded", "user=mallory&password=correct+horse+battery"),
            ("text/plain", '{"user": "mallory", "password": "correct horse battery"}'),
            (
                "multipart/form-data; boundary=x",
                '--x\r\nContent-Disposition: form-data; name="user"\r\n\r\nmallory\r\n--x--\r\n',
            ),
        ]
        for ctype, body in posts:
            headers = {"Content-Type": ctype, "Origin": "http://evil.example"}
            async with http.post(srv.url + "/api/accounts", data=body, headers=headers) as r:
                assert r.status == 415, ctype
                assert (await r.json())["error"] == "unsupported_media_type"
        async with http.post(srv.url + "/api/signin", json=creds) as r:
            assert r.status == 401 and (await r.json())["error"] == "bad_credentials"
