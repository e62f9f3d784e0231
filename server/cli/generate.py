"""``plaza generate``: text -> GLB asset (it parses its own arguments: genmodels/cli.py)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("generate", help="text -> GLB asset (see plaza generate --help)", add_help=False)
    g.set_defaults(fn=run, passthrough=True)


def run(args: argparse.Namespace) -> int:
    from genmodels.cli import main as gen_main

    try:
        return gen_main(args.rest)
    except ImportError as e:  # a core install: torch, trimesh, ... are the [gen] extra
        from server.assets import GEN_EXTRA_HINT

        print(f"error: {GEN_EXTRA_HINT} ({e})", file=sys.stderr)
        return 1
