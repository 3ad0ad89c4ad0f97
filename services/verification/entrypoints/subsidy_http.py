"""Verification's HTTP endpoints for reward and special assistance (奖励扶助 / 特别扶助).

Every command acts as the token's subject (a body `officer` must agree with the token;
see http.py) and may give the day of the step (`on`, default today in China, never in
the future). A township officer reads only beneficiaries and payments of their township.
Beneficiaries, cycles and confirmation belong to 扶助中心; disbursement batches,
returns and reissues to 财务科 or 扶助中心 (403 otherwise). Errors are
{"detail": [{"field": ..., "message": ...}]}: 404 unknown reference, 409 a domain rule,
422 unacceptable input. Money is always a decimal string in yuan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from services.verification.application.payment_commands import PaymentCommands
from services.verification.application.subsidy_commands import BeneficiaryCommands, SubsidyNotFoundError
from services.verification.application.subsidy_queries import SubsidyIndex, cycle_totals
from services.verification.application.subsidy_unit import Unit
from services.verification.application.subsidy_views import (
    describe_beneficiary,
    describe_cycle,
    describe_payment,
    describe_signal,
    money,
)
from services.verification.domain.errors import RuleViolation
from services.verification.domain.subsidy.beneficiary import Beneficiary
from services.verification.domain.subsidy.cycle import PaymentCycle, cycle_uuid
from services.verification.domain.subsidy.payment import Payment
from services.verification.domain.subsidy.policy import SubsidyPolicy
from services.verification.domain.subsidy.signals import SubsidySignal
from services.verification.entrypoints.http import CommandIn, problem
from services.verification.entrypoints.subsidy_models import (
    BatchIn,
    ComputeIn,
    ConfirmAllIn,
    CycleIn,
    EnrolmentIn,
    ReinstateIn,
    ReissueIn,
    RefuseBeneficiaryIn,
    ReturnIn,
    SuspendIn,
)
from shared.eventstore.application import ServiceApplication, StaleAggregateError
from shared.identity.access import acting_officer, township_scope


def subsidy_routes(store: ServiceApplication, beneficiaries: BeneficiaryCommands, payments: PaymentCommands, index: SubsidyIndex,
                   policy: SubsidyPolicy, today: Callable[[], date], wake: Callable[[], None]) -> APIRouter:
    router = APIRouter()

    async def execute(request: Request, body: CommandIn, action: Callable[[dict[str, str], date], Any], view: Callable[[Any], Any] = lambda r: r) -> Any:
        officer = acting_officer(request, body.officer)  # raises 403/422 {"detail": [{field, message}]}
        on = body.on or today()
        if on > today():
            return problem(422, "on", f"{on} is in the future (today is {today()})")
        try:
            result = await asyncio.to_thread(action, officer, on)
        except SubsidyNotFoundError as missing:
            return problem(404, missing.field, missing.message)
        except RuleViolation as violation:
            return problem(violation.status, violation.field, violation.message)
        except StaleAggregateError as error:
            return problem(409, "on", str(error))
        wake()
        return view(result)

    async def load(reference: str, kind: type, field: str) -> Any:
        found = await asyncio.to_thread(Unit(store.find).by_reference, reference)
        return found if isinstance(found, kind) else problem(404, field, f"no {kind.__name__} {reference!r}")

    # --- beneficiaries --------------------------------------------------------------------

    @router.get("/beneficiaries")
    async def list_beneficiaries(township_code: str | None = None, program: str | None = None, year: int | None = None,
                                 status: str | None = None) -> dict[str, Any]:
        rows = await asyncio.to_thread(index.enrolments, township_code=township_code, program=program, year=year, status=status)
        return {"rows": [{k: v for k, v in row.items() if k != "id"} for row in rows]}

    @router.get("/beneficiaries/{beneficiary_id}")
    async def beneficiary(beneficiary_id: str, request: Request) -> Any:
        found = await load(beneficiary_id, Beneficiary, "beneficiary_id")
        if not isinstance(found, Beneficiary):
            return found
        view, township = describe_beneficiary(found), township_scope(request)
        if township is None:
            return view
        # A township officer sees the person's enrolments of their township, and nothing of the others'.
        own = [{k: v for k, v in e.items() if k != "other_townships"} for e in view["enrolments"] if e["township_code"] == township]
        return {**view, "enrolments": own} if own else problem(404, "beneficiary_id", f"no Beneficiary {beneficiary_id!r}")

    @router.post("/beneficiaries/confirm")
    async def confirm_all(body: ConfirmAllIn, request: Request) -> Any:
        return await execute(request, body, lambda officer, on: beneficiaries.confirm_all(officer, on, body.program, body.year, body.township_code))

    @router.post("/beneficiaries/{beneficiary_id}/confirm")
    async def confirm(beneficiary_id: str, body: EnrolmentIn, request: Request) -> Any:
        return await execute(request, body, lambda officer, on: beneficiaries.confirm(beneficiary_id, officer, on, body.program, body.year), describe_beneficiary)

    @router.post("/beneficiaries/{beneficiary_id}/refuse")
    async def refuse(beneficiary_id: str, body: RefuseBeneficiaryIn, request: Request) -> Any:
        reasons = [r.model_dump() for r in body.reasons]
        return await execute(request, body, lambda officer, on: beneficiaries.refuse(beneficiary_id, officer, on, body.program, body.year, reasons),
                             describe_beneficiary)

    @router.post("/beneficiaries/{beneficiary_id}/suspend")
    async def suspend(beneficiary_id: str, body: SuspendIn, request: Request) -> Any:
        return await execute(request, body, lambda officer, on: beneficiaries.suspend(beneficiary_id, officer, on, body.effective_on, body.cause,
                                                                             body.reason, body.enforcement_case), describe_beneficiary)

    @router.post("/beneficiaries/{beneficiary_id}/reinstate")
    async def reinstate(beneficiary_id: str, body: ReinstateIn, request: Request) -> Any:
        return await execute(request, body, lambda officer, on: beneficiaries.reinstate(beneficiary_id, officer, on, body.reason), describe_beneficiary)

    # --- payment cycles ---------------------------------------------------------------------

    def cycle_view(cycle: PaymentCycle) -> dict[str, Any]:
        return describe_cycle(cycle, cycle_totals(cycle, index.payments(cycle_id=cycle.cycle_id)))

    @router.post("/payment-cycles")
    async def create_cycle(body: CycleIn, request: Request) -> Any:
        return await execute(request, body, lambda officer, on: payments.create_cycle(officer, on, body.program, body.year),
                             lambda cycle: {"cycle_id": cycle.cycle_id, "status": cycle.status})

    @router.post("/payment-cycles/{cycle_id}/compute")
    async def compute(cycle_id: str, body: ComputeIn, request: Request) -> Any:
        return await execute(request, body, lambda officer, on: payments.compute(cycle_id, officer, on, body.townships))

    @router.post("/payment-cycles/{cycle_id}/approve")
    async def approve(cycle_id: str, body: CommandIn, request: Request) -> Any:
        return await execute(request, body, lambda officer, on: payments.approve(cycle_id, officer, on))

    @router.post("/payment-cycles/{cycle_id}/batches")
    async def batch(cycle_id: str, body: BatchIn, request: Request) -> Any:
        late = [n for n, item in enumerate(body.payments) if item.disbursed_on > today()]
        if late:
            return problem(422, f"payments[{late[0]}].disbursed_on", f"{body.payments[late[0]].disbursed_on} is in the future")
        items = [item.model_dump() for item in body.payments]
        return await execute(request, body, lambda officer, on: payments.record_batch(cycle_id, officer, on, body.batch_id, items))

    @router.post("/payment-cycles/{cycle_id}/close")
    async def close(cycle_id: str, body: CommandIn, request: Request) -> Any:
        return await execute(request, body, lambda officer, on: cycle_view(payments.close(cycle_id, officer, on)))

    @router.get("/payment-cycles/{cycle_id}")
    async def cycle(cycle_id: str) -> Any:
        found = await asyncio.to_thread(store.find, cycle_uuid(cycle_id))
        if found is None:
            return problem(404, "cycle_id", f"no payment cycle {cycle_id!r}")
        return await asyncio.to_thread(cycle_view, found)

    # --- payments -----------------------------------------------------------------------------

    @router.get("/payments")
    async def list_payments(cycle_id: str | None = None, township_code: str | None = None, status: str | None = None) -> dict[str, Any]:
        rows = await asyncio.to_thread(index.payments, cycle_id=cycle_id, township_code=township_code, status=status)
        return {"rows": [{**{k: v for k, v in row.items() if k != "id"}, "amount": money(row["amount"])} for row in rows]}

    @router.get("/payments/{payment_id}")
    async def payment(payment_id: str, request: Request) -> Any:
        found = await load(payment_id, Payment, "payment_id")
        if isinstance(found, Payment) and township_scope(request) not in (None, found.township_code):
            return problem(404, "payment_id", f"no Payment {payment_id!r}")  # another township's: as if there were none
        return describe_payment(found) if isinstance(found, Payment) else found

    @router.post("/payments/{payment_id}/return")
    async def send_back(payment_id: str, body: ReturnIn, request: Request) -> Any:
        return await execute(request, body, lambda officer, on: payments.send_back(payment_id, officer, on, body.reason, body.outcome), describe_payment)

    @router.post("/payments/{payment_id}/reissue")
    async def reissue(payment_id: str, body: ReissueIn, request: Request) -> Any:
        return await execute(request, body, lambda officer, on: payments.reissue(payment_id, officer, on, body.bank_reference), describe_payment)

    # --- signals and policy ---------------------------------------------------------------------

    @router.get("/subsidy-signals")
    async def signals(township_code: str | None = None, pattern: str | None = None) -> dict[str, Any]:
        def rows() -> list[dict[str, Any]]:
            return [describe_signal(store.find(row["id"])) for row in index.signals(township_code=township_code, pattern=pattern)]

        return {"rows": await asyncio.to_thread(rows)}

    @router.get("/subsidy-signals/{signal_id}")
    async def signal(signal_id: str) -> Any:
        found = await load(signal_id, SubsidySignal, "signal_id")
        return describe_signal(found) if isinstance(found, SubsidySignal) else found

    @router.get("/subsidy-policy")
    async def subsidy_policy(year: int | None = None) -> Any:
        version = policy.for_year(year or today().year)
        return {"version": version.version, "effective_from": version.effective_from.isoformat(), "source": version.source,
                "exclusive_programs": version.exclusive_programs,
                "amounts": {p: {b: str(a) for b, a in by_basis.items()} for p, by_basis in version.amounts.items()},
                "failure_rate": {"min_reports": version.failure_rate.min_reports, "threshold": str(version.failure_rate.threshold)},
                "rules": [{"id": r.id, "program": r.program, "check": r.check, "params": dict(r.params), "text": r.text} for r in version.rules]}

    return router
