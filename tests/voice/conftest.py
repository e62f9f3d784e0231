"""Voice tests: a real Plaza server that starts a real Janus, real headless Chromium pages
with fake microphones, on loopback only.

When these tests are collected and we are root, the whole test process first moves into a
private network namespace that holds only ``lo`` (like ``unshare -n``): Plaza, Janus and
Chromium inherit it, so media can only flow over 127.0.0.1 and nothing reaches the LAN. Janus
never gathers ICE candidates on a loopback interface (src/ice.c skips IFF_LOOPBACK), so the
Janus these tests start is a wrapper that preloads ``lo_ice_shim.c``, compiled here into a
temporary directory, with ``voice.ice_interfaces = ["lo"]``. Skips, with the reason, when
janus, gcc, chromium or the web client's node_modules are missing.

Pages are the voice harness (``Pages.open``) or the full web client (``Pages.client``, WebGL
on SwiftShader); ``http://plaza.test:PORT`` reaches the same server from a page without a
secure context (Chromium maps the name to 127.0.0.1).
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import math
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import wave
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.serverproc import ANY_PORT, REPO, ServerProcess
from tests.worldfiles import LOBBY, club_world, world_dir

HERE = Path(__file__).resolve().parent
JANUS = Path(os.environ.get("JANUS_PATH", "/usr/bin/janus"))
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
NODE_MODULES = REPO / "web_client" / "node_modules"
INSECURE_HOST = "plaza.test"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--use-fake-ui-for-media-stream",  # getUserMedia is granted without a prompt
    "--use-fake-device-for-media-stream",  # ... and gets a fake microphone (the tone below)
    "--autoplay-policy=no-user-gesture-required",  # else the AudioContext stays suspended
    "--allow-loopback-in-peer-connection",  # WebRTC may use 127.0.0.1
    # Real IPs, no .local names; and the harness page, fulfilled by Playwright (no address),
    # may still reach 127.0.0.1 (Local Network Access treats it as a public page otherwise).
    "--disable-features=WebRtcHideLocalIpsWithMdns,LocalNetworkAccessChecks",
    # The full web client (three.js, an emulated headset) draws with WebGL on the CPU.
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    # http://plaza.test:PORT is the Plaza server too, but not a secure context (as a plain-http
    # LAN address is not): the page where voice must say why it is off.
    f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
]  # fmt: skip
STAFF = ("mira", "djsol")  # hall's moderator; the club's event host
PASSWORD = "correct horse battery"
SILENT, LOUD = 0.003, 0.05  # RMS, full scale 1.0; the fake mic's tone arrives at ~0.3-0.7

FIELD = """
id = "field"
name = "Field"
capacity = 10
[bounds]
min = [-100, -1, -100]
max = [100, 10, 100]
[[spawns]]
name = "default"
position = [0, 0, 0]
[audio]
radius = 15
"""
HALL = """
id = "hall"
name = "Hall"
capacity = 10
[bounds]
min = [-30, -1, -30]
max = [30, 10, 30]
[[spawns]]
name = "default"
position = [0, 0, 0]
[roles]
moderators = ["mira"]
"""
MEETING = """
id = "meeting"
name = "Meeting room"
capacity = 10
[bounds]
min = [-100, -1, -100]
max = [100, 10, 100]
[[spawns]]
name = "default"
position = [0, 0, 0]
[audio]
mode = "flat"
radius = 5
"""

_missing = [str(p) for p in (JANUS, Path(CHROMIUM), NODE_MODULES / "@msgpack") if not p.exists()]
if shutil.which("gcc") is None:
    _missing.append("gcc")
SKIP_WHY = f"voice tests need {', '.join(_missing)} (apt install janus gcc chromium; cd web_client && npm ci)"
try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # the pure-core tests of this directory still run
    _missing.append("playwright (pip install -e .[test])")
    SKIP_WHY = f"voice tests need {', '.join(_missing)}"
    Browser = Page = Any  # type: ignore[misc,assignment]


def need_media() -> None:
    if _missing:
        pytest.skip(SKIP_WHY)


def _only_lo() -> bool:
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def _enter_private_netns() -> bool:
    """``unshare -n`` for this process (root only) and ``ip link set lo up``."""
    if _only_lo() or os.environ.get("VOICE_TEST_HOST_NETWORK"):
        return _only_lo()
    if os.geteuid() != 0 or ctypes.CDLL(None, use_errno=True).unshare(0x40000000) != 0:  # CLONE_NEWNET
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, req))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))  # SIOCSIFFLAGS |= IFF_UP
    return True


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    # Before any test runs (and before any fixture opens a socket): everything after this,
    # the servers, Janus and Chromium, lives in the namespace. Other tests only use loopback.
    if not _missing and any(HERE in Path(str(i.path)).parents and "browser" in i.path.name for i in items):
        config.stash[_NETNS] = _enter_private_netns()


_NETNS = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def only_lo(pytestconfig: pytest.Config) -> bool:
    return pytestconfig.stash.get(_NETNS, False)


def write_tone(path: Path) -> None:
    """440 Hz at 0.3 full scale, 200 ms on / 50 ms off: a steady level with precise onsets."""
    sr = 48000
    frames = bytearray()
    for i in range(2 * sr):
        v = int(9830 * math.sin(2 * math.pi * 440 * i / sr)) if i % 12000 < 9600 else 0
        frames += struct.pack("<h", v)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(bytes(frames))


@pytest.fixture(scope="session")
def janus_wrapper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An executable that runs /usr/bin/janus with the loopback shim preloaded."""
    need_media()
    d = tmp_path_factory.mktemp("janus-shim")
    so = d / "lo_ice_shim.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(so), str(HERE / "lo_ice_shim.c"), "-ldl"], check=True)
    wrapper = d / "janus-lo"
    wrapper.write_text(f'#!/bin/sh\nLD_PRELOAD="{so}" exec "{JANUS}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def voice_toml(janus: Path, ttl_s: float = 3.0) -> str:
    base = random.randrange(20000, 59000, 200)
    return (
        f'[voice]\njanus = "{janus}"\nice_interfaces = ["lo"]\nrtp_ports = "{base}-{base + 199}"\n'
        f"credential_ttl_s = {ttl_s}\n"
    )


@pytest.fixture(scope="module")
def voice_server(
    tmp_path_factory: pytest.TempPathFactory, janus_wrapper: Path, only_lo: bool
) -> Iterator[ServerProcess]:
    base = tmp_path_factory.mktemp("plaza-voice")
    start = datetime.now(UTC) - timedelta(minutes=5)  # the club's event is on now
    specs = {"lobby": LOBBY, "field": FIELD, "hall": HALL, "meeting": MEETING, "club": club_world(start)}
    worlds = world_dir(base, specs)
    data = base / "data"
    data.mkdir()
    (data / "plaza.toml").write_text(voice_toml(janus_wrapper))
    for user in STAFF:  # role names, made the operator's way (the setup token is single-use)
        subprocess.run(
            [sys.executable, "-m", "server.cli", "admin", "create-account", user, "--password-env", "PLAZA_TEST_PW",
             "--data", str(data), "--worlds", str(worlds)],
            check=True, cwd=REPO, env={**os.environ, "PLAZA_TEST_PW": PASSWORD}, capture_output=True,
        )  # fmt: skip
    proc = ServerProcess(ANY_PORT, data, worlds, extra_args=("--no-recommender",)).start()
    yield proc
    proc.stop()
    log = (data / "janus" / "janus.log").read_text(errors="replace") if (data / "janus" / "janus.log").exists() else ""
    errs = [line for line in log.splitlines() if "[ERR]" in line]
    if errs:
        print("janus errors:\n" + "\n".join(errs[-20:]))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    need_media()
    tone = tmp_path_factory.mktemp("audio") / "tone.wav"
    write_tone(tone)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={tone}"]
        )
        yield b
        b.close()


