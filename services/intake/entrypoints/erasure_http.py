"""Erasure of one person's personal data over HTTP (个人信息删除).

POST /erasures (an administrator asks), POST /erasures/{erasure_id}/approve (an auditor,
not the same person, approves; the key is shredded then), GET /erasures and
GET /erasures/{erasure_id}. Who asks and who approves come from the token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.intake.application.erasure import ErasureNotFoundError, Erasures, NothingToEraseError, describe
from services.intake.domain.erasure import ErasureRefusedError, retention_message
from shared.contracts.identity import ResidentIdError, normalise_resident_id
from shared.identity.access import access_of
from shared.privacy.protection import PersonalDataProtector

log = structlog.get_logger()


class ErasureRequest(BaseModel):
    id_number: str | None = Field(None, max_length=32, description="居民身份证号码 of the person; only its keyed hash is kept")
    subject_ref: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="Or the person's keyed hash (person_ref), as disclosures and events name them")
    ground: str = Field(description="The lawful ground (个人信息保护法 第四十七条), a code of GET /erasures/grounds")
    reason: str = Field(min_length=4, max_length=500, description="What happened: the person's request, its date and reference")


def _field_error(status: int, field: str, message: str) -> HTTPException:
    return HTTPException(status, detail=[{"field": field, "message": message}])


def _actor(request: Request, role: str) -> dict[str, str]:
    principal = access_of(request).principal
    return {"id": principal.subject, "name": principal.name, "role": role}


def _erasure_uuid(erasure_id: str) -> UUID:
    try:
        return UUID(erasure_id)
    except ValueError:
        raise _field_error(422, "erasure_id", f"不是有效的编号 / not an erasure id: {erasure_id[:40]!r}") from None


def add_erasure_routes(http: FastAPI, erasures: Erasures, protector: PersonalDataProtector, now: Callable[[], datetime]) -> None:
    @http.get("/erasures/grounds", summary="删除个人信息的法定情形 The lawful grounds for erasure")
    async def grounds() -> dict[str, Any]:
        return {"grounds": [vars(g) for g in erasures.rules.grounds.values()]}

    @http.post("/erasures", status_code=201, summary="申请删除个人信息 Ask for one person's personal data to be erased")
    async def request_erasure(body: ErasureRequest, request: Request) -> Any:
        if (body.id_number is None) == (body.subject_ref is None):
            raise _field_error(422, "id_number", "请给出身份证号码或 subject_ref 之一 / give the ID number or the subject_ref, one of them")
        field = "id_number" if body.id_number is not None else "subject_ref"
        if body.id_number is not None:
            try:
                subject_ref = protector.person_ref(normalise_resident_id(body.id_number))
            except ResidentIdError as error:
                raise _field_error(422, "id_number", f"身份证号码无效 / not a resident ID number: {error}") from None
        else:
            subject_ref = body.subject_ref or ""
        if body.ground not in erasures.rules.grounds:
            raise _field_error(422, "ground", f"不是法定的删除情形 / not a lawful ground; one of {', '.join(erasures.rules.grounds)}")
        try:
            erasure = await asyncio.to_thread(erasures.request, subject_ref, body.ground, body.reason, _actor(request, "administrator"), now())
        except NothingToEraseError:
            raise _field_error(404, field, "平台没有此人的记录 / the platform holds no record naming this person") from None
        if erasure.status == "refused":
            return JSONResponse(status_code=409, content={"detail": [{"field": field, "message": retention_message(erasure.held)}], "erasure": describe(erasure)})
        return describe(erasure)

    @http.post("/erasures/{erasure_id}/approve", summary="批准删除个人信息 Approve an erasure (an auditor who did not ask)")
    async def approve(erasure_id: str, request: Request) -> dict[str, Any]:
        uuid = _erasure_uuid(erasure_id)
        try:
            await asyncio.to_thread(erasures.approve, uuid, _actor(request, "auditor"), now())
        except ErasureNotFoundError:
            raise _field_error(404, "erasure_id", f"没有这项删除申请 / no erasure request {erasure_id}") from None
        except ErasureRefusedError as refused:
            raise _field_error(403 if refused.field == "approved_by" else 409, refused.field, refused.message) from None
        try:
            return describe(await erasures.carry_out(uuid, now))
        except Exception as error:  # noqa: BLE001 - the approval stands; the worker finishes it
            log.warning("erasure_approved_not_yet_done", erasure_id=erasure_id, error=repr(error))
            return JSONResponse(status_code=202, content=describe(await asyncio.to_thread(erasures.get, uuid)))

    @http.get("/erasures", summary="个人信息删除记录 Erasure requests, in the order made")
    async def listing(after: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        return {"title": "个人信息删除记录 Erasures", **await asyncio.to_thread(erasures.listing, after, limit)}

    @http.get("/erasures/{erasure_id}", summary="一项删除申请 One erasure request")
    async def one(erasure_id: str) -> dict[str, Any]:
        uuid = _erasure_uuid(erasure_id)
        try:
            return describe(await asyncio.to_thread(erasures.get, uuid))
        except ErasureNotFoundError:
            raise _field_error(404, "erasure_id", f"没有这项删除申请 / no erasure request {erasure_id}") from None
