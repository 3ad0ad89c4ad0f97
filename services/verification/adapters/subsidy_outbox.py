"""What verification announces for the subsidy events in its store (subsidy.py contracts).

Each announcement is built from the event and the aggregate as it stood at that event
(read from the store), so a republish says exactly the same. Events that only keep
the record straight (a person first seen, a re-report, a life fact, a counted check,
a batch's list) are not announced: their consequences are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from services.verification.domain.subsidy.beneficiary import Beneficiary
from services.verification.domain.subsidy.payment import CHANGES
from shared.contracts.events.subsidy import (
    BENEFICIARY_EVENTS,
    BENEFICIARY_TYPES,
    PAYMENT,
    PAYMENT_CYCLE,
    SIGNAL_LINKED,
    SIGNAL_LINKED_SUBJECT,
    SIGNAL_RAISED,
    SIGNAL_RAISED_SUBJECT,
    PaymentChangedV1,
    PaymentCycleV1,
    SubsidySignalLinkedV1,
    SubsidySignalV1,
    payment_cycle_subject,
    payment_subject,
)
from shared.contracts.integration import EventType, OutgoingMessage, announce

SERVICE = "verification"
BENEFICIARY_STEPS = {"Reported": "reported", "Checked": "checked", "Confirmed": "confirmed", "Refused": "refused",
                     "Suspended": "suspended", "Reinstated": "reinstated"}
CYCLE_CHANGES = {"Created": "created", "TownshipComputed": "computed", "Approved": "approved", "Closed": "closed"}
DAY_FIELDS = ("reported_on", "checked_on", "decided_on", "suspended_on", "reinstated_on", "scheduled_on", "approved_on", "withheld_on",
              "disbursed_on", "returned_on", "reissued_on", "visited_on", "created_on", "computed_on", "closed_on")


def day_of(event: Any) -> str:
    return next(getattr(event, name) for name in DAY_FIELDS if hasattr(event, name))


def officer_of(event: Any) -> dict[str, str]:
    return getattr(event, "officer", None) or {}


def translate_subsidy(state_after: Callable[[Any], Any], notification_id: int, event: Any) -> Sequence[OutgoingMessage] | None:
    """The announcements of a subsidy event; None when the event is not a subsidy event."""
    kind, _, name = type(event).__qualname__.partition(".")
    translator = TRANSLATORS.get(kind)
    if translator is None:
        return None
    made = translator(name, event, state_after(event))
    if made is None:
        return ()
    event_type, subject, payload, correlation = made
    officer = officer_of(event)
    causation = f"officer:{officer['id']}" if officer else _evidence_of(event) or correlation
    return (announce(event, event_type=event_type, event_id=f"{SERVICE}-{notification_id}", producer=SERVICE, correlation_id=correlation,
                     causation_id=causation, payload=payload, subject=subject),)


def _evidence_of(event: Any) -> str | None:
    evidence = getattr(event, "evidence", None)
    return evidence[-1] if isinstance(evidence, list) and evidence else evidence if isinstance(evidence, str) else None


Made = tuple[EventType, str, BaseModel, str] | None


def _beneficiary(name: str, event: Any, person: Beneficiary) -> Made:
    step = BENEFICIARY_STEPS.get(name)
    if step is None:
        return None
    enrolment = person.enrolment(event.program, event.year) if hasattr(event, "program") else _current_enrolment(person)
    if enrolment is None:
        return None  # a person never enrolled (a death report, say): nothing to announce about an enrolment
    officer = officer_of(event)
    fields: dict[str, Any] = {
        "beneficiary_id": person.beneficiary_id, "person_ref": person.person_ref, "program": enrolment["program"], "year": enrolment["year"],
        "township_code": enrolment["township_code"], "on": day_of(event), "officer_id": officer.get("id"), "officer_section": officer.get("section")}
    if name == "Reported":
        fields.update(submission_id=event.submission_id, birth_year=event.birth_year)
    elif name == "Checked":
        fields.update(policy_version=event.policy_version, findings=event.findings, outcome=event.outcome)
    elif name == "Confirmed":
        fields.update(policy_version=event.policy_version, rules=event.rules, yearly_amount=event.yearly_amount)
    elif name == "Refused":
        outcomes = {f["rule"]: f["outcome"] for f in enrolment["findings"]}
        reasons = [{"rule": r["rule"], "outcome": outcomes.get(r["rule"], "fail"), "message": r["message"]} for r in event.reasons]
        fields.update(policy_version=event.policy_version, reasons=reasons)
    elif name == "Suspended":
        fields.update(effective_on=event.effective_on, cause=event.cause, evidence=event.evidence)
    else:
        fields.update(reason=event.reason)
    type_name = f"verification.beneficiary.{step}"
    subject, model = BENEFICIARY_EVENTS[type_name]
    return BENEFICIARY_TYPES[type_name], subject, model(**fields), enrolment["record_id"]


def _current_enrolment(person: Beneficiary) -> dict[str, Any] | None:
    """A suspension is about the person; it is announced on their latest enrolment (a
    refused one only when there is no other), so it lands on the township that pays."""
    ranked = sorted(person.enrolments.values(), key=lambda e: (e["year"], e["status"] != "refused", e["program"]))
    return ranked[-1] if ranked else None


def _payment(name: str, event: Any, payment: Any) -> Made:
    officer = officer_of(event)
    followup = payment.followups[-1] if name == "FollowedUp" else None
    payload = PaymentChangedV1(
        payment_id=payment.payment_id, cycle_id=payment.cycle_id, program=payment.program, year=payment.year,
        township_code=payment.township_code, beneficiary_id=payment.beneficiary_id, person_ref=payment.person_ref, amount=payment.amount,
        change=CHANGES[name], status=payment.status, bucket=payment.bucket, on=day_of(event), officer_id=officer.get("id"),
        officer_section=officer.get("section"), bank_reference=payment.bank_reference, reason=getattr(event, "reason", None),
        amount_confirmed=followup["amount_confirmed"] if followup else None, shortfall=followup["shortfall"] if followup else None)
    return PAYMENT, payment_subject(CHANGES[name]), payload, payment.payment_id


def _cycle(name: str, event: Any, cycle: Any) -> Made:
    change = CYCLE_CHANGES.get(name)
    if change is None:
        return None
    officer = officer_of(event)
    townships = [event.township_code] if change == "computed" else [] if change == "created" else sorted(cycle.townships)
    payload = PaymentCycleV1(cycle_id=cycle.cycle_id, program=cycle.program, year=cycle.year, change=change, status=cycle.status,
                             on=day_of(event), officer_id=officer.get("id"), officer_section=officer.get("section"), payments=cycle.payments,
                             entitled=cycle.entitled, townships=townships)
    return PAYMENT_CYCLE, payment_cycle_subject(change), payload, cycle.cycle_id


def _signal(name: str, event: Any, signal: Any) -> Made:
    if name == "CaseLinked":
        payload: BaseModel = SubsidySignalLinkedV1(signal_id=signal.signal_id, case_id=event.case_id, case_number=event.case_number,
                                                   linked_on=event.linked_on)
        return SIGNAL_LINKED, SIGNAL_LINKED_SUBJECT, payload, signal.signal_id
    payload = SubsidySignalV1(signal_id=signal.signal_id, pattern=signal.pattern, offence=signal.offence, township_code=signal.township_code,
                              subject=signal.subject, evidence=signal.evidence, person_refs=signal.person_refs, amount=signal.amount,
                              detected_on=signal.detected_on, summary=signal.summary)
    return SIGNAL_RAISED, SIGNAL_RAISED_SUBJECT, payload, signal.signal_id


TRANSLATORS: dict[str, Callable[[str, Any, Any], Made]] = {
    "Beneficiary": _beneficiary, "Payment": _payment, "PaymentCycle": _cycle, "SubsidySignal": _signal,
}
