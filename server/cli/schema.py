"""``plaza schema``: the world-file JSON Schema (for editor completion)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    sc = sub.add_parser("schema", help="print the world-file JSON Schema")
    sc.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from server.worldconfig import schema_json

    print(schema_json())
    return 0
