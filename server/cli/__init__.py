"""The ``plaza`` command: one module per subcommand, registered here.

    serve      server/cli/serve.py      run the server
    config     server/cli/config.py     the effective settings and where each came from
    validate   server/cli/validate.py   check world files
    schema     server/cli/schema.py     the world-file JSON Schema
    bots       server/cli/bots.py       load generator (own arguments)
    generate   server/cli/generate.py   text -> GLB (own arguments)
    backup     server/cli/backup.py     backup and restore of the database
    admin      server/cli/admin.py      operator tasks: create-account (role names)

Each module has ``register(subparsers)``, which adds its parser(s) with ``fn=run``; heavy
imports stay inside ``run`` (``import server.cli`` must work on a core install). Settings
flags (serve, config, backup, restore) are server/cli/options.py. ``plaza = "server.cli:main"``
and ``python -m server.cli ARGS`` both end in ``main``.
"""

from __future__ import annotations

import argparse
import logging

from server.cli import admin, backup, bots, config, generate, schema, serve, validate

COMMANDS = (serve, config, validate, schema, bots, generate, backup, admin)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="plaza", description="Plaza: shared VR worlds")
    sub = p.add_subparsers(dest="cmd", required=True)
    for command in COMMANDS:
        command.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args, rest = p.parse_known_args(argv)
    # bots and generate parse their own arguments (passthrough); the rest take no extras.
    if not getattr(args, "passthrough", False) and rest:
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.fn(args))
