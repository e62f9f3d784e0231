"""Start a real Plaza server process on 127.0.0.1 for tests (and stop it)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ANY_PORT = 0  # `plaza serve --port 0`: the server binds a port the OS chooses and names it
_STARTED = re.compile(rb"Plaza on https?://\S+?:(\d+)/")


def free_port() -> int:
    """A port that was free a moment ago: racy (another process may take it before it is
    bound). Tests start servers on ``ANY_PORT`` instead; bench/ still uses this."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def started_port(log: Path, offset: int = 0) -> int | None:
    """The port named by a server's "Plaza on ..." line in ``log`` after byte ``offset``."""
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            m = _STARTED.search(f.read())
    except FileNotFoundError:
        return None
    return int(m[1]) if m else None


def wait_healthy(
    proc: subprocess.Popen[bytes], log: Path, port: int = ANY_PORT, offset: int = 0, timeout: float = 30.0
) -> tuple[int, dict[str, Any]]:
    """Wait until the server ``proc`` (logging to ``log`` from byte ``offset`` on) answers
    ``GET /api/health`` on 127.0.0.1 with 200; returns its port (read from the log when
    ``port`` is ``ANY_PORT``) and the health body."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}): {_tail(log)}")
        if port == ANY_PORT:
            port = started_port(log, offset) or ANY_PORT
        if port != ANY_PORT:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as r:
                    if r.status == 200:
                        return port, json.loads(r.read())
            except OSError:
                pass  # not listening yet
        if time.monotonic() >= deadline:
            raise RuntimeError(f"server did not answer /api/health within {timeout} s: {_tail(log)}")
        time.sleep(0.05)


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-3000:]
    except FileNotFoundError:
        return "(no log)"


@dataclass
class ServerProcess:
    """``port`` ``ANY_PORT`` (0): the server picks one at the first start, kept for restarts."""

    port: int
    data_dir: Path
    worlds_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    extra_args: tuple[str, ...] = ()
    generate: bool = False

    @classmethod
    def in_dir(cls, base: Path, worlds: Path, **kw: object) -> ServerProcess:
        """Started on a free port with a fresh data directory under ``base``."""
        data = base / "data"
        data.mkdir()
        return cls(ANY_PORT, data, worlds, **kw).start()  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        cmd = [
            sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1",
            "--port", str(self.port), "--worlds", str(self.worlds_dir), "--data", str(self.data_dir),
            # The hashing text encoder keeps server start fast; one test loads MiniLM. World
            # placeholders stay stand-ins unless a test asks for generation.
            *(("--recommender-encoder", "hashing") if "--recommender-encoder" not in self.extra_args else ()),
            *(("--no-generate",) if not self.generate else ()),
            *self.extra_args,
        ]  # fmt: skip
        log_path = self.data_dir / "server.log"
        with open(log_path, "ab") as log:
            offset = log.tell()
            self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            self.port, _ = wait_healthy(self.proc, log_path, self.port, offset, timeout)
        except BaseException:
            self.kill()  # a server that never came up is not left behind
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGINT): the server flushes its write-behind buffer."""
        if self.proc is not None and self.proc.poll() is None:
            stop_process(self.proc, timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGINT (a server's clean stop), then SIGKILL if it is not gone within ``timeout``."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def worker_ports(s: ServerProcess, timeout: float = 60.0) -> list[int]:
    """A ``--workers N`` server's own worker ports, once every worker answers (the public port
    answers as soon as one does)."""
    m = re.search(r"own ports \[([\d, ]+)\]", (s.data_dir / "server.log").read_text())
    assert m, "supervisor line missing"
    ports = [int(x) for x in m[1].split(",")]
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"worker port {port} never answered"
            time.sleep(0.2)
    return ports
