"""One SQLAlchemy engine per database in a process, shared by the adapters that use it.

Beside its event store, a service keeps relay positions, the audit chain, index rows,
facts counted once and personal-data keys, each in an adapter of its own. Each adapter
used to open an engine of its own, and each engine keeps up to five connections open:
one replica of each service held 36 PostgreSQL connections after a load of 5,000
records, 29–30 with one engine per database URL (`python -m cli.bench.connections`;
deploy/k8s/README.md, Connections). The engine is disposed of when its last user lets
it go.

Readiness probes keep engines of their own (shared/assembly.py: a probe must never wait
behind the service's own work).
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine, create_engine, event

from shared.eventstore.backend import sqlalchemy_url, sqlite_pragmas

_lock = threading.Lock()
_shared: dict[str, tuple[Engine, int]] = {}  # database URL -> (engine, how many leases hold it)


class EngineLease:
    """An adapter's hold on the shared engine for `url`; `release` once, when it closes."""

    def __init__(self, url: str) -> None:
        self._url = url
        with _lock:
            engine, holders = _shared.get(url) or (_new_engine(url), 0)
            _shared[url] = (engine, holders + 1)
        self.engine: Engine = engine
        self._released = False

    def release(self) -> None:
        """Let go of the engine (again: nothing); the last lease disposes of its pool."""
        with _lock:
            if self._released:
                return
            self._released = True
            engine, holders = _shared[self._url]
            if holders > 1:
                _shared[self._url] = (engine, holders - 1)
                return
            del _shared[self._url]
        engine.dispose()


def _new_engine(url: str) -> Engine:
    engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
    return engine
