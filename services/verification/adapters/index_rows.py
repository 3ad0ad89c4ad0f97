"""The subsidy listing index's rows, in verification's own database (not in memory: at
1,000,000 stored events the in-memory rows took 336 MiB and a minute to rebuild at start).

One table of small rows (enrolments, payments, signals, open suspensions), each with
the columns officers filter by and its fields as JSON, and the log position they are
up to date with, written in the same transaction as the rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

from shared.eventstore.backend import create_tables, sqlalchemy_url

LOAD_CHUNK = 500  # keys per IN (…) list: well inside SQLite's and PostgreSQL's parameter limits
FILTERS = ("program", "year", "township_code", "status", "cycle_id", "bucket", "pattern")
metadata = MetaData()
rows_table = Table(
    "fpb_subsidy_index",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(120), primary_key=True),
    Column("program", String(16), index=True),
    Column("year", Integer),
    Column("township_code", String(16)),
    Column("status", String(24)),
    Column("cycle_id", String(32), index=True),
    Column("bucket", String(16)),
    Column("pattern", String(40)),
    Column("body", Text, nullable=False),
)
positions = Table("fpb_subsidy_index_position", metadata, Column("name", String(32), primary_key=True), Column("position", Integer, nullable=False))


class IndexRows:
    def __init__(self, store_url: str | None) -> None:
        if store_url is None or store_url.startswith("memory"):  # unit tests: an in-memory database
            self._engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            self._engine = create_engine(sqlalchemy_url(store_url), pool_pre_ping=True)
        create_tables(metadata, self._engine)
        self._insert = (postgresql if self._engine.dialect.name == "postgresql" else sqlite).insert

    def close(self) -> None:
        self._engine.dispose()

    def position(self) -> int:
        with self._engine.connect() as conn:
            return conn.execute(select(positions.c.position).where(positions.c.name == "subsidy")).scalar() or 0

    def load_many(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The stored rows among `wanted` (kind, key) pairs: one query per kind and chunk."""
        by_kind: dict[str, list[str]] = {}
        for kind, key in wanted:
            by_kind.setdefault(kind, []).append(key)
        found = {}
        with self._engine.connect() as conn:
            for kind, keys in by_kind.items():
                for first in range(0, len(keys), LOAD_CHUNK):
                    query = select(rows_table.c.key, rows_table.c.body).where(
                        rows_table.c.kind == kind, rows_table.c.key.in_(keys[first : first + LOAD_CHUNK]))
                    found.update(((kind, key), json.loads(body)) for key, body in conn.execute(query))
        return found

    def save(self, rows: dict[tuple[str, str], dict[str, Any]], position: int) -> bool:
        """The touched rows and the position they reach, in one transaction; False (nothing
        written) when the index is already at or past that position: another replica on the
        same PostgreSQL database got there first, and older rows must not overwrite newer."""
        values = [{"kind": kind, "key": key, **{f: row.get(f) for f in FILTERS}, "body": json.dumps(row, default=str, ensure_ascii=False)}
                  for (kind, key), row in rows.items()]
        with self._engine.begin() as conn:
            reached = conn.execute(select(positions.c.position).where(positions.c.name == "subsidy").with_for_update()).scalar() or 0
            if reached >= position:
                return False
            if values:
                statement = self._insert(rows_table)
                conn.execute(statement.on_conflict_do_update(index_elements=["kind", "key"],
                                                             set_={c: statement.excluded[c] for c in (*FILTERS, "body")}), values)
            statement = self._insert(positions).values(name="subsidy", position=position)
            conn.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"position": position}))
        return True

    def select(self, kind: str, filters: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
        query = select(rows_table.c.key, rows_table.c.body).where(rows_table.c.kind == kind)
        for column, value in filters.items():
            if value is not None:
                query = query.where(rows_table.c[column] == value)
        with self._engine.connect() as conn:
            return [(key, json.loads(body)) for key, body in conn.execute(query)]

    def clear(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(rows_table))
            conn.execute(delete(positions))
