"""Choose an eventsourcing persistence module from one URL.

`sqlite:///path/to/store.db` uses `eventsourcing.sqlite` (file, WAL) and
`postgresql://user:password@host:port/dbname` uses `eventsourcing.postgres` (and
`memory://` the in-memory recorders, for unit tests): the
library's own recorders, 2-4x faster than going through SQLAlchemy (DESIGN.md).
Each service's application name prefixes its tables, so several services may share a
PostgreSQL database while still owning separate stores.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from sqlalchemy.exc import IntegrityError, InternalError, OperationalError, ProgrammingError


class StoreUrlError(ValueError):
    pass


def event_store_env(store_url: str) -> dict[str, str]:
    parsed = urlparse(store_url)
    scheme = parsed.scheme.split("+")[0]
    if scheme == "memory":  # unit tests: the library's in-memory recorders
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        path = unquote(parsed.path)
        if store_url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        elif store_url.startswith("sqlite:///"):
            path = path[1:] if path.startswith("/") else path
        if not path or path == ":memory:":
            raise StoreUrlError("an event store needs a file: sqlite:///path/to/store.db")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    if scheme in ("postgres", "postgresql"):
        if not parsed.path.strip("/"):
            raise StoreUrlError("a PostgreSQL store URL needs a database name")
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.strip("/"),
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_PRE_PING": "y",
        }
        return env
    raise StoreUrlError(f"unsupported store URL scheme {parsed.scheme!r}: use sqlite:/// or postgresql://")


def sqlalchemy_url(store_url: str) -> str:
    """The same location as a SQLAlchemy URL (psycopg 3 driver for PostgreSQL)."""
    parsed = urlparse(store_url)
    scheme = parsed.scheme.split("+")[0]
    if scheme in ("postgres", "postgresql"):
        return "postgresql+psycopg://" + store_url.split("://", 1)[1]
    return store_url


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """On every new connection to a SQLite file: WAL (one fsync per commit, where the
    rollback journal took several: the key store's commit of a batch's new keys went from
    about 1.05 to 0.39 ms), still durable (synchronous=FULL), and waiting for a lock held by
    another process instead of failing at once."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def create_tables(metadata, engine, tables=None) -> None:
    """create_all that tolerates another process creating the same tables at the same
    moment: several services starting together on one PostgreSQL database, or on one
    SQLite file (the shared key store), where the loser of the race sees "table …
    already exists" as an OperationalError. An index added to an existing table's
    definition is created too (create_all creates indexes only with a new table)."""
    for attempt in range(5):
        try:
            metadata.create_all(engine, tables=tables)
            for table in tables if tables is not None else metadata.sorted_tables:
                for index in table.indexes:
                    index.create(engine, checkfirst=True)
            return
        except (ProgrammingError, IntegrityError, InternalError, OperationalError):
            if attempt == 4:
                raise
            time.sleep(0.1 + random.random() * 0.2)
