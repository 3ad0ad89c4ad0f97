"""Verification's HTTP endpoints: officers' commands, queries, certificate verification.

Commands are POST /applications/{ref}/<step> with a bearer token (the officer is its
subject; CONTRACT.md, Authentication) and optionally the day of the step (`on`, default
today in China). A body may still name the officer ({"officer": {"id": "...", "section":
"法规科"}}): its id must be the token's subject and its section one of the token's
sections (403 otherwise), and it picks the section for an officer of several. Bad input: 422 naming the field; a domain rule: 409
(or 403 for the wrong section, 422 for unacceptable values), always
{"detail": [{"field": ..., "message": ...}]}.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.verification.application.commands import (
    ApplicationNotFoundError,
    OfficerCommands,
)
from services.verification.application.queries import Queries, describe
from services.verification.domain.application_file import (
    ApplicationFile,
    application_file_id,
)
from services.verification.domain.errors import RuleViolation
from shared.eventstore.application import StaleAggregateError
from shared.identity.access import acting_officer, in_township_scope

# The sections of the register of duties (部门职责登记表; intake's duty_register.json, which
# another service owns: tests/unit/test_application_registers.py keeps the two equal).
Section = Literal[
    "法规科", "办公室", "扶助中心", "县直科", "技术科", "服务站", "药具站", "执法大队", "宣传站", "宣传科",
    "计生协会", "财务科", "基层科", "流动人口科", "统计科", "信访科", "人口调查科", "回访中心",
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class OfficerIn(BaseModel):
    """Optional since v1.1: the officer is the token's subject; when sent, it must agree."""

    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    section: Section | None = None


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    officer: OfficerIn | None = Field(None, description="Must agree with the token when sent; picks the section of an officer of several")
    on: date | None = Field(None, description="Day of the step (default: today, China time); never in the future")


class RequestInformationIn(CommandIn):
    items: list[Text] = Field(min_length=1)


class SupplyInformationIn(CommandIn):
    documents: list[Text] = []
    note: Text | None = None


class ApproveIn(CommandIn):
    note: Text | None = None


class ReasonIn(BaseModel):
    rule: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    message: Text


class RefuseIn(CommandIn):
    reasons: list[ReasonIn] = Field([], description="Default: every failed finding")


class WithdrawIn(CommandIn):
    reason: Text | None = None


class RevokeIn(CommandIn):
    reason: Text
    enforcement_case: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = Field(
        description="The case_number (ZF-…) of a case enforcement opened and concluded as substantiated; "
                    "an unknown case is refused (422), one not (or not yet) concluded as substantiated too (409)")


def problem(status: int, field: str, message: str) -> JSONResponse:
    return JSONResponse({"detail": [{"field": field, "message": message}]}, status_code=status)


def install_error_handlers(http: FastAPI) -> None:
    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        detail = [{"field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path")), "message": e["msg"]} for e in errors]
        return JSONResponse({"detail": detail}, status_code=422)

    http.add_exception_handler(RequestValidationError, invalid)


