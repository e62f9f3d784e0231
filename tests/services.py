"""Real PostgreSQL and Redis servers for tests, started on loopback in a temporary directory.

Both listen on a Unix socket in their own directory (no TCP port to race for, nothing reachable
from outside), keep nothing on disk beyond that directory, and are stopped by the fixture that
started them. PostgreSQL refuses to run as root, so as root the cluster runs as ``nobody``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def _newest_pg_bin() -> Path:
    """Debian's ``postgresql`` puts its server binaries in /usr/lib/postgresql/<major>/bin."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    return found[-1] if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = Path(os.environ["PLAZA_PG_BIN"]) if os.environ.get("PLAZA_PG_BIN") else _newest_pg_bin()
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def pg_missing() -> str | None:
    """Why PostgreSQL tests cannot run here, or None."""
    if not (PG_BIN / "initdb").is_file() or not (PG_BIN / "postgres").is_file():
        return f"PostgreSQL binaries not found in {PG_BIN} (set PLAZA_PG_BIN)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed"
    return None


def redis_missing() -> str | None:
    if not Path(REDIS_SERVER).is_file():
        return "redis-server not found"
    try:
        import redis  # noqa: F401
    except ImportError:
        return "redis (redis-py) is not installed"
    return None


def _as_service_user() -> list[str]:
    return ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []


def _wait(check: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if callable(check) and check():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout} s")
        time.sleep(0.05)


class PostgresCluster:
    """``initdb`` + ``postgres`` in a temporary directory; ``new_database()`` per test."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="plaza-pg-"))
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self.log = self.dir / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._n = itertools.count(1)

    def start(self) -> PostgresCluster:
        self.sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "nobody")
            shutil.chown(self.sock, "nobody")
        subprocess.run(
            [
                *_as_service_user(),
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "plaza",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
        )
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    *_as_service_user(),
                    str(PG_BIN / "postgres"),
                    "-D",
                    str(self.data),
                    "-k",
                    str(self.sock),
                    "-c",
                    "listen_addresses=",
                    "-c",
                    "fsync=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "max_connections=200",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait(lambda: self._connect("postgres"), f"PostgreSQL (log: {self.log})")
        return self

    def url(self, db: str) -> str:
        return f"postgresql://plaza@/{db}?host={self.sock}"

    def _connect(self, db: str) -> bool:
        import psycopg

        with psycopg.connect(self.url(db), connect_timeout=2):
            return True

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._n)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name} TEMPLATE template0".encode())
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: "smart" shutdown would wait for clients; this is fast
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    """``redis-server`` on a Unix socket, no persistence; ``restart()`` keeps the address."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="plaza-redis-"))
        self.sock = self.dir / "redis.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                "0",
                "--unixsocket",
                str(self.sock),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self._ping, "redis-server")
        return self

    def _ping(self) -> bool:
        import redis

        r = redis.Redis(unix_socket_path=str(self.sock), socket_timeout=1)
        try:
            return bool(r.ping())
        finally:
            r.close()

    def flush(self) -> None:
        """FLUSHALL: a test's servers start on an empty directory. The server is shared by the
        session, and a finished test's entries (dead ports, the same world ids) live on for
        their TTL."""
        import redis

        r = redis.Redis(unix_socket_path=str(self.sock), socket_timeout=5)
        try:
            r.flushall()
        finally:
            r.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.sock.unlink(missing_ok=True)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
