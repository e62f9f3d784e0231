"""Operator steps around accounts: the start-up warning and setup token, ``plaza admin create-account``.

World files give roles (owner, moderators, event hosts) to user names. Whoever registers such a
name first would hold the role, so those accounts are made by the operator: with the one-time
setup token (made at start while such names lack an account, kept in ``<data_dir>/setup-token``,
0600, printed once) or from the server's shell with ``plaza admin create-account NAME``.

API::

    startup_notes(hosting) -> list[str]      # log each line as a warning at start
    create_account(data_dir, worlds_dir, name, password, now=None) -> Principal   # CPU-heavy (scrypt)
"""

from __future__ import annotations

import time
from pathlib import Path

from server.hosting import Hosting, Principal
from server.hosting.store import SQLiteHostingStore
from server.storage import DB_NAME


def startup_notes(hosting: Hosting) -> list[str]:
    """What to log at start: the role names nobody has claimed and, the first time, the setup token."""
    unclaimed = hosting.unclaimed_role_names()
    notes = []
    if unclaimed:
        notes.append(
            "world files give roles to names without an account yet: "
            + ", ".join(unclaimed)
            + " (only the operator can create them: the setup token below, or 'plaza admin create-account NAME')"
        )
    token = hosting.identity.ensure_setup_token(unclaimed)
    if token is not None:
        where = hosting.identity.setup_token_path
        notes.append(f"one-time setup token for registering one of those names: {token} (also in {where})")
    return notes


def create_account(data_dir: Path, worlds_dir: Path, name: str, password: str, now: float | None = None) -> Principal:
    """``plaza admin create-account NAME``: make an account directly in the data directory — any
    free name, including one a world file gives a role to. Raises HostingError subclasses
    (UserNameTaken, InvalidUserName, InvalidPassword)."""
    from server.worldconfig import load_worlds

    data_dir = Path(data_dir)
    hosting = Hosting(SQLiteHostingStore(data_dir / DB_NAME), data_dir=data_dir)
    try:
        configs, _ = load_worlds(Path(worlds_dir))
        t = time.time() if now is None else now
        hosting.load_worlds(configs.values(), t)
        return hosting.claim_reserved(name, password, t)
    finally:
        hosting.close()
