"""Enforcement's HTTP API: officers' commands on cases, case lists, the overdue list,
and the per-agency shared view. Mounted on the service's common FastAPI app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from services.enforcement.adapters.case_index import CaseIndex
from services.enforcement.adapters.outbox import signals_reader
from services.enforcement.application.case_listing import CaseListing
from services.enforcement.application.commands import CaseCommands, CaseNotFoundError
from services.enforcement.domain.case import CATEGORIES, ORIGINS, STATUSES, Case, signals_in_full
from services.enforcement.domain.deadlines import DeadlineRules, deadline_for
from services.enforcement.domain.errors import CaseRuleError
from services.enforcement.domain.ownership import DutyItems, owning_section
from services.enforcement.domain.redaction import AGENCY_FIELDS, disclosed_fields, shared_view
from services.enforcement.domain.views import case_detail, listed, opened_on
from services.enforcement.entrypoints import commands_api as api
from shared.calendar import county_day
from shared.contracts.inbound_models import CHINA_TIME
from shared.eventstore.application import ServiceApplication
from shared.identity.access import acting_officer
from shared.observability.http import parse_uuid

PAGE_MAX = 5000  # cases per page at most (a page is read and sent whole)
Clock = Callable[[], datetime]


def problem(status: int, field: str, message: str) -> HTTPException:
    return HTTPException(status, detail=[{"field": field, "message": message}])


def parse_as_of(as_of: str | None, clock: Clock) -> datetime:
    """A date means the end of that day in China time; a date-time needs its offset."""
    if as_of is None:
        return clock()
    try:
        if len(as_of) == 10:
            return datetime.combine(date.fromisoformat(as_of), time.max, CHINA_TIME)
        moment = datetime.fromisoformat(as_of)
    except ValueError:
        raise problem(422, "as_of", "is not a date (YYYY-MM-DD) or an ISO date-time") from None
    if moment.tzinfo is None:
        raise problem(422, "as_of", "needs a UTC offset, e.g. 2026-03-02T09:15:00+08:00")
    return moment


def add_case_routes(
    http: FastAPI, store: ServiceApplication, index: CaseIndex, listing: CaseListing, commands: CaseCommands, rules: DeadlineRules,
    sections: tuple[str, ...], clock: Clock, duty_items: DutyItems,
) -> None:
    def case_id_of(ref: str) -> UUID:
        case_id = parse_uuid(ref) or listing.by_number(ref)
        if case_id is None:
            raise problem(404, "case", f"no case {ref!r}")
        return case_id

    def load(ref: str) -> Case:
        case = store.find(case_id_of(ref))
        if not isinstance(case, Case):
            raise problem(404, "case", f"no case {ref!r}")
        return case

    def as_last_disclosed_to(case_id: UUID, agency: str) -> tuple[Case, list[dict[str, Any]]] | None:
        """The case as the agency's last disclosure left it, and its signals in full then:
        what was shared, and no more. One read of the case's events gives both."""
        events = list(store.events.get(case_id))
        versions = [e.originator_version for e in events if isinstance(e, Case.Disclosed) and e.agency == agency]
        if not versions:
            return None
        return store.load(case_id, version=versions[-1]), signals_in_full(e for e in events if e.originator_version <= versions[-1])

    signals_of = signals_reader(store)

    def triage_case(case: Case, body: api.Triage, officer: str) -> None:
        """The owning section is checked against the duty register (default: by category);
        a category with a statutory limit counts it from the day the case came in."""
        section = owning_section(duty_items, body.category, body.section)
        received_on = date.fromisoformat(str((case.deadline or {}).get("received_on") or opened_on(case)))
        case.triage(body.category, body.priority, section, officer, deadline_for(body.category, received_on, rules))

    def detail(case: Case) -> dict[str, Any]:
        return case_detail(case, signals_of(case), county_day(clock()), rules)

    def officer_of(request: Request, body: api.Command, action: str) -> dict[str, str]:
        """The token's subject, in a section that may work cases (CONTRACT.md, Authentication)."""
        officer = acting_officer(request, body.officer)
        if officer["section"] not in sections:
            raise problem(403, "officer.section", f"{officer['section']!r} may not {action}; one of {', '.join(sections)}")
        return officer

    async def run(request: Request, ref: str, body: api.Command, command: Callable[[Case, str], Any]) -> JSONResponse:
        officer = officer_of(request, body, "change cases")

        def in_thread() -> dict[str, Any]:
            case_id = case_id_of(ref)
            return detail(commands.apply(case_id, lambda case: command(case, officer["id"])))

        try:
            return JSONResponse(await asyncio.to_thread(in_thread))
        except CaseNotFoundError:
            raise problem(404, "case", f"no case {ref!r}") from None
        except CaseRuleError as error:
            raise problem(409 if error.field in ("status", "version") else 422, error.field, error.message) from None

    @http.get("/cases")
    async def list_cases(
        status: str | None = None, origin: str | None = None, category: str | None = None, township_code: str | None = None,
        as_of: str | None = Query(None, description="YYYY-MM-DD or ISO date-time with offset: deadlines as of then; default now"),
        limit: int = Query(500, ge=1, le=PAGE_MAX, description="Cases per page, in the order they were opened"),
        after: str | None = Query(None, description="The `next` cursor of the page before"),
    ) -> dict[str, Any]:
        """Cases in the order they were opened, a page at a time; `next` is the cursor of
        the following page (null on the last)."""
        for field, value, allowed in (("status", status, STATUSES), ("origin", origin, ORIGINS), ("category", category, tuple(CATEGORIES))):
            if value is not None and value not in allowed:
                raise problem(422, field, f"unknown {field} {value!r}; one of {', '.join(allowed)}")
        day = county_day(parse_as_of(as_of, clock))
        filters = {"status": status, "origin": origin, "category": category, "township_code": township_code}
        rows, following = await asyncio.to_thread(listing.page, filters, limit, after)
        return {"as_of": day.isoformat(), "cases": [listed(row, day, rules) for row in rows], "next": following}

    @http.get("/cases/overdue")
    async def overdue(as_of: str | None = Query(None, description="YYYY-MM-DD or ISO date-time with offset; default now")) -> dict[str, Any]:
        """Unanswered cases past their statutory deadline, and those nearing it."""
        day = county_day(parse_as_of(as_of, clock))
        running = await asyncio.to_thread(lambda: [listed(row, day, rules) for row in listing.awaiting_answer()])
        return {
            "as_of": day.isoformat(),
            "overdue": [c for c in running if c["deadline"] == "breached"],
            "nearing": [c for c in running if c["deadline"] == "nearing"],
        }

    @http.get("/cases/{ref}")
    async def show(ref: str) -> dict[str, Any]:
        return await asyncio.to_thread(lambda: detail(load(ref)))

    @http.get("/cases/{ref}/shared/{agency}")
    async def shared(ref: str, agency: str) -> dict[str, Any]:
        """What an agency sees of a case shared with it: the case as of its last disclosure
        to that agency, so what the case learnt since is shown only once disclosed again."""
        if agency not in AGENCY_FIELDS:
            raise problem(404, "agency", f"unknown agency {agency!r}; one of {', '.join(AGENCY_FIELDS)}")
        case = await asyncio.to_thread(load, ref)
        found = await asyncio.to_thread(as_last_disclosed_to, case.id, agency)
        if found is None:
            raise problem(403, "agency", f"案件 {case.case_number} 从未向 {agency} 披露; case {case.case_number} was never shared with {agency}")
        disclosed, signals = found
        return shared_view(disclosed, signals, agency, opened_on(disclosed))

    @http.post("/cases", status_code=201)
    async def open_case(body: api.OpenCase, request: Request) -> JSONResponse:
        officer = officer_of(request, body, "open cases")
        try:
            case = await asyncio.to_thread(commands.open_by_hand, body.reference, body.category, body.township_code, body.summary, officer["section"], body.received_on, officer["id"])
        except CaseRuleError as error:
            raise problem(422, error.field, error.message) from None
        return JSONResponse(await asyncio.to_thread(detail, case), status_code=201)

    @http.post("/cases/{ref}/triage")
    async def triage(ref: str, body: api.Triage, request: Request) -> JSONResponse:
        return await run(request, ref, body, lambda c, o: triage_case(c, body, o))

    @http.post("/cases/{ref}/assign")
    async def assign(ref: str, body: api.Assign, request: Request) -> JSONResponse:
        return await run(request, ref, body, lambda c, o: c.assign(body.assignee, o))

    @http.post("/cases/{ref}/evidence")
    async def evidence(ref: str, body: api.Evidence, request: Request) -> JSONResponse:
        return await run(request, ref, body, lambda c, o: c.record_evidence(f"EV-{len(c.evidence) + 1}", body.kind, body.description, body.linked_event_ids, o))

    @http.post("/cases/{ref}/joint-operations")
    async def joint_operation(ref: str, body: api.JointOperation, request: Request) -> JSONResponse:
        return await run(request, ref, body, lambda c, o: commands.request_joint_operation_on(c, body.agency, body.purpose, o))

    @http.post("/cases/{ref}/disclosures")
    async def disclose_again(ref: str, body: api.Disclosure, request: Request) -> JSONResponse:
        return await run(request, ref, body, lambda c, o: c.disclose_again(body.agency, disclosed_fields(body.agency), o))

    @http.post("/cases/{ref}/agency-responses")
    async def agency_response(ref: str, body: api.AgencyResponse, request: Request) -> JSONResponse:
        return await run(request, ref, body, lambda c, o: c.record_agency_response(body.agency, body.response, o))

    @http.post("/cases/{ref}/referrals")
    async def refer(ref: str, body: api.Refer, request: Request) -> JSONResponse:
        return await run(request, ref, body, lambda c, o: c.refer(body.target, body.authority, body.reason, o))

    @http.post("/cases/{ref}/conclusion")
    async def conclude(ref: str, body: api.Conclude, request: Request) -> JSONResponse:
        on = (body.concluded_on or county_day(clock())).isoformat()
        return await run(request, ref, body, lambda c, o: c.conclude(body.substantiated, body.findings, on, o))

    @http.post("/cases/{ref}/close")
    async def close(ref: str, body: api.Close, request: Request) -> JSONResponse:
        return await run(request, ref, body, lambda c, o: c.close(o))

    @http.post("/cases/{ref}/reopen")
    async def reopen(ref: str, body: api.Reopen, request: Request) -> JSONResponse:
        return await run(request, ref, body, lambda c, o: c.reopen(body.reason, o))

    @http.post("/cases/{ref}/fees")
    async def fee(ref: str, body: api.Fee, request: Request) -> JSONResponse:
        return await run(request, ref, body, lambda c, o: c.record_fee(body.kind, body.yuan(), body.decision_no, body.on.isoformat(), o))

    @http.post("/deadlines/check")
    async def check_deadlines(as_of: str | None = Query(None)) -> dict[str, Any]:
        moment = parse_as_of(as_of, clock)
        raised = await asyncio.to_thread(lambda: commands.check_deadlines(index.clock_running(), moment))
        return {"as_of": moment.isoformat(), "raised": raised}
