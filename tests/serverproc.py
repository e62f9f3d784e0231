"""Start a real Plaza server process on 127.0.0.1 for tests (and stop it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
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
        return cls(free_port(), data, worlds, **kw).start()  # type: ignore[arg-type]

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
        with open(self.data_dir / "server.log", "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.data_dir / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGINT): the server flushes its write-behind buffer."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
