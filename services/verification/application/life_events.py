"""Verification's use cases for the county's life facts about beneficiaries: death reports
(卫健局) and the rural pension roll (新农保).

A death, or the pension roll's "deceased", suspends the beneficiary from that day and
looks back: a payment already disbursed on or after that day is a fraudulent-collection
signal (冒领), and an enrolment for a year that began after it is false reporting (虚报).
The pension roll's "suspended" suspends; its "active" again ends only the suspension the
roll itself caused. Payment ids of a person are derivable from their enrolments (one
cycle per program and year), so no index is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from eventsourcing.domain import Aggregate

from services.verification.application.subsidy_unit import Find, Unit
from services.verification.domain.subsidy.beneficiary import Beneficiary
from services.verification.domain.subsidy.cycle import cycle_key
from services.verification.domain.subsidy.payment import payment_uuid
from services.verification.domain.subsidy.signals import deceased_reported, paid_after_death
from shared.calendar import county_day
from shared.contracts.events.intake import SubmissionAcceptedV1
from shared.contracts.integration import ReceivedEvent


def record_death(received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
    submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
    evidence, on = received.envelope.event_id, county_day(submission.occurred_at)
    unit = Unit(find)
    person = unit.beneficiary(submission.person_refs["id_number"], on)
    person.record_death(submission.data["died_on"], evidence)
    look_back(unit, person, submission.data["died_on"], "death", evidence, on)
    return unit.aggregates


def record_pension_status(received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
    submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
    evidence, on = received.envelope.event_id, county_day(submission.occurred_at)
    status, effective_on = submission.data["status"], submission.data["effective_on"]
    unit = Unit(find)
    person = unit.beneficiary(submission.person_refs["id_number"], on)
    person.record_pension(status, effective_on, evidence)
    if status == "deceased":
        look_back(unit, person, effective_on, "pension_deceased", evidence, on)
    elif status == "suspended":
        person.suspend(effective_on, "pension_suspended", [evidence], on)
    elif status == "active":
        person.reinstate(effective_on, f"新农保恢复正常（{effective_on}起）", on, evidence=evidence, causes=("pension_suspended",))
    return unit.aggregates


def look_back(unit: Unit, person: Beneficiary, died_on: str, cause: str, evidence: str, on: date) -> None:
    person.suspend(died_on, cause, [evidence], on)
    for enrolment in person.enrolments.values():
        payment = unit.get(payment_uuid(cycle_key(enrolment["year"], enrolment["program"]), person.person_ref))
        if payment is not None:
            unit.signal(paid_after_death(payment, died_on, [enrolment["evidence"][0], evidence]), on)
        unit.signal(deceased_reported(person, enrolment["year"], enrolment["township_code"], [enrolment["evidence"][0], evidence],
                                      enrolment["reported_on"]), on)
