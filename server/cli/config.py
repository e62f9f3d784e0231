"""``plaza config``: the effective configuration and where each setting came from."""

from __future__ import annotations

import argparse
import json

from server.cli.options import add_setting_flags, load_from_args


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "config",
        help="print the effective configuration and each setting's source",
        description="Print the configuration plaza serve would run with (the same flags, PLAZA_* "
        "environment and config file), each setting with its source: default, the file, env VAR "
        "or flag. Exit 2, naming the source, if a setting is invalid.",
    )
    add_setting_flags(c)
    c.add_argument("--json", action="store_true", help="JSON: {config_file, settings: {name: {value, source, from}}}")
    c.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_from_args(args)
    if args.json:
        print(json.dumps(loaded.as_json(), indent=2))
    else:
        print(loaded.as_toml(), end="")
    return 0
