"""Reporting's subsidy endpoints: fund reconciliation (扶助资金对账) by township, the
payments behind a figure, and the fraud signals with the cases they became."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request

from services.reporting.adapters.subsidy_queries import SubsidyQueries
from services.reporting.application.statistical_report import Sheet
from services.reporting.application.subsidy_report import Funds, payment_json, signal_json, subsidy_report, subsidy_sheet, township_funds
from services.reporting.entrypoints.scope import township_cut, township_query
from shared.contracts.events.subsidy import BUCKETS, OFFENCES, PROGRAMS
from shared.contracts.inbound_models import CHINA_TIME

YEAR_HELP = "Payment year (e.g. 2026); by default the latest year with payments"
PROGRAM_HELP = "reward (奖励扶助) or special (特别扶助); both when omitted"


def problem(field: str, message: str) -> HTTPException:
    return HTTPException(422, detail=[{"field": field, "message": message}])


def checked_choice(field: str, value: str | None, choices: Any) -> str | None:
    if value is not None and value not in choices:
        raise problem(field, f"must be one of {', '.join(choices)}")
    return value


def checked_year(value: str | None) -> int | None:
    if value is None:
        return None
    if not (value.isdigit() and len(value) == 4):
        raise problem("year", "must be a year of four digits, e.g. 2026")
    return int(value)


def funds_of(queries: SubsidyQueries, year: int, program: str | None, township_code: str | None = None,
             signals: bool = True) -> tuple[list[Funds], Funds]:
    """Synchronous: the four queries a reconciliation is made of, for the county or one
    township. signals False: the signal counts are neither read nor given (null)."""
    townships, total = township_funds(
        queries.entitled_by_township(year, program, township_code), queries.buckets_by_township(year, program, township_code),
        queries.enrolments_by_township(year, program, township_code), queries.signals_by_township(year, township_code) if signals else [],
        township_code,
    )
    if not signals:
        for funds in (*townships, total):
            funds.signals = None
    return townships, total


def statistical_subsidy_sheet(queries: SubsidyQueries, year: int, township_code: str | None = None) -> Sheet:
    """Synchronous: the statistical report's reconciliation sheet, both programs."""
    by_program = {program: funds_of(queries, year, program, township_code, signals=False) for program in PROGRAMS}
    return subsidy_sheet(year, by_program, township_code)


def add_subsidy_routes(http: FastAPI, queries: SubsidyQueries) -> None:
    async def year_or_latest(value: str | None, township_code: str | None = None) -> tuple[int, list[int]]:
        years = await asyncio.to_thread(queries.years, township_code)
        year = checked_year(value)
        if year is None:
            year = years[-1] if years else datetime.now(CHINA_TIME).year
        return year, years

    @http.get("/reports/subsidies", summary="扶助资金对账 Subsidy reconciliation by township and for the county (or for one township)")
    async def subsidies(request: Request, year: str | None = Query(None, description=YEAR_HELP),
                        program: str | None = Query(None, description=PROGRAM_HELP), township_code: str | None = township_query()) -> dict[str, Any]:
        program = checked_choice("program", program, PROGRAMS)
        cut = township_cut(request, township_code)
        chosen, years = await year_or_latest(year, cut.code)
        # A township officer is not told of fraud signals (subsidies.county, reports.county): no count of them either.
        townships, county = await asyncio.to_thread(funds_of, queries, chosen, program, cut.code, not cut.scoped)
        return subsidy_report(chosen, program, townships, county if cut.code is None else None, years, cut.describe())

    @http.get("/reports/subsidies/payments", summary="明细: the payments behind a reconciliation figure (no personal data)")
    async def subsidy_payments(
        request: Request,
        year: str | None = Query(None, description=YEAR_HELP), program: str | None = Query(None, description=PROGRAM_HELP),
        township_code: str | None = township_query(), bucket: str | None = Query(None, description=" | ".join(BUCKETS)),
        limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        program = checked_choice("program", program, PROGRAMS)
        township_code = township_cut(request, township_code).code
        bucket = checked_choice("bucket", bucket, BUCKETS)
        chosen, _ = await year_or_latest(year, township_code)
        rows = await asyncio.to_thread(queries.payment_rows, chosen, program, township_code, bucket, limit, offset)
        where = {k: v for k, v in {"year": chosen, "program": program, "township_code": township_code, "bucket": bucket}.items() if v is not None}
        return {"title": "扶助资金明细 Payments", "filter": where, "offset": offset, "rows": [payment_json(row) for row in rows]}

    @http.get("/reports/subsidies/signals", summary="违规线索 Subsidy fraud signals (虚报, 冒领, 克扣…) and the cases they became")
    async def subsidy_signals(
        request: Request,
        year: str | None = Query(None, description="Year detected; all years when omitted"), township_code: str | None = township_query(),
        offence: str | None = Query(None, description=" | ".join(OFFENCES)),
        limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        township_code = township_cut(request, township_code).code
        offence = checked_choice("offence", offence, OFFENCES)
        rows = await asyncio.to_thread(queries.signal_rows, checked_year(year), township_code, offence, limit, offset)
        return {"title": "违规线索 Signals", "offset": offset, "rows": [signal_json(row) for row in rows]}
