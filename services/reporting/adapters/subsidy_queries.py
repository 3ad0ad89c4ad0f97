"""SQL over the subsidy read models: sums by township and bucket, and the rows behind
them. Synchronous: call through asyncio.to_thread. Sums are computed by the database
(exact on both backends, see money.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.adapters.tables import beneficiary_enrolments, payments, subsidy_signals


class SubsidyQueries:
    def __init__(self, read_models: ReadModelStore) -> None:
        self._engine = read_models.engine

    def _all(self, query: Any) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def years(self, township_code: str | None = None) -> list[int]:
        query = select(payments.c.year).distinct().order_by(payments.c.year)
        return [row["year"] for row in self._all(_in_township(query, payments, township_code))]

    def entitled_by_township(self, year: int, program: str | None, township_code: str | None = None) -> list[dict[str, Any]]:
        """Every payment's amount, whatever its bucket: township_code, payments, entitled."""
        query = select(payments.c.township_code, func.count().label("payments"), func.sum(payments.c.amount).label("entitled"))
        return self._all(_payment_scope(query, year, program, township_code).group_by(payments.c.township_code))

    def buckets_by_township(self, year: int, program: str | None, township_code: str | None = None) -> list[dict[str, Any]]:
        """township_code, bucket, payments, amount."""
        query = select(payments.c.township_code, payments.c.bucket, func.count().label("payments"), func.sum(payments.c.amount).label("amount"))
        return self._all(_payment_scope(query, year, program, township_code).group_by(payments.c.township_code, payments.c.bucket))

    def enrolments_by_township(self, year: int, program: str | None, township_code: str | None = None) -> list[dict[str, Any]]:
        """township_code, status, beneficiaries."""
        table = beneficiary_enrolments
        query = select(table.c.township_code, table.c.status, func.count().label("beneficiaries")).where(table.c.year == year)
        if program:
            query = query.where(table.c.program == program)
        return self._all(_in_township(query, table, township_code).group_by(table.c.township_code, table.c.status))

    def signals_by_township(self, year: int, township_code: str | None = None) -> list[dict[str, Any]]:
        """township_code, signals: the signals detected in the year (of both programs:
        a signal names a payment, a beneficiary or a township, not a program)."""
        table = subsidy_signals
        query = select(table.c.township_code, func.count().label("signals")).where(table.c.pattern.is_not(None), table.c.detected_on.like(f"{year}-%"))
        return self._all(_in_township(query, table, township_code).group_by(table.c.township_code))

    def payment_rows(self, year: int, program: str | None, township_code: str | None, bucket: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        query = _payment_scope(select(payments), year, program, township_code)
        if bucket:
            query = query.where(payments.c.bucket == bucket)
        return self._all(query.order_by(payments.c.payment_id).limit(limit).offset(offset))

    def signal_rows(self, year: int | None, township_code: str | None, offence: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        table = subsidy_signals
        query = select(table).where(table.c.pattern.is_not(None))  # a link whose signal has not arrived yet is no signal
        if year is not None:
            query = query.where(table.c.detected_on.like(f"{year}-%"))
        if township_code:
            query = query.where(table.c.township_code == township_code)
        if offence:
            query = query.where(table.c.offence == offence)
        return self._all(query.order_by(table.c.detected_on.desc(), table.c.signal_id).limit(limit).offset(offset))


def _in_township(query: Any, table: Any, township_code: str | None) -> Any:
    """One township's rows only (None: the county's)."""
    return query if township_code is None else query.where(table.c.township_code == township_code)


def _payment_scope(query: Any, year: int, program: str | None, township_code: str | None = None) -> Any:
    query = _in_township(query.where(payments.c.year == year), payments, township_code)
    return query.where(payments.c.program == program) if program else query
