"""Officers' commands on payment cycles and payments.

Computing and approving go township by township, each township its own transaction,
so the cost is linear in beneficiaries and an interrupted run is simply run again
(a person already scheduled is skipped; an approved cycle's remaining scheduled
payments are approved). A disbursement batch is one transaction: the bank's list is
recorded whole or not at all. No payment is disbursed to a beneficiary suspended on
the disbursement day: it is withheld instead, in the same batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.verification.application.subsidy_commands import SubsidyNotFoundError, run_unit
from services.verification.application.subsidy_queries import SubsidyIndex
from services.verification.application.subsidy_unit import Unit
from services.verification.domain.errors import RuleViolation
from services.verification.domain.subsidy.beneficiary import Beneficiary, Officer, beneficiary_uuid, expect_section
from services.verification.domain.subsidy.cycle import FINANCE_SECTIONS, PaymentCycle, cycle_key, cycle_uuid
from services.verification.domain.subsidy.payment import Payment, payment_uuid
from services.verification.domain.subsidy.references import PublicReference
from shared.eventstore.application import ServiceApplication


def withholding_reason(person: Beneficiary, day: str) -> str | None:
    suspension = person.suspension_on(day)
    return None if suspension is None else f"扶助对象自{suspension['effective_on']}起暂停发放（{suspension['cause']}）"


@dataclass
class PaymentCommands:
    store: ServiceApplication
    index: SubsidyIndex

    def _cycle(self, unit: Unit, cycle_id: str) -> PaymentCycle:
        cycle = unit.get(cycle_uuid(cycle_id))
        if cycle is None:
            raise SubsidyNotFoundError("cycle_id", f"no payment cycle {cycle_id!r}")
        unit.add(cycle)
        return cycle

    def _payment(self, unit: Unit, payment_id: str, field: str = "payment_id") -> Payment:
        payment = unit.by_reference(payment_id)
        if not isinstance(payment, Payment):
            raise SubsidyNotFoundError(field, f"no payment {payment_id!r}")
        unit.add(payment)
        return payment

    def create_cycle(self, officer: Officer, on: date, program: str, year: int) -> PaymentCycle:
        def step(unit: Unit) -> PaymentCycle:
            expect_section(officer, "create a payment cycle")
            if unit.get(cycle_uuid(cycle_key(year, program))) is not None:
                raise RuleViolation("year", f"the cycle {cycle_key(year, program)} exists already")
            cycle = PaymentCycle(year=year, program=program, created_on=on.isoformat(), officer=officer)
            unit.add(cycle)
            return cycle

        return run_unit(self.store, step)

    def compute(self, cycle_id: str, officer: Officer, on: date, townships: list[str] | None) -> dict[str, Any]:
        cycle = self._cycle(Unit(self.store.find), cycle_id)
        cycle.expect_compute(on.isoformat(), officer)
        codes = townships or sorted({r["township_code"] for r in self.index.enrolments(program=cycle.program, year=cycle.year, status="confirmed")})
        scheduled = {code: run_unit(self.store, lambda unit, code=code: self._compute_township(unit, cycle_id, code, officer, on)) for code in codes}
        return {"cycle_id": cycle_id, "scheduled": scheduled}

    def _compute_township(self, unit: Unit, cycle_id: str, code: str, officer: Officer, on: date) -> int:
        cycle = self._cycle(unit, cycle_id)
        entitled = []
        for row in self.index.enrolments(program=cycle.program, year=cycle.year, township_code=code, status="confirmed"):
            person: Beneficiary = unit.get(row["id"])
            enrolment = person.enrolment(cycle.program, cycle.year)
            if enrolment["status"] == "confirmed" and unit.get(payment_uuid(cycle_id, person.person_ref)) is None:
                entitled.append((person, enrolment["yearly_amount"]))
        payment_ids = cycle.compute_township(code, [amount for _, amount in entitled], on.isoformat(), officer)
        for (person, amount), payment_id in zip(entitled, payment_ids, strict=True):
            payment = Payment(cycle_id=cycle_id, person_ref=person.person_ref, payment_id=payment_id, program=cycle.program, year=cycle.year,
                              township_code=code, beneficiary_id=person.beneficiary_id, amount=amount, scheduled_on=on.isoformat(), officer=officer)
            unit.add(payment, PublicReference(reference=payment_id, aggregate_id=payment.id, kind="payment"))
        return len(payment_ids)

    def approve(self, cycle_id: str, officer: Officer, on: date) -> dict[str, Any]:
        """Approves the cycle, then its payments township by township; a payment of a
        beneficiary suspended on the day of approval is withheld."""
        def approve_cycle(unit: Unit) -> PaymentCycle:
            cycle = self._cycle(unit, cycle_id)
            if cycle.status in ("approved", "disbursing") and cycle.approved_by == officer["id"]:
                return cycle  # resuming an interrupted approval
            cycle.approve(on.isoformat(), officer)
            return cycle

        cycle = run_unit(self.store, approve_cycle)
        approved, withheld = 0, []
        for code in cycle.townships:
            done = run_unit(self.store, lambda unit, code=code: self._approve_township(unit, cycle_id, code, officer, on))
            approved, withheld = approved + done[0], withheld + done[1]
        return {"cycle_id": cycle_id, "approved": approved, "withheld": withheld}

    def _approve_township(self, unit: Unit, cycle_id: str, code: str, officer: Officer, on: date) -> tuple[int, list[str]]:
        approved, withheld = 0, []
        for row in self.index.payments(cycle_id=cycle_id, township_code=code, status="scheduled"):
            payment: Payment = unit.get(row["id"])
            reason = withholding_reason(unit.get(beneficiary_uuid(payment.person_ref)), on.isoformat())
            if reason:
                payment.withhold(on.isoformat(), reason, officer)
                withheld.append(payment.payment_id)
            else:
                payment.approve(on.isoformat(), officer)
                approved += 1
            unit.add(payment)
        return approved, withheld

    def record_batch(self, cycle_id: str, officer: Officer, on: date, batch_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        def step(unit: Unit) -> dict[str, Any]:
            expect_section(officer, "record a disbursement batch", FINANCE_SECTIONS)
            cycle = self._cycle(unit, cycle_id)
            cycle.expect_batch(batch_id, on.isoformat(), officer)
            disbursed, withheld = [], []
            for n, item in enumerate(items):
                field = f"payments[{n}]"
                payment = self._payment(unit, item["payment_id"], f"{field}.payment_id")
                if payment.cycle_id != cycle_id or payment.payment_id in disbursed + withheld:
                    raise RuleViolation(f"{field}.payment_id", f"{payment.payment_id} is not a payment of {cycle_id}, or is listed twice", 422)
                if payment.status != "approved":
                    raise RuleViolation(f"{field}.payment_id", f"{payment.payment_id} is {payment.status}; a batch pays approved payments only")
                day = item["disbursed_on"].isoformat()
                reason = withholding_reason(unit.get(beneficiary_uuid(payment.person_ref)), day)
                if reason:
                    payment.withhold(day, reason, officer)
                    withheld.append(payment.payment_id)
                else:
                    payment.disburse(item["bank_reference"], day, batch_id, officer)
                    disbursed.append(payment.payment_id)
            cycle.record_batch(batch_id, disbursed, withheld, on.isoformat(), officer)
            return {"cycle_id": cycle_id, "batch_id": batch_id, "disbursed": disbursed, "withheld": withheld}

        return run_unit(self.store, step)

    def close(self, cycle_id: str, officer: Officer, on: date) -> PaymentCycle:
        def step(unit: Unit) -> PaymentCycle:
            cycle = self._cycle(unit, cycle_id)
            cycle.close(len(self.index.payments(cycle_id=cycle_id, bucket="pending")), on.isoformat(), officer)
            return cycle

        return run_unit(self.store, step)

    def send_back(self, payment_id: str, officer: Officer, on: date, reason: str, outcome: str) -> Payment:
        def step(unit: Unit) -> Payment:
            expect_section(officer, "record a returned payment", FINANCE_SECTIONS)
            payment = self._payment(unit, payment_id)
            payment.send_back(outcome, reason, on.isoformat(), officer)
            return payment

        return run_unit(self.store, step)

    def reissue(self, payment_id: str, officer: Officer, on: date, bank_reference: str) -> Payment:
        def step(unit: Unit) -> Payment:
            expect_section(officer, "reissue a payment", FINANCE_SECTIONS)
            payment = self._payment(unit, payment_id)
            reason = withholding_reason(unit.get(beneficiary_uuid(payment.person_ref)), on.isoformat())
            if reason:
                raise RuleViolation("status", f"cannot reissue {payment_id}: {reason}")
            payment.reissue(bank_reference, on.isoformat(), officer)
            return payment

        return run_unit(self.store, step)
