"""Apply projection changes to SQL, once per message, and read the models back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Engine, and_, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from services.reporting.adapters.tables import READ_MODELS, TABLES, metadata, processed_messages
from services.reporting.domain.projections import Change, PlainChange
from shared.eventstore.backend import create_tables
from shared.eventstore.engines import EngineLease


def _is_newer(incoming: Any, stored: Any, columns: tuple[str, ...]) -> Any:
    """(incoming.a, incoming.b, …) > (stored.a, stored.b, …), compared in order (spelt
    out rather than as a row-value comparison, which not every SQLite has)."""
    first, rest = columns[0], columns[1:]
    greater = incoming[first] > stored.c[first]
    if not rest:
        return greater
    return or_(greater, and_(incoming[first] == stored.c[first], _is_newer(incoming, stored, rest)))


_RECORD_COLUMNS = ("message_id", "stream", "stream_sequence")
_ALREADY_RECORDED = f"SELECT message_id FROM {processed_messages.name} WHERE message_id IN (SELECT value FROM json_each(?))"


class ReadModelStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._lease = EngineLease(url)
        self.engine: Engine = self._lease.engine
        create_tables(metadata, self.engine)
        self._insert = (postgresql if self.engine.dialect.name == "postgresql" else sqlite).insert
        self._record_messages = (
            self._insert(processed_messages).on_conflict_do_nothing(index_elements=["message_id"]).returning(processed_messages.c.message_id)
        )
        # shape -> (driver SQL, row values) or, for rows needing conversions, the statement itself
        self._compiled: dict[tuple, Any] = {}

    def close(self) -> None:
        self._lease.release()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def apply(self, message_id: str, stream: str, sequence: int, changes: Sequence[Change]) -> bool:
        """Apply the changes and record the message, in one transaction. False if seen before."""
        return self.apply_many([(message_id, stream, sequence, changes)])[0]

    def apply_many(self, messages: Sequence[tuple[str, str, int, Sequence[Change]]]) -> list[bool]:
        """A batch in one transaction: each message applied once (False if seen before)."""
        return self.apply_plain([(message_id, stream, sequence, [change.plain() for change in changes]) for message_id, stream, sequence, changes in messages])

    def apply_plain(self, messages: Sequence[tuple[str, str, int, Sequence[PlainChange]]]) -> list[bool]:
        """apply_many with the changes as plain tuples (Change.plain()): rows of one shape
        go in one executemany, and increments to the same row are summed first, so a
        rebuild costs few statements."""
        with self.engine.begin() as conn:
            # RETURNING, not rowcount: SQLAlchemy reports rowcount 1 for a conflicting
            # single-row insert on PostgreSQL (found by test_a_birth_delivered_twice…).
            fresh = self._record(conn, messages)
            applied, pending_increments = [], {}
            pending_upserts: dict[tuple, list[tuple]] = {}
            for message_id, _, _, changes in messages:
                is_new = message_id in fresh
                fresh.discard(message_id)  # the same message twice in one batch counts once
                applied.append(is_new)
                for change in changes if is_new else ():
                    kind = change[0]
                    if kind == "upsert":  # (shape, row): same shape, one executemany (in order)
                        pending_upserts.setdefault(change[1], []).append(change[2])
                    elif kind == "increment":  # (shape, key values, by)
                        summed = (change[1], change[2])
                        pending_increments[summed] = pending_increments.get(summed, 0) + change[3]
                    elif kind == "update":  # (table, key, values)
                        self._flush_upserts(conn, pending_upserts)  # an update follows what came before it
                        conn.execute(self._update(*change[1:]))
                    else:
                        raise TypeError(f"unknown change {kind!r}")
            self._flush_upserts(conn, pending_upserts)
            self._flush_increments(conn, pending_increments)
        return applied

    def _flush_increments(self, conn: Any, pending: dict[tuple, int]) -> None:
        """Summed increments, one executemany per (table, key columns, column): the
        amount travels as the row's value and is added from `excluded`."""
        by_shape: dict[tuple, list[tuple]] = {}
        for (shape, key_values), by in pending.items():
            by_shape.setdefault(shape, []).append((*key_values, by))
        for (table_name, key_columns, column), rows in by_shape.items():
            self._execute_many(conn, ("increment", table_name, key_columns, column), (*key_columns, column), rows)

    def _flush_upserts(self, conn: Any, pending: dict[tuple, list[tuple]]) -> None:
        for (table_name, key_columns, value_columns, newer_by), rows in pending.items():
            self._execute_many(conn, ("upsert", table_name, key_columns, value_columns, newer_by), (*key_columns, *value_columns), rows)
        pending.clear()

    def _build(self, shape: tuple) -> Any:
        """The statement a shape names: ("record",), ("increment", table, key columns,
        column) or ("upsert", table, key columns, value columns, newer_by)."""
        if shape == ("record",):
            return self._insert(processed_messages).on_conflict_do_nothing(index_elements=["message_id"])
        kind, table_name, key_columns, *rest = shape
        table = TABLES[table_name]
        statement = self._insert(table)
        if kind == "increment":
            [column] = rest
            return statement.on_conflict_do_update(index_elements=list(key_columns), set_={column: table.c[column] + statement.excluded[column]})
        value_columns, newer_by = rest
        return statement.on_conflict_do_update(
            index_elements=list(key_columns), set_={column: statement.excluded[column] for column in value_columns},
            where=_is_newer(statement.excluded, table, newer_by) if newer_by else None,
        )

    def _record(self, conn: Any, messages: Sequence[tuple[str, str, int, Sequence[PlainChange]]]) -> set[str]:
        """Record the batch's messages as processed; the ids not recorded before.

        PostgreSQL: INSERT … ON CONFLICT DO NOTHING RETURNING, which stays right when two
        replicas record the same message at once. SQLite (one process writes, and a
        transaction that read before another's write cannot commit its own): the ids
        already recorded, then a plain driver executemany, about 3x cheaper per message
        than SQLAlchemy's RETURNING batches, which a rebuild of 1,000,000 events feels."""
        if self.engine.dialect.name != "sqlite":
            rows = [{"message_id": m, "stream": st, "stream_sequence": sq} for m, st, sq, _ in messages]
            return {row.message_id for row in conn.execute(self._record_messages, rows)}
        rows = [(m, st, sq) for m, st, sq, _ in messages]
        ids = {row[0] for row in rows}
        # The ids as one JSON parameter: an IN list of bound parameters was compiled
        # afresh for every batch (a tenth of a rebuild's writing).
        seen = {found for (found,) in conn.exec_driver_sql(_ALREADY_RECORDED, (json.dumps(list(ids)),))}
        self._execute_many(conn, ("record",), _RECORD_COLUMNS, rows)
        return ids - seen

    def _execute_many(self, conn: Any, shape: tuple, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """executemany of rows (value tuples in `columns` order) through the driver when no
        column needs a type conversion (plain strings and integers) or a default:
        SQLAlchemy's per-row parameter processing cost more than SQLite's own work in a
        rebuild. The statement is built and compiled once per shape (building one, with
        its `excluded` columns, was a tenth of reporting's time under load)."""
        if shape not in self._compiled:
            self._compiled[shape] = self._compile(shape, columns)
        statement, parameters = self._compiled[shape]
        if isinstance(statement, str):
            conn.exec_driver_sql(statement, parameters(rows))
        else:  # SQLAlchemy converts or fills in some value
            conn.execute(statement, parameters(rows))

    def _compile(self, shape: tuple, columns: tuple[str, ...]) -> tuple[Any, Callable[[list[tuple]], Any]]:
        """The driver's SQL for a shape and how rows become its parameters; or, when
        SQLAlchemy must process the parameters, the statement and rows as dicts. Columns
        the rows leave out take their plain default (an increment's other counter: 0)."""
        statement = self._build(shape)
        compiled = statement.compile(dialect=self.engine.dialect, column_keys=list(columns))
        names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.params)
        table = processed_messages if shape == ("record",) else TABLES[shape[1]]
        defaults = [table.c[name].default for name in names if name not in columns]
        if compiled._bind_processors or not all(default is not None and default.is_scalar for default in defaults):
            return statement, lambda rows: [dict(zip(columns, row)) for row in rows]
        everything = (*columns, *(name for name in names if name not in columns))
        constants = tuple(default.arg for default in defaults)
        if not compiled.positional:
            return compiled.string, lambda rows: [dict(zip(everything, (*row, *constants))) for row in rows]
        if names == columns:
            return compiled.string, lambda rows: rows
        positions = [everything.index(name) for name in names]
        pick = itemgetter(*positions) if len(positions) > 1 else lambda full: (full[positions[0]],)
        return compiled.string, lambda rows: [pick((*row, *constants)) for row in rows]

    def _update(self, table_name: str, key: dict[str, Any], values: dict[str, Any]) -> Any:
        """An update in place (increments and upserts go in batches, see apply_plain)."""
        table = TABLES[table_name]
        statement = update(table).values(**values)
        for column, value in key.items():
            statement = statement.where(table.c[column] == value)
        return statement

    def clear(self) -> None:
        with self.engine.begin() as conn:
            for table in (*READ_MODELS, processed_messages):
                conn.execute(delete(table))

    def rows(self, table_name: str, limit: int | None = None, offset: int = 0, *, without: Mapping[str, Collection[Any]] | None = None,
             **where: Any) -> list[dict[str, Any]]:
        """Rows whose columns equal `where` and whose `without` columns hold none of the values given."""
        table = TABLES[table_name]
        query = select(table).order_by(*table.primary_key.columns).offset(offset).limit(limit)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        for column, values in (without or {}).items():
            if values:
                query = query.where(table.c[column].notin_(list(values)))
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def accepted_total(self, township_code: str | None = None, without_sections: Collection[str] = ()) -> int:
        """Accepted records: in the county, or in one township ("" the records naming none)."""
        table = TABLES["rm_submissions"]
        query = select(func.coalesce(func.sum(table.c.accepted), 0))
        if township_code is not None:
            query = query.where(table.c.township_code == township_code)
        if without_sections:
            query = query.where(table.c.section.notin_(list(without_sections)))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def births_by(self, group: str, first_month: str, last_month: str, township_code: str | None = None) -> list[dict[str, Any]]:
        """Boys and girls per township or per birth order (or in all: group "county"), in
        the county or in one township only."""
        table = TABLES["rm_births"]
        columns = [] if group == "county" else [table.c[group]]
        query = select(*columns, func.sum(table.c.boys).label("boys"), func.sum(table.c.girls).label("girls")).where(
            table.c.month >= first_month, table.c.month <= last_month
        )
        if township_code is not None:
            query = query.where(table.c.township_code == township_code)
        query = query.group_by(*columns).order_by(*columns)
        with self.engine.connect() as conn:
            rows = [dict(row._mapping) for row in conn.execute(query)]
        return [row for row in rows if row["boys"] is not None]

    def count(self, table_name: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(TABLES[table_name])).scalar_one()

    def digest(self) -> dict[str, Any]:
        """A fingerprint of every read model: equal digests mean identical contents."""
        tables = {}
        overall = hashlib.sha256()
        for table in READ_MODELS:
            rows = self.rows(table.name)
            body = json.dumps(rows, sort_keys=True, ensure_ascii=False, default=str).encode()
            tables[table.name] = {"rows": len(rows), "sha256": hashlib.sha256(body).hexdigest()}
            overall.update(table.name.encode() + b"\0" + body)
        return {"sha256": overall.hexdigest(), "tables": tables}
