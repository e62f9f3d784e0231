"""Where the persistent stores live: the embedded SQLite file (default) or a shared PostgreSQL.

``open_stores(config)`` returns the two stores the server uses, behind the interfaces the rest
of the code knows (``server.storage.Storage``, ``server.hosting.store.HostingStore``):

    config.database == ""               SQLiteStorage + SQLiteHostingStore on <data_dir>/plaza.sqlite3
    config.database == "postgresql://…"  PostgresStorage + PostgresHostingStore (server/backends/postgres.py)

psycopg is imported only for a PostgreSQL URL, so a single-machine install never needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.config import ServerConfig
    from server.hosting.store import HostingStore
    from server.storage import Storage


@dataclass(frozen=True, slots=True)
class Stores:
    storage: Storage
    hosting: HostingStore
    where: str  # for the start-up line: the file, or the URL without its password


class DatabaseUnavailable(RuntimeError):
    """The configured PostgreSQL or Redis could not be reached or used at start (a clear line, no traceback)."""


def open_stores(config: ServerConfig) -> Stores:
    if not config.database:
        from server.hosting.store import SQLiteHostingStore
        from server.storage import DB_NAME, SQLiteStorage

        path = config.data_dir / DB_NAME
        return Stores(SQLiteStorage(path), SQLiteHostingStore(path), str(path))
    try:
        import psycopg
    except ImportError as e:  # an install without the cluster extra
        raise DatabaseUnavailable(f"--database needs psycopg (pip install 'plaza[cluster]'): {e}") from None
    from server.backends.postgres import PostgresHostingStore, PostgresStorage, redact

    try:
        storage = PostgresStorage(config.database)
        try:
            hosting = PostgresHostingStore(config.database)
        except BaseException:
            storage.close()
            raise
    except psycopg.Error as e:
        raise DatabaseUnavailable(f"database {redact(config.database)}: {str(e).strip()}") from None
    return Stores(storage, hosting, redact(config.database))
