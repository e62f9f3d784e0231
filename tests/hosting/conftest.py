"""Shared fixtures: a hosting stack on a temporary plaza.sqlite3 with three small worlds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server.hosting import Hosting, Principal, ScryptCost, SQLiteHostingStore, WorldRoles

NOW = 1_800_000_000.0  # a fixed "now" (2027-01-15): the core never reads a clock
# A cheap scrypt cost for tests (the default, N=2^17, costs 128 MiB and ~0.35 s per hash;
# test_security.py checks that default once).
CHEAP = ScryptCost(n=2**8, r=8, p=1)

OWNER = Principal.for_account("olivia")
MOD = Principal.for_account("max")
MOD2 = Principal.for_account("mia")
MEMBER = Principal.for_account("bob")
MEMBER2 = Principal.for_account("carol")
GUEST = Principal.for_guest("guest-1", "Gus")
GUEST2 = Principal.for_guest("guest-2", "Gina")

WORLDS = (
    WorldRoles("plaza", "public", "Olivia", ("max", "Mia")),
    WorldRoles("vault", "private", "olivia", ("max",)),
    WorldRoles("hidden", "unlisted", "olivia"),
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "plaza.sqlite3"


@pytest.fixture
def open_hosting(db_path: Path) -> Iterator[Callable[[], Hosting]]:
    """Opens a Hosting on the same database file; call again to simulate a restart."""
    opened: list[Hosting] = []

    def make() -> Hosting:
        h = Hosting(
            SQLiteHostingStore(db_path),
            chat_words=["darn", "heck", "f*ck"],
            data_dir=db_path.parent,
            password_cost=CHEAP,
        )
        h.roles.set_worlds(WORLDS)
        opened.append(h)
        return h

    yield make
    for h in opened:
        h.close()  # closing an already closed sqlite connection is a no-op


@pytest.fixture
def hosting(open_hosting: Callable[[], Hosting]) -> Hosting:
    return open_hosting()


def restart(h: Hosting, open_hosting: Callable[[], Hosting]) -> Hosting:
    h.close()
    return open_hosting()
