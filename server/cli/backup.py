"""``plaza backup FILE`` and ``plaza restore FILE``: the database, in and out.

The data directory is the one ``plaza serve`` uses: ``--data``, ``PLAZA_DATA_DIR``, the config
file's ``data_dir`` or the default, in that order.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from server.cli.options import add_setting_flags, load_from_args


def register(sub: argparse._SubParsersAction) -> None:
    bk = sub.add_parser("backup", help="copy the database to FILE (safe while the server runs)")
    bk.add_argument("file", metavar="FILE")
    add_setting_flags(bk, only=("data_dir",))
    bk.set_defaults(fn=run_backup)
    rs = sub.add_parser("restore", help="replace the database with FILE (stop the server first)")
    rs.add_argument("file", metavar="FILE")
    add_setting_flags(rs, only=("data_dir",))
    rs.set_defaults(fn=run_restore)


def run_backup(args: argparse.Namespace) -> int:
    from server.backup import run_backup

    return run_backup(load_from_args(args).config.data_dir, Path(args.file).expanduser())


def run_restore(args: argparse.Namespace) -> int:
    from server.backup import run_restore

    return run_restore(load_from_args(args).config.data_dir, Path(args.file).expanduser())
