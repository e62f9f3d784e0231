"""Small private files under the data directory: the token secret and the setup token.

The token secret signs every session and invite token. It lives in ``<data_dir>/secret.key``
(mode 0600, the data directory 0700), *not* in ``plaza.sqlite3``: a copy of the database (a
backup, a bug report) then holds password hashes but no way to mint tokens. It is created on
first start and read on every start, so tokens survive restarts; deleting it signs everyone out
and voids every invite link.

API::

    private_dir(path) -> Path                         # mkdir 0700 (tightens a looser existing dir)
    write_private(path, text) -> bool                 # create 0600, never overwrite; False if it exists
    read_private(path) -> str | None                  # tightens a looser file to 0600
    load_or_create_secret(path, legacy=None) -> bytes # 32 random bytes, hex in the file
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger("plaza")

SECRET_BYTES = 32


def _tighten(path: Path, mode: int) -> None:
    try:
        st = path.stat()
    except OSError:
        return
    if os.name == "posix" and stat.S_IMODE(st.st_mode) & 0o077:
        log.warning("%s was readable by other users (mode %o); setting it to %o", path, stat.S_IMODE(st.st_mode), mode)
        os.chmod(path, mode)


def private_dir(path: Path) -> Path:
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path, 0o700)
    return path


def write_private(path: Path, text: str) -> bool:
    """Create ``path`` readable by its owner only (O_EXCL: never replaces an existing file)."""
    path = Path(path)
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    return True


def read_private(path: Path) -> str | None:
    path = Path(path)
    if not path.exists():
        return None
    _tighten(path, 0o600)
    return path.read_text(encoding="ascii").strip()


def load_or_create_secret(path: Path, legacy: bytes | None = None) -> bytes:
    """The token secret in ``path``; created on first start. ``legacy`` (the secret an older
    server kept in the database) is moved into the file so tokens issued before stay valid."""
    path = Path(path)
    text = read_private(path)
    if text is None:
        value = legacy if legacy is not None and len(legacy) >= 16 else secrets.token_bytes(SECRET_BYTES)
        if not write_private(path, value.hex() + "\n"):  # another process won the race: use theirs
            text = read_private(path)
        else:
            return value
    try:
        value = bytes.fromhex(text or "")
    except ValueError:
        value = b""
    if len(value) < 16:
        raise ValueError(f"{path}: expected a hex token secret of at least 16 bytes; delete it to make a new one")
    return value
