"""``plaza serve``: run the server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from pathlib import Path

from server.cli.options import add_setting_flags, load_from_args
from server.logs import FORMATS, configure_logging

log = logging.getLogger("plaza")


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "serve",
        help="run the server",
        description="Run the server. Settings: flags > PLAZA_* environment > config file > defaults "
        "(plaza config shows the result).",
    )
    add_setting_flags(s)
    s.add_argument(
        "--https",
        action="store_true",
        help="serve HTTPS/WSS with a self-signed certificate kept in --data (WebXR needs it on the LAN)",
    )
    s.add_argument("--cert", help="PEM certificate to use instead of the generated one (implies --https)")
    s.add_argument("--key", help="PEM private key for --cert")
    s.add_argument(
        "--log-format",
        choices=FORMATS,
        default="auto",
        help="log lines on stderr: json (one event a line), text, or auto: json unless stderr is a terminal",
    )
    s.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    as_json = configure_logging(args.log_format)
    config = load_from_args(args).config  # exits 2 on an invalid setting, before the slow imports

    from aiohttp import web
    from threadpoolctl import threadpool_limits  # a core dependency: tiny, pure Python

    from server.web import create_app
    from server.web.security import run_options

    # One BLAS thread: the event loop serves many small requests (recommendations ~3x faster),
    # and the machine's other core belongs to the OS, model jobs and retraining.
    threadpool_limits(1)

    if config.workers > 1:  # this process supervises; the workers serve (server/cluster/supervisor.py)
        from server.cluster.supervisor import supervise

        if not config.redis:
            print(f"error: --workers {config.workers} needs --redis: the workers share bans, kicks and "
                  "the instance directory through it (docs/scaling.md)", file=sys.stderr)  # fmt: skip
            return 2
        if args.https or args.cert:
            print("error: --workers with --https: put a TLS proxy in front (docs/deploy.md)", file=sys.stderr)
            return 2
        return supervise(sys.argv[1:], config.workers, config.host, config.port, config.worker_ports)

    # Port 0: the OS picks a free port, bound here so that the lines below name the real one
    # (the tests start servers this way: nothing can take the port between choice and bind).
    # A lone --redis node binds its port here too: the cluster link advertises it only while
    # that socket listens (server/cluster/link.py, advertise).
    sock = None
    own = None  # a worker's own port (MOVED sends people there); a lone process: its one port
    if os.environ.get("PLAZA_REUSE_PORT"):  # a worker of --workers N: share the supervisor's port
        from server.cluster.supervisor import own_socket, reuseport_socket

        sock = reuseport_socket(config.host, config.port)
        own = own_socket()
    elif config.port == 0 or config.redis:
        sock = _bind(config.host, config.port)
    port = sock.getsockname()[1] if sock else config.port
    own_port = own.getsockname()[1] if own is not None else port

    ssl_ctx = None
    scheme = "http"
    if args.https or args.cert:
        from server import tls

        if args.cert and not args.key:
            print("--cert needs --key", file=sys.stderr)
            return 2
        try:
            tls.require_lan()
        except tls.LanExtraMissing as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        ip = tls.lan_ip()
        if args.cert:
            cert, key = Path(args.cert), Path(args.key)
        else:
            host = socket.gethostname()
            cert, key = tls.ensure_certificate(config.data_dir, [ip, host, f"{host}.local"])
        ssl_ctx = tls.ssl_context(cert, key)
        scheme = "https"
        shown = ip if config.host in ("0.0.0.0", "::", ip) else config.host
        url = f"https://{shown}:{port}/"
        print(f"Plaza is on your network at {url}  (accept the certificate once: see docs/client.md)")
        print(tls.terminal_qr(url))
        if config.host in ("127.0.0.1", "localhost"):
            log.warning("--host 127.0.0.1 is not reachable from a headset; use --host 0.0.0.0")
    from server.backends import DatabaseUnavailable

    try:
        app = create_app(config)
    except DatabaseUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from server.web.keys import CLUSTER

    cluster = app[CLUSTER]
    cluster.address = f"{config.public_host}:{own_port}"
    cluster.listener, cluster.bind_host = (own if own is not None else sock), config.host
    started = f"Plaza on {scheme}://{config.host}:{port}/  (data: {config.data_dir})"
    if as_json:  # stdout and stderr often share one log file: keep it all JSON lines
        log.info("%s", started)
    else:
        print(started, flush=True)
    web.run_app(
        app,
        loop=new_event_loop(config.event_loop),
        host=None if sock else config.host,
        port=None if sock else config.port,
        sock=[sock, own] if sock is not None and own is not None else sock,
        print=None,
        shutdown_timeout=5.0,
        ssl_context=ssl_ctx,
        **run_options(config),  # a request's headers must arrive within header_timeout_s
    )
    return 0


def new_event_loop(choice: str) -> asyncio.AbstractEventLoop:
    """uvloop for "uvloop", and for "auto" where it is installed; asyncio's own loop otherwise."""
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise SystemExit("error: --event-loop uvloop: uvloop is not installed") from None
        else:
            log.info("event loop: uvloop %s", uvloop.__version__)
            return uvloop.new_event_loop()
    log.info("event loop: asyncio")
    return asyncio.new_event_loop()


def _bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host`` (its first address) on ``port`` (0: one the OS chose)."""
    family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(addr)
    return sock
