"""One contract suite, every implementation: SQLite and PostgreSQL for the stores, in-process
and Redis for presence (like Colyseus' PRESENCE_IMPLEMENTATIONS). The servers are real, started
on loopback by the session fixtures below."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.hosting.store import HostingStore, SQLiteHostingStore
from server.storage import SQLiteStorage, Storage
from tests.services import PostgresCluster, RedisServer, pg_missing, redis_missing


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    if (why := pg_missing()) is not None:
        pytest.skip(why)
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    if (why := redis_missing()) is not None:
        pytest.skip(why)
    srv = RedisServer().start()
    yield srv
    srv.stop()


@dataclass
class Backend:
    """Opens stores on one fresh database; open again to see what a restart (or another node) sees."""

    name: str
    open_storage: Callable[[], Storage]
    open_hosting: Callable[[], HostingStore]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened: list[Storage | HostingStore] = []

    def keep(s: Storage | HostingStore) -> Storage | HostingStore:
        opened.append(s)
        return s

    if request.param == "sqlite":
        path = tmp_path / "plaza.sqlite3"
        b = Backend(
            "sqlite",
            lambda: keep(SQLiteStorage(path)),  # type: ignore[return-value]
            lambda: keep(SQLiteHostingStore(path)),  # type: ignore[return-value]
        )
    else:
        from server.backends.postgres import PostgresHostingStore, PostgresStorage

        url = request.getfixturevalue("pg_cluster").new_database()
        b = Backend(
            "postgresql",
            lambda: keep(PostgresStorage(url)),  # type: ignore[return-value]
            lambda: keep(PostgresHostingStore(url)),  # type: ignore[return-value]
        )
    yield b
    for s in opened:
        s.close()
