"""``plaza bots``: the load generator (it parses its own arguments: server/bots.py)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("bots", help="load generator (see plaza bots --help)", add_help=False)
    b.set_defaults(fn=run, passthrough=True)


def run(args: argparse.Namespace) -> int:
    from server.bots import main as bots_main

    return bots_main(args.rest)
