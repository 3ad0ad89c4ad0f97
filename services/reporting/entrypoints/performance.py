"""HTTP routes of the league tables (通报), cases summary, scorecard and publications.

A bad query parameter or body field answers 422 naming the field (FastAPI's own
validation for types, `{"field", "message"}` for the checks made here).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from services.reporting.adapters.performance_queries import PerformanceQueries
from services.reporting.application.cases_summary import cases_summary
from services.reporting.application.league_tables import GROUPS, league_table
from services.reporting.application.publications import PeriodError, Publications, ReportFigures
from services.reporting.application.scorecard import scorecard
from services.reporting.entrypoints.scope import township_cut
from shared.contracts.inbound_models import CHINA_TIME
from shared.identity.access import access_of


class PublicationRequest(BaseModel):
    report: Literal["statistical", "league-tables", "scorecard"]
    period_from: date
    period_to: date
    cut_off: AwareDatetime = Field(description="The data cut-off the figures are published at (数据截止时间), ISO 8601 with offset")
    officer: str | None = Field(None, min_length=1, max_length=64,
                                description="Who publishes (发布人): the token's subject; optional since v1.1, and when sent it must be the subject")


def unprocessable(field: str, message: str) -> HTTPException:
    return HTTPException(422, detail=[{"field": field, "message": message}])


def add_performance_routes(http: FastAPI, figures: ReportFigures, publications: Publications, now: Callable[[], datetime]) -> None:
    queries: PerformanceQueries = figures.queries

    @http.get("/reports/league-tables", summary="办理时效与群众满意度通报 Processing time and satisfaction league tables")
    async def league_tables(
        first: date = Query(..., alias="from", description="First day of the period (YYYY-MM-DD)"),
        last: date = Query(..., alias="to", description="Last day of the period, included"),
        by: str = Query("township", description="township or section"),
    ) -> dict[str, Any]:
        if by not in GROUPS:
            raise unprocessable("by", f"must be one of {', '.join(GROUPS)}")
        if first > last:
            raise unprocessable("to", "to is before from")
        return await asyncio.to_thread(league_table, queries, figures.calendar, first, last, by)

    @http.get("/reports/cases/summary", summary="案件统计 Cases by category, state, age band and deadline status")
    async def summary_of_cases(
        request: Request,
        as_of: date | None = Query(None, description="The day ages are counted to (default: today, China time)"),
        township_code: str | None = Query(None, description="One township only"),
    ) -> dict[str, Any]:
        day = as_of or now().astimezone(CHINA_TIME).date()
        return await asyncio.to_thread(cases_summary, queries, day, township_cut(request, township_code).code)

    @http.get("/reports/scorecard", summary="目标管理责任制考核 Township target-responsibility scorecard")
    async def township_scorecard(year: int = Query(..., ge=2000, le=2100)) -> dict[str, Any]:
        return await asyncio.to_thread(
            scorecard, figures.scorecard_config, figures.read_models, queries, figures.calendar, figures.band, year
        )

    @http.post("/reports/publications", status_code=201, summary="发布 Publish a period's figures: frozen, never changed")
    async def publish(request: PublicationRequest, http_request: Request) -> dict[str, Any]:
        subject = access_of(http_request).principal.subject
        if request.officer is not None and request.officer != subject:
            raise HTTPException(403, detail=[{"field": "officer", "message": f"登录身份是 {subject}，不能以 {request.officer} 的名义发布 / you are logged in as {subject!r}, not {request.officer!r}"}])
        try:
            return await asyncio.to_thread(publications.publish, request.report, request.period_from, request.period_to, request.cut_off, subject)
        except PeriodError as error:
            raise unprocessable(error.field, str(error)) from None

    @http.get("/reports/publications", summary="已发布 Publications, newest first")
    async def list_publications(limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)) -> dict[str, Any]:
        return {"title": "已发布报表 Publications", "rows": await asyncio.to_thread(publications.store.list, limit, offset)}

    @http.get("/reports/publications/{publication_id}", summary="发布数与更正数 Published figures beside the current ones, cell by cell")
    async def publication(publication_id: str) -> dict[str, Any]:
        found = await asyncio.to_thread(publications.compare, publication_id)
        if found is None:
            raise HTTPException(404, detail=[{"field": "publication_id", "message": f"no publication {publication_id!r}"}])
        return found