def verification_routes(commands: OfficerCommands, queries: Queries, today: Callable[[], date]) -> APIRouter:
    router = APIRouter()
    store = commands.store

    async def run(request: Request, ref: str, body: CommandIn, action: Callable[..., ApplicationFile], *args: Any) -> Any:
        officer = acting_officer(request, body.officer)  # raises 403/422 {"detail": [{field, message}]}
        on = body.on or today()
        if on > today():
            return problem(422, "on", f"{on} is in the future (today is {today()})")
        try:
            file = await asyncio.to_thread(action, ref, officer, on, *args)
        except ApplicationNotFoundError:
            return problem(404, "ref", f"no application {ref!r}")
        except RuleViolation as violation:
            return problem(violation.status, violation.field, violation.message)
        except StaleAggregateError as error:
            return problem(409, "ref", str(error))
        commands.wake()
        return describe(file, queries.clock(file, on))

    @router.post("/applications/{ref}/check")
    async def check(ref: str, body: CommandIn, request: Request) -> Any:
        return await run(request, ref, body, commands.check)

    @router.post("/applications/{ref}/request-information")
    async def request_information(ref: str, body: RequestInformationIn, request: Request) -> Any:
        return await run(request, ref, body, commands.request_information, body.items)

    @router.post("/applications/{ref}/supply-information")
    async def supply_information(ref: str, body: SupplyInformationIn, request: Request) -> Any:
        return await run(request, ref, body, commands.supply_information, body.documents, body.note)

    @router.post("/applications/{ref}/approve")
    async def approve(ref: str, body: ApproveIn, request: Request) -> Any:
        return await run(request, ref, body, commands.approve, body.note)

    @router.post("/applications/{ref}/refuse")
    async def refuse(ref: str, body: RefuseIn, request: Request) -> Any:
        return await run(request, ref, body, commands.refuse, [r.model_dump() for r in body.reasons])

    @router.post("/applications/{ref}/publish")
    async def publish(ref: str, body: CommandIn, request: Request) -> Any:
        return await run(request, ref, body, commands.publish)

    @router.post("/applications/{ref}/issue-certificate")
    async def issue_certificate(ref: str, body: CommandIn, request: Request) -> Any:
        return await run(request, ref, body, commands.issue_certificate)

    @router.post("/applications/{ref}/withdraw")
    async def withdraw(ref: str, body: WithdrawIn, request: Request) -> Any:
        return await run(request, ref, body, commands.withdraw, body.reason)

    @router.post("/applications/{ref}/revoke")
    async def revoke(ref: str, body: RevokeIn, request: Request) -> Any:
        return await run(request, ref, body, commands.revoke, body.reason, body.enforcement_case)

    @router.get("/applications")
    async def list_applications(status: str | None = None, kind: str | None = None, section: str | None = None,
                                township_code: str | None = None) -> dict[str, Any]:
        # read in the worker thread (select is a generator: handed over as it is, its queries ran on the event loop)
        rows = await asyncio.to_thread(lambda: list(queries.index.select(status=status, kind=kind, section=section, township_code=township_code)))
        return {"rows": sorted(({k: v for k, v in r.items() if k not in ("id", "scores")} for r in rows), key=lambda r: r["application_id"])}

    @router.get("/applications/overdue")
    async def overdue(as_of: Annotated[date | None, Query(description="Default: today")] = None, section: str | None = None,
                      township_code: str | None = None) -> dict[str, Any]:
        return await asyncio.to_thread(queries.overdue, as_of or today(), section, township_code)

    @router.post("/applications/warnings")
    async def warnings(as_of: Annotated[date | None, Query(description="Default: today")] = None) -> dict[str, Any]:
        warned = await asyncio.to_thread(queries.raise_warnings, as_of or today())
        if warned:
            commands.wake()
        return {"as_of": (as_of or today()).isoformat(), "warned": warned}

    @router.get("/applications/satisfaction")
    async def satisfaction() -> dict[str, Any]:
        return await asyncio.to_thread(queries.satisfaction)

    @router.get("/applications/{ref}")
    async def application(ref: str, request: Request, as_of: Annotated[date | None, Query(description="Clock reading on this day")] = None) -> Any:
        file = await asyncio.to_thread(store.find, application_file_id(ref))
        if file is None or not in_township_scope(request, file.township_code):  # another township's file: as if there were none
            return problem(404, "ref", f"no application {ref!r}")
        return describe(file, queries.clock(file, as_of or today()))

    @router.get("/policy")
    async def policy(on: Annotated[date | None, Query(description="The rules in force on this day (default: today)")] = None) -> Any:
        version = queries.applications.policy.in_force_on(on or today())
        return {"version": version.version, "effective_from": version.effective_from.isoformat(), "source": version.source,
                "time_limits": dict(version.time_limits), "warning_days": version.warning_days,
                "rules": [{"id": r.id, "kinds": list(r.kinds), "check": r.check, "params": dict(r.params), "on_fail": r.on_fail, "text": r.text}
                          for r in version.rules]}

    @router.get("/certificates/verify/{code}")
    async def verify(code: str) -> Any:
        answer = await asyncio.to_thread(queries.verify, code)
        return answer if answer["genuine"] else JSONResponse(answer, status_code=404)

    return router
