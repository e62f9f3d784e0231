"""``plaza admin create-account NAME``: the operator creates an account directly in the data
directory — the way to claim a name the world files give a role to (owner, moderator, event
host), which nobody can register over the API without the one-time setup token."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from server.cli.options import add_setting_flags, load_from_args


def register(sub: argparse._SubParsersAction) -> None:
    ad = sub.add_parser("admin", help="operator tasks on the data directory")
    tasks = ad.add_subparsers(dest="task", required=True)
    ca = tasks.add_parser("create-account", help="create an account (any free name, role names included)")
    ca.add_argument("name")
    ca.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password from this environment variable instead of prompting twice",
    )
    add_setting_flags(ca, only=("data_dir", "worlds_dir"))
    ca.set_defaults(fn=run_create_account)


def run_create_account(args: argparse.Namespace) -> int:
    from server.hosting import HostingError
    from server.hosting.admin import create_account

    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            print(f"{args.password_env} is not set or empty", file=sys.stderr)
            return 2
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ; nothing was created", file=sys.stderr)
            return 1
    cfg = load_from_args(args).config
    try:
        p = create_account(cfg.data_dir, cfg.worlds_dir, args.name, password)
    except HostingError as e:
        print(f"{args.name}: {e.message}", file=sys.stderr)
        return 1
    print(f"created account {p.account} in {cfg.data_dir}")
    return 0
