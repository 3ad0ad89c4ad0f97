"""A service's listing indexes' rows, in its own database (not in memory: at 1,000,000
stored events verification's in-memory subsidy rows took 336 MiB and a minute to rebuild
at every start).

One table per index (`IndexTable`, made by `index_table`): small rows keyed by (kind,
key), the columns officers filter by, the fields as JSON, and the log position the index
is up to date with, written in the same transaction as the rows. Each service defines
its own tables (verification: adapters/index_rows.py; enforcement: adapters/case_rows.py).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Index, Integer, MetaData, Select, String, Table, Text, create_engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

from shared.eventstore.backend import create_tables
from shared.eventstore.engines import EngineLease

LOAD_CHUNK = 500  # keys per IN (…) list: well inside SQLite's and PostgreSQL's parameter limits
SELECT_PAGE = 1000  # rows per query when listing
metadata = MetaData()
# Every index's position, by index name (the table kept its first index's name).
positions = Table("fpb_subsidy_index_position", metadata, Column("name", String(32), primary_key=True), Column("position", Integer, nullable=False))


@dataclass(frozen=True)
class IndexTable:
    name: str  # also the index's row in the positions table
    table: Table

    @property
    def filters(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.columns if c.name not in ("kind", "key", "body"))


def index_table(name: str, table_name: str, *filters: Column | Index) -> IndexTable:
    return IndexTable(name, Table(table_name, metadata, Column("kind", String(16), primary_key=True), Column("key", String(120), primary_key=True),
                                  *filters, Column("body", Text, nullable=False)))


class IndexRows:
    def __init__(self, store_url: str | None, index: IndexTable) -> None:
        if store_url is None or store_url.startswith("memory"):  # unit tests: an in-memory database of its own
            self._lease = None
            self._engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            self._lease = EngineLease(store_url)
            self._engine = self._lease.engine
        create_tables(metadata, self._engine, (positions, index.table))  # not the other services' index tables
        self._insert = (postgresql if self._engine.dialect.name == "postgresql" else sqlite).insert
        self._index, self._rows = index, index.table

    def close(self) -> None:
        if self._lease is None:
            self._engine.dispose()
        else:
            self._lease.release()

    def position(self) -> int:
        with self._engine.connect() as conn:
            return conn.execute(select(positions.c.position).where(positions.c.name == self._index.name)).scalar() or 0

    def load_many(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The stored rows among `wanted` (kind, key) pairs: one query per kind and chunk."""
        by_kind: dict[str, list[str]] = {}
        for kind, key in wanted:
            by_kind.setdefault(kind, []).append(key)
        found = {}
        with self._engine.connect() as conn:
            for kind, keys in by_kind.items():
                for first in range(0, len(keys), LOAD_CHUNK):
                    query = select(self._rows.c.key, self._rows.c.body).where(
                        self._rows.c.kind == kind, self._rows.c.key.in_(keys[first : first + LOAD_CHUNK]))
                    found.update(((kind, key), json.loads(body)) for key, body in conn.execute(query))
        return found

    def save(self, rows: dict[tuple[str, str], dict[str, Any]], position: int) -> bool:
        """The touched rows and the position they reach, in one transaction; False (nothing
        written) when the index is already at or past that position: another replica on the
        same PostgreSQL database got there first, and older rows must not overwrite newer."""
        filters = self._index.filters
        values = [{"kind": kind, "key": key, **{f: row.get(f) for f in filters}, "body": json.dumps(row, default=str, ensure_ascii=False)}
                  for (kind, key), row in rows.items()]
        with self._engine.begin() as conn:
            reached = conn.execute(select(positions.c.position).where(positions.c.name == self._index.name).with_for_update()).scalar() or 0
            if reached >= position:
                return False
            if values:
                statement = self._insert(self._rows)
                conn.execute(statement.on_conflict_do_update(index_elements=["kind", "key"],
                                                             set_={c: statement.excluded[c] for c in (*filters, "body")}), values)
            statement = self._insert(positions).values(name=self._index.name, position=position)
            conn.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"position": position}))
        return True

    def select(self, kind: str, filters: dict[str, Any], after: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """The rows of `kind` that match every filter: a value, or a tuple of values any of
        which matches (None: no filter), with keys after `after` if given. Read a page at a
        time, in key order, so a sweep over every open application holds one page in memory,
        not the county's history of them, and a caller that stops early reads no further."""
        several = [column for column, value in filters.items() if isinstance(value, tuple)]
        if len(several) == 1 and len(filters[several[0]]) > 1:
            # One index range per value, merged in key order: with an IN list the database
            # walked every row of the kind in key order instead (EXPLAIN, SQLite).
            column = several[0]
            ranges = [self._pages(kind, {**filters, column: value}, after) for value in filters[column]]
            yield from heapq.merge(*ranges, key=lambda pair: pair[0])
            return
        yield from self._pages(kind, filters, after)

    def page_query(self, kind: str, filters: dict[str, Any], after: str | None) -> Select:
        """The query for the next page of matching rows after the key `after`."""
        query = select(self._rows.c.key, self._rows.c.body).where(self._rows.c.kind == kind)
        for column, value in filters.items():
            if isinstance(value, tuple):
                query = query.where(self._rows.c[column].in_(value))
            elif value is not None:
                query = query.where(self._rows.c[column] == value)
        if after is not None:
            query = query.where(self._rows.c.key > after)
        return query.order_by(self._rows.c.key).limit(SELECT_PAGE)

    def _pages(self, kind: str, filters: dict[str, Any], after: str | None) -> Iterator[tuple[str, dict[str, Any]]]:
        while True:
            with self._engine.connect() as conn:
                found = conn.execute(self.page_query(kind, filters, after)).all()
            yield from ((key, json.loads(body)) for key, body in found)
            if len(found) < SELECT_PAGE:
                return
            after = found[-1][0]

    def clear(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(self._rows))
            conn.execute(delete(positions).where(positions.c.name == self._index.name))