def account(srv: ServerProcess, user: str) -> str:
    """A token of one of the STAFF accounts (signed in over HTTP)."""
    body = {"user": user, "password": PASSWORD}
    req = urllib.request.Request(
        srv.url + "/api/signin", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return str(json.load(r)["token"])


HARNESS = (HERE / "harness.html").read_text()


class Pages:
    """Harness pages at the Plaza origin; JS errors fail the test."""

    def __init__(self, browser: Browser, srv: ServerProcess) -> None:
        self.browser, self.srv = browser, srv
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def open(self, name: str, world: str = "lobby", x: float = 0.0, z: float = 0.0, token: str = "",
             voice: bool = True, instance: str = "") -> Page:  # fmt: skip
        ctx = self.browser.new_context(bypass_csp=True)
        self.contexts.append(ctx)
        ctx.route("**/voice-harness.html*", lambda route: route.fulfill(body=HARNESS, content_type="text/html"))
        page = ctx.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"{name}: {e}"))
        page.on("console", lambda m: self.errors.append(f"{name}: {m.text}") if m.type == "error" else None)
        q = f"name={name}&world={world}&x={x}&z={z}" + (f"&token={token}" if token else "")
        q += f"&instance={instance}" if instance else ""
        page.goto(f"{self.srv.url}/voice-harness.html?{q}")
        page.wait_for_function("window.ready === true", timeout=15000)
        if voice:
            assert page.evaluate("window.plaza.voice.enable()") is True, page.evaluate("window.plaza.voice.error")
            page.wait_for_function("window.plaza.voice.connected === true", timeout=15000)
        return page

    def client(self, path: str, origin: str = "") -> Page:
        """The full web client (``/w/<world>?...``) at the Plaza origin or at ``origin``."""
        ctx = self.browser.new_context(bypass_csp=True, viewport={"width": 480, "height": 360})
        self.contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"{path}: {e}"))
        page.on("console", lambda m: self.errors.append(f"{path}: {m.text}") if m.type == "error" else None)
        page.goto(f"{origin or self.srv.url}{path}")
        return page

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()
        self.contexts.clear()


@pytest.fixture
def pages(browser: Browser, voice_server: ServerProcess) -> Iterator[Pages]:
    p = Pages(browser, voice_server)
    yield p
    p.close()
    assert not p.errors, p.errors


def level(page: Page, eid: int) -> float:
    """Peak RMS of the last 250 ms of ``eid``'s voice at ``page`` (0.0 when not received)."""
    peers = page.evaluate("window.plaza.state().voice.peers")
    return max([p["level"] for p in peers if p["id"] == eid], default=0.0)


def self_id(page: Page) -> int:
    return int(page.evaluate("window.plaza.client.selfId"))


def inbound_bytes(page: Page) -> int:
    return int(page.evaluate("window.plaza.voice.inboundBytes()"))


def wait_for(fn: Callable[[], Any], timeout: float = 10.0, every: float = 0.05, what: str = "") -> Any:
    t0 = time.monotonic()
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or fn}")
        time.sleep(every)
