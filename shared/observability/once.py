"""Count a fact once, however many replicas see it and however often they restart.

A counter such as fpb_deadline_breaches_total must move once per breach. Where the
domain records no event for the fact itself (verification warns once per due date,
before the breach), the facts already counted are remembered in the service's own
database: the first replica to insert a fact's key counts it, the others find it there.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.exc import IntegrityError

from shared.eventstore.backend import create_tables
from shared.eventstore.engines import EngineLease

metadata = MetaData()
counted = Table(
    "fpb_counted_once",
    metadata,
    Column("service", String(50), primary_key=True),
    Column("fact", String(200), primary_key=True),
)


class CountedOnce:
    def __init__(self, store_url: str, service: str, count: Callable[[], None]) -> None:
        self._lease = EngineLease(store_url)
        self._engine = self._lease.engine
        create_tables(metadata, self._engine)
        self._service, self._count = service, count
        self._known: set[str] = set()  # facts this process knows are counted: no query for them

    def __call__(self, fact: str) -> None:
        if fact in self._known:
            return
        try:
            with self._engine.begin() as conn:
                conn.execute(counted.insert().values(service=self._service, fact=fact))
        except IntegrityError:
            pass  # counted already, by this replica before a restart or by another
        else:
            self._count()
        self._known.add(fact)

    def close(self) -> None:
        self._lease.release()
