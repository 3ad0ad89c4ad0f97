"""The HTTP endpoints every service has: health, readiness, metrics, history, AsyncAPI."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from eventsourcing.utils import get_topic
from pydantic import BaseModel, Field
from pydantic_core import PydanticCustomError
from prometheus_client import CONTENT_TYPE_LATEST

from shared.contracts.inbound_models import resident_id
from shared.eventstore.application import ServiceApplication, aggregate_state, event_record
from shared.identity.access import access_of, install_access
from shared.identity.policy import Policy
from shared.identity.tokens import TokenVerifier
from shared.observability.metrics import ServiceMetrics
from shared.privacy.disclosure import PersonalDataDisclosure, data_subjects, encrypted_fields, subjects_of
from shared.privacy.protection import PersonalDataProtector, is_token

# Resolves a reference (UUID or a business id) to an aggregate id, or None.
Resolver = Callable[[str], UUID | None]
ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def service_http(
    name: str,
    metrics: ServiceMetrics,
    readiness: ReadinessCheck,
    asyncapi: Callable[[], dict[str, Any]],
    store: ServiceApplication | None = None,
    resolve: Resolver | None = None,
    *,
    policy: Policy,
    verifier: TokenVerifier | None,
) -> FastAPI:
    """The common endpoints; /history only where the service keeps an event store. Every
    route, these and the ones the service adds, passes the access policy (shared/identity)."""
    http = FastAPI(title=f"fpb {name}", version="1")
    install_access(http, name, policy, verifier)  # first: the request counter below stays outermost and counts 401s and 403s

    @http.middleware("http")
    async def count_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        try:
            response = await call_next(request)
        except Exception:
            metrics.http_requests.labels(name, "5xx").inc()  # unhandled: the server answers 500
            raise
        metrics.http_requests.labels(name, f"{response.status_code // 100}xx").inc()
        return response

    async def checked() -> dict[str, bool]:
        # Exported too (fpb_ready), so an outage shows in Prometheus while the process still
        # answers (alert FpbDependencyUnreachable), not only to the orchestrator's probe.
        checks = await readiness()
        for check, ok in checks.items():
            metrics.ready.labels(name, check).set(1 if ok else 0)
        return checks

    @http.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @http.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await checked()
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @http.get("/metrics")
    async def prometheus_metrics() -> Response:
        await checked()
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @http.get("/asyncapi.json")
    async def asyncapi_document() -> dict[str, Any]:
        return asyncapi()

    if store is not None and resolve is not None:
        add_history_route(http, name, store, resolve)
    return http


class Reader(BaseModel):
    """Optional since v1.1: the reader is the authenticated caller. When sent, it must agree with the token."""

    id: str = Field(min_length=1, max_length=64, description="Who reads: must be the token's subject")
    role: str | None = Field(None, min_length=1, max_length=32, description="Ignored: the role recorded is the one that gave the right")


class RevealRequest(BaseModel):
    reader: Reader | None = None
    reason: str = Field(min_length=4, max_length=500, description="Why the personal data is needed (recorded)")


def reading_principal(request: Request, claimed: Reader | None) -> tuple[str, str]:
    """(reader id, role) of the disclosure: who the token says, never what the body says."""
    access = access_of(request)
    if claimed is not None and claimed.id != access.principal.subject:
        raise HTTPException(403, detail=[{"field": "reader.id", "message": f"登录身份是 {access.principal.subject}，不能以 {claimed.id} 的名义查阅 / you are logged in as {access.principal.subject!r}, not {claimed.id!r}"}])
    return access.principal.subject, "+".join(access.grant.roles)


def add_reveal_route(http: FastAPI, name: str, store: ServiceApplication, resolve: Resolver, protector: PersonalDataProtector) -> None:
    """POST /history/{ref}/reveal: the history with personal fields decrypted. The
    disclosure (who, why, which fields, whose) is saved before anything is returned.
    GET /disclosures and POST /disclosures/of-person: the disclosure log, for auditors."""

    @http.post("/history/{ref}/reveal")
    async def reveal(ref: str, request: RevealRequest, http_request: Request) -> dict[str, Any]:
        reader_id, reader_role = reading_principal(http_request, request.reader)
        aggregate_id = resolve(ref)
        events, state = await asyncio.to_thread(store.history, aggregate_id) if aggregate_id else ([], None)
        if not events:
            raise HTTPException(404, detail=f"{name} has no aggregate {ref!r}")
        records = [event_record(e) for e in events]
        disclosure = PersonalDataDisclosure(
            reader_id=reader_id,
            reader_role=reader_role,
            reason=request.reason,
            service=name,
            aggregate_id=str(aggregate_id),
            fields=sorted({field for record in records for field in encrypted_fields(record["data"])}),
            subjects=data_subjects([record["data"] for record in records]),
        )
        await asyncio.to_thread(store.save, disclosure)
        return {
            "service": name,
            "aggregate_id": str(aggregate_id),
            "disclosure_id": str(disclosure.id),
            "events": [plain(record, protector.reveal_token) for record in records],
            "state": plain(aggregate_state(state), protector.reveal_token),
        }

    @http.get("/disclosures", summary="个人信息查阅记录 Who read personal data, when, which record, whose and why")
    async def disclosures(after: int = Query(0, ge=0, description="Only disclosures after this position (the last page's next_after)"),
                          limit: int = Query(100, ge=1, le=1000, description="At most this many rows"),
                          reader: str | None = Query(None, max_length=64, description="Only this reader's disclosures"),
                          aggregate: str | None = Query(None, max_length=64, description="Only disclosures of this record (aggregate id)"),
                          subject: str | None = Query(None, max_length=64, description="Only disclosures of this data subject (subject ref / person_ref)"),
                          ) -> dict[str, Any]:
        def wanted(recorded: Any) -> bool:
            return ((reader is None or recorded.reader_id == reader) and (aggregate is None or recorded.aggregate_id == aggregate)
                    and (subject is None or subject in subjects_of(recorded)))

        filtered = reader is not None or aggregate is not None or subject is not None
        return await disclosure_page(store, after, limit, wanted if filtered else None)

    @http.post("/disclosures/of-person", summary="一个人的个人信息被谁查阅 Disclosures of one person's data, by resident ID number")
    async def disclosures_of_person(person: PersonQuery | None = None,
                                    after: int = Query(0, ge=0, description="Only disclosures after this position (the last page's next_after)"),
                                    limit: int = Query(100, ge=1, le=1000, description="At most this many rows")) -> dict[str, Any]:
        subject = protector.person_ref(checked_id_number(person))
        page = await disclosure_page(store, after, limit, lambda recorded: subject in subjects_of(recorded))
        return {**page, "subject": subject}


class PersonQuery(BaseModel):
    """Whose disclosures: a resident ID number, sent in the body (never in a URL, where it would be logged)."""

    id_number: Any = Field(None, description="The person's resident ID number (居民身份证号码, 18 characters)",
                           json_schema_extra={"type": "string", "examples": ["13013219920625146X"]})


def checked_id_number(person: PersonQuery | None) -> str:
    """The resident ID number in canonical form (the validator intake normalises with, so
    its person_ref is the one intake computed), or a 422 naming id_number."""
    number = person.id_number if person is not None else None
    if number is None or number == "":
        raise HTTPException(422, detail=[{"field": "id_number", "message": "请填写身份证号码 / id_number is required: the resident ID number of the person"}])
    try:
        return resident_id(number)
    except ValueError as error:
        reason = error.message() if isinstance(error, PydanticCustomError) else str(error)
        raise HTTPException(422, detail=[{"field": "id_number", "message": f"身份证号码无效 / {reason}"}]) from None


# A filtered listing reads the log in batches of this size, and reads at most SCAN_BUDGET
# disclosures in one request; beyond it the page ends with more=true and next_after.
SCAN_BATCH = 1000
SCAN_BUDGET = 50_000


async def disclosure_page(store: ServiceApplication, after: int, limit: int, wanted: Callable[[Any], bool] | None) -> dict[str, Any]:
    """Up to `limit` disclosures after position `after` that `wanted` keeps (all, when None).

    Filtering skips rows, so the log is read on until the page is full or the log ends: a
    page is short only at the log's end (more=false). `next_after` is the position to ask
    after next (the last row read, kept or skipped), so paging on never misses a row."""
    topic = get_topic(PersonalDataDisclosure.Recorded)
    batch = limit if wanted is None else max(limit, SCAN_BATCH)
    rows: list[dict[str, Any]] = []
    position, scanned, more = after, 0, True
    while len(rows) < limit and scanned < SCAN_BUDGET:
        notifications = await asyncio.to_thread(
            store.recorder.select_notifications, start=position, limit=batch, topics=[topic], inclusive_of_start=False
        )
        for notification in notifications:
            position, scanned = notification.id, scanned + 1
            recorded = store.decode(notification)
            if wanted is None or wanted(recorded):
                rows.append(disclosure_row(notification.id, recorded))
                if len(rows) == limit:
                    break
        if len(notifications) < batch and position == (notifications[-1].id if notifications else position):
            more = False  # the log's end was read
            break
    return {"title": "个人信息查阅记录 Personal data disclosures", "rows": rows, "next_after": position, "more": more}


def disclosure_row(position: int, recorded: Any) -> dict[str, Any]:
    return {"position": position, "disclosure_id": str(recorded.originator_id), "at": recorded.timestamp.isoformat(),
            **{k: getattr(recorded, k) for k in ("reader_id", "reader_role", "reason", "service", "aggregate_id", "fields")},
            "subjects": subjects_of(recorded)}


def add_history_route(http: FastAPI, name: str, store: ServiceApplication, resolve: Resolver) -> None:
    @http.get("/history/{ref}")
    async def history(ref: str, as_of: datetime | None = Query(None, description="ISO 8601 with offset")) -> dict[str, Any]:
        if as_of is not None and as_of.tzinfo is None:
            raise HTTPException(422, detail=[{"field": "as_of", "message": "needs a UTC offset, e.g. 2026-03-02T09:15:00+08:00"}])
        aggregate_id = resolve(ref)
        if aggregate_id is None:
            raise HTTPException(404, detail=f"{name} has no aggregate {ref!r}")
        events, state = await asyncio.to_thread(store.history, aggregate_id, as_of)
        if not events and await asyncio.to_thread(store.find, aggregate_id) is None:
            raise HTTPException(404, detail=f"{name} has no aggregate {ref!r}")
        return {
            "service": name,
            "aggregate_id": str(aggregate_id),
            "as_of": as_of.isoformat() if as_of else None,
            "events": [mask_personal_data(event_record(e)) for e in events],
            "state": mask_personal_data(aggregate_state(state)),
        }


def plain(value: Any, on_token: Callable[[Any], Any] | None = None) -> Any:
    """JSON-ready (UUIDs and datetimes as text), with each encrypted token replaced by
    on_token(token) when given."""
    if on_token is not None and is_token(value):
        return on_token(value)
    if isinstance(value, dict):
        return {k: plain(v, on_token) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, on_token) for v in value]
    if isinstance(value, (UUID, datetime, Decimal)):
        return str(value)  # money stays a decimal string: FastAPI would turn a Decimal into a float
    return value


def mask_personal_data(value: Any) -> Any:
    """Encrypted personal fields stay encrypted here; revealing them is an audited act."""
    return plain(value, lambda _token: "[encrypted]")


def parse_uuid(ref: str) -> UUID | None:
    try:
        return UUID(ref)
    except ValueError:
        return None
