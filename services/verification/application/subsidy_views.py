"""Subsidy aggregates as officers see them: no personal values (people are person_refs,
the report's reason stays encrypted), money as decimal strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.verification.domain.subsidy.beneficiary import Beneficiary
from services.verification.domain.subsidy.cycle import PaymentCycle
from services.verification.domain.subsidy.payment import Payment
from services.verification.domain.subsidy.signals import SubsidySignal


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def describe_beneficiary(person: Beneficiary) -> dict[str, Any]:
    enrolments = [
        {"program": e["program"], "year": e["year"], "township_code": e["township_code"], "status": e["status"],
         "policy_version": e["policy_version"], "findings": e["findings"], "basis": e["basis"], "yearly_amount": money(e["yearly_amount"]),
         "decision": e["decision"], "reported_on": e["reported_on"], "submission_ids": e["submission_ids"],
         "other_townships": e["other_townships"]}
        for e in sorted(person.enrolments.values(), key=lambda e: (e["year"], e["program"]))
    ]
    return {
        "beneficiary_id": person.beneficiary_id, "person_ref": person.person_ref, "birth_year": person.birth_year,
        "enrolments": enrolments, "died_on": person.died_on, "pension": person.pension,
        "suspended": bool(person.open_suspensions()), "suspension": (person.open_suspensions() or [None])[-1],
        "suspensions": person.suspensions, "version": person.version,
    }


def describe_payment(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.payment_id, "cycle_id": payment.cycle_id, "program": payment.program, "year": payment.year,
        "township_code": payment.township_code, "beneficiary_id": payment.beneficiary_id, "person_ref": payment.person_ref,
        "amount": money(payment.amount), "status": payment.status, "bucket": payment.bucket, "bank_reference": payment.bank_reference,
        "disbursed_on": payment.disbursed_on,
        "followups": [{**f, "amount_confirmed": money(f["amount_confirmed"]), "shortfall": money(f["shortfall"])} for f in payment.followups],
        "version": payment.version,
    }


def describe_cycle(cycle: PaymentCycle, totals: dict[str, Any]) -> dict[str, Any]:
    return {
        "cycle_id": cycle.cycle_id, "program": cycle.program, "year": cycle.year, "status": cycle.status,
        "created_by": cycle.created_by, "approved_by": cycle.approved_by, "payments": cycle.payments, "batches": cycle.batches,
        **totals, "reconciles": totals["county"]["reconciles"] and all(t["reconciles"] for t in totals["townships"].values()),
        "version": cycle.version,
    }


def describe_signal(signal: SubsidySignal) -> dict[str, Any]:
    return {
        "signal_id": signal.signal_id, "pattern": signal.pattern, "offence": signal.offence, "township_code": signal.township_code,
        "subject": signal.subject, "evidence": signal.evidence, "person_refs": signal.person_refs, "amount": money(signal.amount),
        "detected_on": signal.detected_on, "summary": signal.summary, "cases": signal.cases,
        "case_number": signal.cases[-1]["case_number"] if signal.cases else None,
    }
