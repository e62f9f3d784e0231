"""``plaza validate PATH...``: check world files (``python -m server.worldconfig validate`` too)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("validate", help="validate world files (exit 0 valid, 1 invalid)")
    v.add_argument("paths", nargs="+", metavar="PATH", help="world files or directories of them")
    v.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from server.worldconfig import validate_paths

    code, lines = validate_paths(args.paths)
    for line in lines:
        print(line)
    if code == 0:
        print("ok", file=sys.stderr)
    return code
