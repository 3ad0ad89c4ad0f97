"""The HTTP endpoints every service has: health, readiness, metrics, history, AsyncAPI."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import FastAPI, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from shared.eventstore.application import ServiceApplication, aggregate_state, event_record
from shared.observability.metrics import ServiceMetrics
from shared.privacy.protection import is_token

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
) -> FastAPI:
    """The common endpoints; /history only where the service keeps an event store."""
    http = FastAPI(title=f"fpb {name}", version="1")

    @http.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @http.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @http.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @http.get("/asyncapi.json")
    async def asyncapi_document() -> dict[str, Any]:
        return asyncapi()

    if store is not None and resolve is not None:
        add_history_route(http, name, store, resolve)
    return http


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


def mask_personal_data(value: Any) -> Any:
    """Encrypted personal fields stay encrypted here; revealing them is an audited act."""
    if is_token(value):
        return "[encrypted]"
    if isinstance(value, dict):
        return {k: mask_personal_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_personal_data(v) for v in value]
    if isinstance(value, (UUID, datetime)):
        return str(value)
    return value


def parse_uuid(ref: str) -> UUID | None:
    try:
        return UUID(ref)
    except ValueError:
        return None
