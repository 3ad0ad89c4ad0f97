"""What reward and special assistance events change in the read models. Pure.

Each payment and each enrolment is one row holding its latest state; every row
change carries the event's time and its aggregate's version (`newer_by`), so a
redelivered or late older event never overwrites a newer state, and a rebuild gives
the same rows whatever order the streams replay in. Money stays Decimal.

The signal and the case it became are joined by signal_id from either side: the
signal itself (verification), verification's link event, and enforcement's
case.opened / signal_joined, whichever arrives first.
"""

from __future__ import annotations

from datetime import timezone

from services.reporting.domain.projections import Change, Upsert
from shared.contracts.events.enforcement import CaseOpenedV1, CaseUpdatedV1
from shared.contracts.events.subsidy import (
    BeneficiaryCheckedV1,
    BeneficiaryStepV1,
    PaymentChangedV1,
    SubsidySignalLinkedV1,
    SubsidySignalV1,
)
from shared.contracts.integration import ReceivedEvent

ORDER = ("changed_at", "version")
# The enrolment's status after each step; a reinstated beneficiary is confirmed again.
ENROLMENT_STATUS_AFTER = {
    "verification.beneficiary.reported": "reported",
    "verification.beneficiary.checked": "checked",
    "verification.beneficiary.confirmed": "confirmed",
    "verification.beneficiary.refused": "refused",
    "verification.beneficiary.suspended": "suspended",
    "verification.beneficiary.reinstated": "confirmed",
}


def changed_at(received: ReceivedEvent) -> str:
    """The event's time in UTC, fixed width, so that comparing strings compares times."""
    return received.envelope.occurred_at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def subsidy_changes(received: ReceivedEvent) -> list[Change]:
    """The changes for a subsidy event, or for a case that names the signal it came from."""
    payload = received.payload
    match payload:
        case PaymentChangedV1():
            return [payment_row(received, payload)]
        case BeneficiaryStepV1():
            return [enrolment_row(received, payload)]
        case SubsidySignalV1():
            return [signal_row(payload)]
        case SubsidySignalLinkedV1():
            return [case_of_signal(payload.signal_id, payload.case_number)]
        case CaseOpenedV1() if payload.signal_id:
            return [case_of_signal(payload.signal_id, payload.case_number)]
        case CaseUpdatedV1() if payload.change == "signal_joined" and payload.details.get("signal_id"):
            return [case_of_signal(str(payload.details["signal_id"]), payload.case_number)]
    return []


def payment_row(received: ReceivedEvent, payment: PaymentChangedV1) -> Upsert:
    return Upsert(
        "rm_payments",
        {"payment_id": payment.payment_id},
        {
            "cycle_id": payment.cycle_id, "program": payment.program, "year": payment.year,
            "township_code": payment.township_code, "beneficiary_id": payment.beneficiary_id,
            "amount": payment.amount, "status": payment.status, "bucket": payment.bucket,
            "last_change": payment.change, "changed_on": payment.on,
            "changed_at": changed_at(received), "version": received.envelope.aggregate_version,
        },
        newer_by=ORDER,
    )


def enrolment_row(received: ReceivedEvent, step: BeneficiaryStepV1) -> Upsert:
    status = ENROLMENT_STATUS_AFTER[received.envelope.type]
    if isinstance(step, BeneficiaryCheckedV1) and step.outcome == "incomplete":
        status = "incomplete"  # information missing: neither confirmed nor refused yet
    return Upsert(
        "rm_beneficiary_enrolments",
        {"beneficiary_id": step.beneficiary_id, "program": step.program, "year": step.year},
        {"township_code": step.township_code, "status": status, "changed_at": changed_at(received), "version": received.envelope.aggregate_version},
        newer_by=ORDER,
    )


def signal_row(signal: SubsidySignalV1) -> Upsert:
    return Upsert(
        "rm_subsidy_signals",
        {"signal_id": signal.signal_id},
        {
            "pattern": signal.pattern, "offence": signal.offence, "township_code": signal.township_code,
            "subject": signal.subject, "amount": signal.amount, "detected_on": signal.detected_on,
            "summary": signal.summary[:200],
        },
    )


def case_of_signal(signal_id: str, case_number: str) -> Upsert:
    return Upsert("rm_subsidy_signals", {"signal_id": signal_id}, {"case_number": case_number})
