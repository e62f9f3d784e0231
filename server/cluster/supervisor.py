"""``plaza serve --workers N``: N worker processes behind one public port.

Routing: every worker listens on the same port with ``SO_REUSEPORT``, and the kernel spreads
new connections across them (Linux hashes the connection 4-tuple). No front process copies
frames, so N workers use N cores. Each worker owns the instances it opens, numbered from
``k * 1000 + 1`` for worker k (``PLAZA_WORKER_INDEX``), so instance keys and saved object state
never collide; the workers share the database (SQLite in WAL mode, or PostgreSQL), and Redis
(required for N > 1) carries bans, kicks, mutes, locks and removed objects to every worker,
the instance directory behind ``/api/worlds``, and the election of the one worker that runs
the once-per-cluster duties. A person lands on whichever worker accepted the socket; when the
instance they should join is on another worker (server/cluster/routing.py), they get MOVED with
that worker's own port (each worker also listens on one, bound here and inherited) and go there.

This process only supervises: it reserves the port, starts the workers, restarts one that
died (kill -9: its people reconnect — the web client retries — and land on the others), and on
SIGINT/SIGTERM stops them all, each flushing its write-behind.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

log = logging.getLogger("plaza.cluster")

WORKER_INDEX_ENV = "PLAZA_WORKER_INDEX"
REUSE_PORT_ENV = "PLAZA_REUSE_PORT"
OWN_FD_ENV = "PLAZA_OWN_FD"  # the worker's own listening socket, inherited from the supervisor
INDEX_STRIDE = 1000  # instances per worker before their numbers would meet the next worker's
RESTART_DELAY_S = 0.5


def worker_index() -> int:
    try:
        return max(0, int(os.environ.get(WORKER_INDEX_ENV, "0")))
    except ValueError:
        return 0


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` in the port's SO_REUSEPORT group."""
    family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(addr)
    return sock


def own_socket() -> socket.socket | None:
    """In a worker: the socket of its own port (MOVED sends people there), else None."""
    fd = os.environ.get(OWN_FD_ENV)
    return socket.socket(fileno=int(fd)) if fd else None


def _worker_argv(argv: list[str], port: int) -> list[str]:
    """The serve command line for one worker: ``--workers 1`` and the port chosen here."""
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--workers", "--port"):
            skip = True
            continue
        if a.startswith(("--workers=", "--port=")):
            continue
        out.append(a)
    return [sys.executable, "-m", "server.cli", *out, "--workers", "1", "--port", str(port)]


def supervise(argv: list[str], workers: int, host: str, port: int, worker_ports: int = 0, scheme: str = "http") -> int:
    """Run ``workers`` workers of ``plaza serve`` (``argv``: its arguments) until a signal."""
    reserve = reuseport_socket(host, port)  # holds the port (and picks one for --port 0)
    port = reserve.getsockname()[1]
    # Each worker's own port, bound here and inherited: it stays the same across a restart,
    # and connections to it wait in its backlog while the worker comes back.
    own: dict[int, socket.socket] = {}
    for k in range(workers):
        family, kind, proto, _, addr = socket.getaddrinfo(host, worker_ports + k if worker_ports else 0,
                                                          type=socket.SOCK_STREAM)[0]  # fmt: skip
        own[k] = socket.socket(family, kind, proto)
        own[k].setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        own[k].bind(addr)
        own[k].set_inheritable(True)
    cmd = _worker_argv(argv, port)
    procs: dict[int, subprocess.Popen[bytes]] = {}
    stopping = False

    base = worker_index()  # a node's own PLAZA_WORKER_INDEX: its workers are base, base + 1, ...

    def start(k: int) -> None:
        env = {
            **os.environ,
            WORKER_INDEX_ENV: str(base + k),
            REUSE_PORT_ENV: "1",
            "PLAZA_NODE": f"{socket.gethostname()}/w{base + k}",
            OWN_FD_ENV: str(own[k].fileno()),
        }
        procs[k] = subprocess.Popen(cmd, env=env, pass_fds=(own[k].fileno(),))

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for k in range(workers):
        start(k)
    ports = [s.getsockname()[1] for s in own.values()]
    print(
        f"Plaza on {scheme}://{host}:{port}/  ({workers} workers, pids {[p.pid for p in procs.values()]}, "
        f"own ports {ports})",
        flush=True,
    )
    while not stopping:
        time.sleep(0.2)
        for k, p in list(procs.items()):
            if p.poll() is not None and not stopping:
                log.warning("worker %d (pid %d) exited with %s; restarting it", k, p.pid, p.returncode)
                time.sleep(RESTART_DELAY_S)
                start(k)
    deadline = time.monotonic() + 15
    for p in procs.values():
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    reserve.close()
    for s in own.values():
        s.close()
    return 0
