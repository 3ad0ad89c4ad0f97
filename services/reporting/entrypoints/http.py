"""Reporting's HTTP API: the read models, their digest, and rebuild.

Labels are Chinese first with English beside them (staff read these).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request, Response

from services.reporting.adapters.exports import to_csv, to_xlsx
from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.adapters.subsidy_queries import SubsidyQueries
from services.reporting.application.statistical_report import Sheet, sex_ratio_sheet, submissions_sheet
from services.reporting.application.projector import Projector
from services.reporting.application.sex_ratio_report import GROUPS, sex_ratio_report
from services.reporting.domain.sex_ratio import SexRatioBand, months_of
from services.reporting.domain.statuses import FINAL_APPLICATION_STATUSES, FINAL_CASE_STATUSES, is_open
from services.reporting.entrypoints.routes import CONSUMERS
from services.reporting.entrypoints.scope import TownshipCut, township_cut, township_query
from services.reporting.entrypoints.subsidies import statistical_subsidy_sheet
from shared.contracts.townships import TOWNSHIPS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def add_report_routes(http: FastAPI, read_models: ReadModelStore, projector: Projector, jetstream: Any, band: SexRatioBand) -> None:
    @http.get("/reports/submissions", summary="各乡镇各来源受理数 Submissions by township and source")
    async def submissions(request: Request, township_code: str | None = township_query(unnamed=True)) -> dict[str, Any]:
        cut = township_cut(request, township_code, unnamed=True)
        rows = await asyncio.to_thread(read_models.rows, "rm_submissions", without=cut.without(), **cut.where())
        for row in rows:
            row["township_name"] = TOWNSHIPS.get(row["township_code"], "")
        # Rejected records are counted by source alone (an invalid record may name no
        # township): a report cut to one township has no rejection figure.
        rejected = None if cut.code is not None else await asyncio.to_thread(read_models.rows, "rm_rejections")
        return {"title": "受理情况 Submissions", **cut.describe(sections=True), "accepted": rows, "rejected": rejected}

    @http.get("/reports/totals", summary="受理总数 Accepted records in the read models (cheap: for monitoring and benchmarks)")
    async def totals(request: Request, township_code: str | None = township_query(unnamed=True)) -> dict[str, Any]:
        cut = township_cut(request, township_code, unnamed=True)
        accepted = await asyncio.to_thread(read_models.accepted_total, cut.code, cut.withheld_sections)
        return {"accepted": accepted, **cut.describe(sections=True)}

    @http.get("/reports/sections", summary="各责任科室收件数 Work received by each responsible section")
    async def sections(request: Request, township_code: str | None = township_query(unnamed=True)) -> dict[str, Any]:
        cut = township_cut(request, township_code, unnamed=True)
        totals: dict[str, int] = {}
        for row in await asyncio.to_thread(read_models.rows, "rm_submissions", without=cut.without(), **cut.where()):
            totals[row["section"]] = totals.get(row["section"], 0) + row["accepted"]
        rows = [{"section": name, "received": count} for name, count in sorted(totals.items(), key=lambda item: -item[1])]
        return {"title": "责任科室收件 Work by section", **cut.describe(sections=True), "rows": rows}

    @http.get("/reports/submissions/records", summary="明细: the accepted records behind a figure (no personal data)")
    async def submission_records(
        request: Request,
        township_code: str | None = township_query(unnamed=True), kind: str | None = None, section: str | None = None,
        limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        cut = township_cut(request, township_code, unnamed=True)
        where = {k: v for k, v in {**cut.where(), "kind": kind, "section": section}.items() if v is not None}
        rows = await asyncio.to_thread(read_models.rows, "rm_submission_records", limit, offset, without=cut.without(), **where)
        for row in rows:
            row["township_name"] = TOWNSHIPS.get(row["township_code"], "")
        withheld = {"sections_withheld": list(cut.withheld_sections)} if cut.withheld_sections else {}
        return {"title": "明细记录 Records", "filter": where, **withheld, "offset": offset, "rows": rows}

    open_query = Query(None, alias="open", description="true: only the open ones (not in a final status); false: only the finished ones")

    async def rows_by_status(table: str, status: str | None, open_only: bool | None, final: frozenset[str], **where: str) -> list[dict[str, Any]]:
        rows = await asyncio.to_thread(read_models.rows, table, **({"status": status} if status else {}), **where)
        if open_only is None:
            return rows
        return [row for row in rows if is_open(row["status"], final) == open_only]

    @http.get("/reports/applications", summary="申请件 Applications")
    async def applications(request: Request, status: str | None = None, open_only: bool | None = open_query,
                           township_code: str | None = township_query()) -> dict[str, Any]:
        cut = township_cut(request, township_code)
        rows = await rows_by_status("rm_applications", status, open_only, FINAL_APPLICATION_STATUSES, **cut.where())
        return {"title": "申请件 Applications", **cut.describe(), "rows": rows}

    @http.get("/reports/cases", summary="案件 Cases")
    async def cases(status: str | None = None, open_only: bool | None = open_query) -> dict[str, Any]:
        return {"title": "案件 Cases", "rows": await rows_by_status("rm_cases", status, open_only, FINAL_CASE_STATUSES)}

    @http.get("/reports/sex-ratio", summary="出生人口性别比 Sex ratio at birth")
    async def sex_ratio(
        request: Request,
        period: str = Query(..., description="2025, 2025-H1, 2025-Q3 or 2025-03"),
        by: str = Query("township_code", description="township_code, birth_order or county (with township_code: that township's total)"),
        township_code: str | None = township_query(),
    ) -> dict[str, Any]:
        try:
            first, last = months_of(period)
        except ValueError as error:
            raise HTTPException(422, detail=[{"field": "period", "message": str(error)}]) from None
        if by not in GROUPS:
            raise HTTPException(422, detail=[{"field": "by", "message": f"must be one of {', '.join(GROUPS)}"}])
        cut = township_cut(request, township_code)
        rows = await asyncio.to_thread(read_models.births_by, by, first, last, cut.code)
        return {**sex_ratio_report(rows, by, period, band), **cut.describe()}

    @http.get("/reports/statistical.xlsx", summary="统计报表 (Excel): sex ratio, submissions and subsidy reconciliation, every township and the county total (or one township)")
    async def statistical_xlsx(request: Request, period: str = Query(..., description="2025, 2025-H1 or 2025-H2 (also quarters and months)"),
                               township_code: str | None = township_query()) -> Response:
        cut = township_cut(request, township_code)
        sheets = await statistical_sheets(period, cut)
        filename = f"fpb-statistics-{period}{'-' + cut.code if cut.code else ''}.xlsx"
        return Response(to_xlsx(sheets), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @http.get("/reports/statistical.csv", summary="统计报表 (CSV, one table)")
    async def statistical_csv(request: Request, period: str = Query(...), sheet: str = Query("sex_ratio", description="sex_ratio, submissions or subsidies"),
                              township_code: str | None = township_query()) -> Response:
        cut = township_cut(request, township_code)
        sheets = {s.name: s for s in await statistical_sheets(period, cut)}
        if sheet not in sheets:
            raise HTTPException(422, detail=[{"field": "sheet", "message": f"must be one of {', '.join(sheets)}"}])
        filename = f"fpb-{sheet}-{period}{'-' + cut.code if cut.code else ''}.csv"
        return Response(to_csv(sheets[sheet]), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    async def statistical_sheets(period: str, cut: TownshipCut) -> list[Sheet]:
        try:
            first, last = months_of(period)
        except ValueError as error:
            raise HTTPException(422, detail=[{"field": "period", "message": str(error)}]) from None
        births = await asyncio.to_thread(read_models.births_by, "township_code", first, last, cut.code)
        submissions = await asyncio.to_thread(read_models.rows, "rm_submissions", without=cut.without(), **cut.where())
        # The subsidy reconciliation is yearly: the period's year (2025-H1 -> 2025).
        subsidies = await asyncio.to_thread(statistical_subsidy_sheet, SubsidyQueries(read_models), int(first[:4]), cut.code)
        return [sex_ratio_sheet(births, period, band, cut.code), submissions_sheet(submissions, period, cut.code, cut.withheld_sections), subsidies]

    @http.get("/read-models/digest", summary="Fingerprint of every read model")
    async def digest() -> dict[str, Any]:
        return await asyncio.to_thread(read_models.digest)

    @http.post("/admin/rebuild", status_code=202, summary="Start dropping and rebuilding every read model from the streams")
    async def start_rebuild() -> dict[str, Any]:
        return projector.start_rebuild(jetstream(), CONSUMERS)

    @http.get("/admin/rebuild", summary="Progress of the rebuild, and its result (before/after digests) once done")
    async def rebuild_progress() -> dict[str, Any]:
        return projector.rebuild_status
