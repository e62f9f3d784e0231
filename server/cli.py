"""The ``plaza`` command: serve, validate, schema, bots, generate."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from pathlib import Path

from server.app import REPO, ServerConfig
from server.protocol import SLOW_CLIENT_BUFFER_BYTES, SLOW_CLIENT_CLOSE_S


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web
    from threadpoolctl import threadpool_limits

    from server.app import create_app

    # One BLAS thread: the event loop serves many small requests (recommendations ~3x faster),
    # and the machine's other core belongs to the OS, model jobs and retraining.
    threadpool_limits(1)

    config = ServerConfig(
        host=args.host,
        port=args.port,
        worlds_dir=Path(args.worlds).resolve(),
        data_dir=Path(args.data).expanduser().resolve(),
        slow_client_bytes=args.slow_client_bytes,
        slow_client_close_s=args.slow_client_seconds,
        socket_sndbuf=args.socket_sndbuf,
        recommender=not args.no_recommender,
        recommender_encoder=args.recommender_encoder,
        chat_words=tuple(w.strip() for w in args.chat_words.split(",") if w.strip()),
        generate_placeholders=not args.no_generate,
    )
    ssl_ctx = None
    scheme = "http"
    if args.https or args.cert:
        from server import tls

        if args.cert and not args.key:
            print("--cert needs --key", file=sys.stderr)
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
        url = f"https://{shown}:{config.port}/"
        print(f"Plaza is on your network at {url}  (accept the certificate once: see docs/client.md)")
        print(tls.terminal_qr(url))
        if config.host in ("127.0.0.1", "localhost"):
            print("note: --host 127.0.0.1 is not reachable from a headset; use --host 0.0.0.0", file=sys.stderr)
    app = create_app(config)
    print(f"Plaza on {scheme}://{config.host}:{config.port}/  (data: {config.data_dir})", flush=True)
    web.run_app(app, host=config.host, port=config.port, print=None, shutdown_timeout=5.0, ssl_context=ssl_ctx)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from server.worldconfig import validate_paths

    code, lines = validate_paths(args.paths)
    for line in lines:
        print(line)
    if code == 0:
        print("ok", file=sys.stderr)
    return code


def _schema(args: argparse.Namespace) -> int:
    from server.worldconfig import schema_json

    print(schema_json())
    return 0


def _bots(args: argparse.Namespace) -> int:
    from server.bots import main as bots_main

    return bots_main(args.rest)


def _generate(args: argparse.Namespace) -> int:
    from genmodels.cli import main as gen_main

    return gen_main(args.rest)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="plaza", description="Plaza: shared VR worlds")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the server")
    s.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to accept headsets on the LAN")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--worlds", default=str(REPO / "worlds"), help="directory of world TOML files")
    s.add_argument("--data", default="~/.local/share/plaza", help="directory for the SQLite store")
    s.add_argument(
        "--https",
        action="store_true",
        help="serve HTTPS/WSS with a self-signed certificate kept in --data (WebXR needs it on the LAN)",
    )
    s.add_argument("--cert", help="PEM certificate to use instead of the generated one (implies --https)")
    s.add_argument("--key", help="PEM private key for --cert")
    s.add_argument("--slow-client-bytes", type=int, default=SLOW_CLIENT_BUFFER_BYTES, help=argparse.SUPPRESS)
    s.add_argument("--slow-client-seconds", type=float, default=SLOW_CLIENT_CLOSE_S, help=argparse.SUPPRESS)
    s.add_argument("--socket-sndbuf", type=int, default=64 * 1024, help=argparse.SUPPRESS)
    s.add_argument("--no-recommender", action="store_true", help="do not load or serve recommendations")
    s.add_argument("--chat-words", default="", help="comma-separated words the chat filter masks")
    s.add_argument("--no-generate", action="store_true", help="leave world files' generated objects as stand-ins")
    s.add_argument(
        "--recommender-encoder",
        choices=["minilm", "hashing"],
        default="minilm",
        help="text encoder for content signals",
    )
    s.set_defaults(fn=_serve)
    v = sub.add_parser("validate", help="validate world files (exit 0 valid, 1 invalid)")
    v.add_argument("paths", nargs="+")
    v.set_defaults(fn=_validate)
    sc = sub.add_parser("schema", help="print the world-file JSON Schema")
    sc.set_defaults(fn=_schema)
    # These two parse their own arguments (bots.main, genmodels.cli.main).
    b = sub.add_parser("bots", help="load generator (see plaza bots --help)", add_help=False)
    b.set_defaults(fn=_bots)
    g = sub.add_parser("generate", help="text -> GLB asset (see plaza generate --help)", add_help=False)
    g.set_defaults(fn=_generate)
    args, rest = p.parse_known_args(argv)
    if args.cmd not in ("bots", "generate") and rest:
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
