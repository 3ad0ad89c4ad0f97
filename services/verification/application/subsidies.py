"""Verification's use cases for subsidy facts from the townships: a beneficiary report
(enrolment, checked at once) and a follow-up (回访) of a payment.

The report's `reason` is encrypted personal data: it is read here, inside the use case,
through the key store, and only what the checks derive (findings, the basis) is
recorded; the token itself is kept as it arrived, so nothing reported is lost.
Evidence is the id of the integration event each fact arrived in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.domain import Aggregate

from services.verification.application.facts import reveal
from services.verification.application.subsidy_unit import Find, Unit
from services.verification.domain.subsidy.beneficiary import Beneficiary, beneficiary_uuid
from services.verification.domain.subsidy.money import yuan
from services.verification.domain.subsidy.payment import Payment
from services.verification.domain.subsidy.policy import (
    PROGRAMS,
    SubsidyPolicy,
    evaluate,
    outcome_of,
    reason_facts,
)
from services.verification.domain.subsidy.signals import (
    deceased_reported,
    duplicate_enrolment,
    followup_shortfall,
    township_failure_rate,
)
from shared.calendar import county_day
from shared.contracts.events.intake import SubmissionAcceptedV1
from shared.contracts.events.subsidy import PROGRAMS as PROGRAM_NAMES
from shared.contracts.integration import ReceivedEvent
from shared.privacy.protection import PersonalDataProtector


class UnknownPaymentError(LookupError):
    """A follow-up quotes a payment verification has not scheduled (yet): retried, then dead-lettered."""


@dataclass
class Subsidies:
    policy: SubsidyPolicy
    protector: PersonalDataProtector | None

    def report_beneficiary(self, received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
        """A township reports a beneficiary for a program and year: enrol and check at once;
        the same person from a second township is a duplicate-enrolment signal."""
        submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
        data, evidence, on = submission.data, received.envelope.event_id, county_day(submission.occurred_at)
        program, year, township = data["program"], int(data["year"]), submission.township_code or ""
        unit = Unit(find)
        person = unit.beneficiary(submission.person_refs["id_number"], on)
        birth_year = int(str(reveal(self.protector, data["birth_date"]))[:4])
        outcome = person.report(program, year, township, submission.submission_id, submission.record_id, evidence, birth_year,
                                data.get("reason"), on)
        if outcome == "elsewhere":
            first = person.enrolment(program, year)
            why = f"被{first['township_code']}和{township}重复申报{PROGRAM_NAMES[program]}"
            unit.signal(duplicate_enrolment(person, program, year, township, [first["evidence"][0], evidence], why), on)
        elif outcome in ("new", "again"):
            self.check(unit, person, program, year, reveal(self.protector, data.get("reason")), evidence, on)
        return unit.aggregates

    def check(self, unit: Unit, person: Beneficiary, program: str, year: int, reason: object, evidence: str, on) -> None:
        version = self.policy.for_year(year)
        others = [p for p in PROGRAMS if p != program and (person.enrolment(p, year) or {}).get("status") not in (None, "refused")]
        facts = {**reason_facts(reason), "year": year, "birth_year": person.birth_year, "other_program": others[0] if others else None,
                 "died_on": person.deceased_since, "reported_on": person.enrolment(program, year)["reported_on"]}
        findings = [f.as_dict() for f in evaluate(version, program, facts)]
        outcome = outcome_of(findings)
        enrolment = person.enrolment(program, year)
        first_check, township = enrolment["status"] == "reported", enrolment["township_code"]
        person.check(program, year, version.version, findings, outcome, facts["basis"], on)
        tally = unit.tally(program, year, township)
        if first_check:
            tally.count_checked(person.beneficiary_id)
        if outcome == "ineligible":
            tally.count_refused(person.beneficiary_id, evidence)
            failed = {rule.check for rule in version.rules_for(program) for f in findings if f["rule"] == rule.id and f["outcome"] == "fail"}
            if "exclusive_programs" in failed:
                other = person.enrolment(others[0], year)
                why = f"同时申报{PROGRAM_NAMES['reward']}和{PROGRAM_NAMES['special']}"
                unit.signal(duplicate_enrolment(person, program, year, township, [other["evidence"][0], evidence], why), on)
            unit.signal(deceased_reported(person, year, township, [evidence], enrolment["reported_on"]), on)
        unit.signal(township_failure_rate(tally, version.failure_rate), on)

    def record_followup(self, received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
        """What the beneficiary confirms having received; less than was paid is a skimming signal."""
        submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
        data, evidence, on = submission.data, received.envelope.event_id, county_day(submission.occurred_at)
        unit = Unit(find)
        payment = unit.by_reference(data["payment_id"])
        if not isinstance(payment, Payment):
            raise UnknownPaymentError(f"no payment {data['payment_id']!r} to attach the follow-up to")
        shortfall = payment.follow_up(yuan(data["amount_confirmed"]), data["visited_on"], data["method"], submission.submission_id, evidence)
        unit.add(payment)
        enrolled = unit.get(beneficiary_uuid(payment.person_ref)).enrolment(payment.program, payment.year)
        unit.signal(followup_shortfall(payment, shortfall, [enrolled["evidence"][0], evidence]), on)
        return unit.aggregates
