"""``plaza backup FILE`` and ``plaza restore FILE``: the data dir's ``plaza.sqlite3`` to and from a file.

Backup uses SQLite's online backup API (``sqlite3.Connection.backup``): a consistent snapshot
taken under a read transaction, so it is safe while the server runs and writes (WAL: the
server's writers are not blocked). It goes to a temporary file next to ``FILE`` and is renamed
into place once complete and checked, so a failed backup never leaves a half file or clobbers an
older one. The copy is one self-contained file (journal mode DELETE), mode 0600.

Restore replaces the data dir's database, so the server must be stopped first. SQLite cannot
say for sure that nobody has the file open, but while any connection has it open in WAL mode
(a running server always does) it cannot be switched out of WAL: restore tries that first and
refuses with a clear message if it fails. The source is copied (backup API again) into a
temporary file in the data dir, checked (``PRAGMA integrity_check``, Plaza tables present,
schema version not newer than this code) and migrated to the latest version; then (the
open-check passing) any stale ``-wal``/``-shm`` of the old file are removed (a leftover WAL
would be replayed onto the new file) and the copy is moved into place with ``os.replace``.
A bad source, or a server holding the file, leaves the current database untouched.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

from server.migrations import LATEST, SchemaTooNew, migrate, version
from server.storage import DB_NAME, FILE_MODE, make_private_dir

PLAZA_TABLES = ("object_state", "hosting_secret")  # any Plaza file has at least one of these


class BackupError(Exception):
    """A user-facing reason a backup or restore did not happen (nothing was replaced)."""


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform lets a directory be opened
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _temp_beside(target: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)  # mode 0600
    os.close(fd)
    return Path(name)


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _check(db: sqlite3.Connection, name: Path) -> int:
    """Integrity, Plaza tables and a known schema version; returns the version."""
    problems = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
    if problems != ["ok"]:
        raise BackupError(f"{name}: failed the integrity check: {'; '.join(problems[:5])}")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables & set(PLAZA_TABLES):
        raise BackupError(f"{name}: a SQLite database, but not a Plaza one (no {' or '.join(PLAZA_TABLES)} table)")
    found = version(db)
    if found > LATEST:
        raise BackupError(
            f"{name}: schema version {found} is newer than this Plaza knows (latest {LATEST}); "
            "restore it with the Plaza that made it"
        )
    return found


def backup(data_dir: Path, dest: Path) -> int:
    """Copy ``data_dir/plaza.sqlite3`` to ``dest`` (safe while the server runs); returns the
    copy's schema version. Raises ``BackupError``."""
    src_path = data_dir / DB_NAME
    if not src_path.is_file():
        raise BackupError(f"no database at {src_path} (is --data the directory plaza serve uses?)")
    if dest.resolve() == src_path.resolve():
        raise BackupError(f"{dest} is the database itself; back up to another file")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent}: no such directory")
    tmp = _temp_beside(dest)
    try:
        src = sqlite3.connect(src_path, timeout=5.0)
        try:
            out = sqlite3.connect(tmp, isolation_level=None)
            try:
                src.backup(out)  # all pages in one step: one consistent snapshot
                out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                found = _check(out, src_path)
            finally:
                out.close()
        finally:
            src.close()
        os.chmod(tmp, FILE_MODE)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except sqlite3.Error as e:
        raise BackupError(f"backup of {src_path} failed: {e}") from None
    finally:
        _remove(tmp)
    return found


def _refuse_if_open(target: Path) -> None:
    """Fail if another connection has ``target`` open in WAL mode (a running server)."""
    db = sqlite3.connect(target, timeout=0, isolation_level=None)
    try:
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        if mode == "wal":
            mode = db.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if mode == "wal":
            raise sqlite3.OperationalError("database is locked")
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            raise BackupError(
                f"{target} is open in another process (is plaza serve running?); stop the server, then restore"
            ) from None
        raise BackupError(f"{target}: {e}") from None
    except sqlite3.DatabaseError:
        pass  # the current file is damaged: replacing it is the point of a restore
    finally:
        db.close()


def restore(data_dir: Path, src: Path) -> tuple[int, int]:
    """Put the database in ``src`` in place of ``data_dir/plaza.sqlite3`` (the server must be
    stopped); returns (schema version found in ``src``, version after migrating). Raises
    ``BackupError`` with nothing replaced."""
    if not src.is_file():
        raise BackupError(f"{src}: no such file")
    target = data_dir / DB_NAME
    if target.exists() and src.resolve() == target.resolve():
        raise BackupError(f"{src} is the database itself")
    make_private_dir(data_dir)
    tmp = _temp_beside(target)
    try:
        try:
            source = sqlite3.connect(f"{src.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
            try:
                out = sqlite3.connect(tmp, isolation_level=None)
                try:
                    source.backup(out)
                    found = _check(out, src)
                    out.execute("PRAGMA journal_mode=DELETE")
                    now = migrate(out, src)
                finally:
                    out.close()
            finally:
                source.close()
        except SchemaTooNew as e:
            raise BackupError(str(e)) from None
        except sqlite3.Error as e:
            raise BackupError(f"{src}: not a usable SQLite database ({e})") from None
        os.chmod(tmp, FILE_MODE)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if target.exists():  # last, so a bad source never touches the current file at all
            _refuse_if_open(target)
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}-journal")):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()  # they belong to the file being replaced: never replay them onto the new one
        os.replace(tmp, target)
        _fsync_dir(data_dir)
    finally:
        _remove(tmp)
    return found, now


def run_backup(data_dir: Path, dest: Path) -> int:
    """``plaza backup``: exit status 0, or 1 with the reason on stderr."""
    try:
        v = backup(data_dir, dest)
    except (BackupError, OSError) as e:
        print(f"plaza backup: {e}", file=sys.stderr)
        return 1
    print(f"backed up {data_dir / DB_NAME} to {dest} (schema version {v}, {dest.stat().st_size} bytes)")
    return 0


def run_restore(data_dir: Path, src: Path) -> int:
    """``plaza restore``: exit status 0, or 1 with the reason on stderr (nothing replaced)."""
    try:
        found, now = restore(data_dir, src)
    except (BackupError, OSError) as e:
        print(f"plaza restore: {e}; nothing was replaced", file=sys.stderr)
        return 1
    migrated = f", migrated from version {found}" if found != now else ""
    print(f"restored {src} into {data_dir / DB_NAME} (schema version {now}{migrated})")
    return 0
