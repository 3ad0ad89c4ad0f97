"""A beneficiary (扶助对象): one person, whatever program, year or township reports them.

Pure domain. Created on the first fact about the person (a township's report, a death
report, a pension-roll change). It holds one enrolment per (program, year):

    reported ─▶ checked: eligible ─▶ confirmed (by the county, 扶助中心)
                         incomplete ─▶ re-reported by the township ─▶ checked again
                         ineligible ─▶ refused automatically, citing the failed rules
    reported | incomplete | eligible ─▶ refused (by an officer, citing rules)

and the person's life facts (death, pension-roll status) and suspensions: from
`effective_on` no payment may be disbursed, until a reinstatement (by an officer with a
reason, or by the pension roll turning active again after its own suspension).
Days are ISO strings (YYYY-MM-DD), which compare in calendar order.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.verification.domain.errors import RuleViolation
from services.verification.domain.subsidy.references import public_id
from shared.eventstore.copying import SharesStateWhenCopied
from shared.ids import stable_id

SUBSIDY_SECTION = "扶助中心"  # Assistance Center: owns the roll of beneficiaries and the payment cycles
ENFORCEMENT_SECTION = "执法大队"  # may suspend for proven fraud
OPEN = ("reported", "incomplete", "eligible")
Officer = dict[str, str]


def beneficiary_uuid(person_ref: str) -> UUID:
    return stable_id("beneficiary", person_ref)


def key(program: str, year: int) -> str:
    return f"{program}:{year}"


def expect_section(officer: Officer, action: str, allowed: tuple[str, ...] = (SUBSIDY_SECTION,)) -> None:
    if officer["section"] not in allowed:
        raise RuleViolation("officer.section", f"{officer['section']} may not {action}: that belongs to {' or '.join(allowed)}", 403)


class Beneficiary(SharesStateWhenCopied, Aggregate):
    """Every event replaces the attributes it changes and never changes one in place, so a
    copy of a cached beneficiary shares its state (SharesStateWhenCopied)."""

    @staticmethod
    def create_id(person_ref: str, **_: Any) -> UUID:
        return beneficiary_uuid(person_ref)

    @event("Registered")
    def __init__(self, person_ref: str, first_seen_on: str) -> None:
        self.person_ref, self.first_seen_on = person_ref, first_seen_on
        self.birth_year: int | None = None
        self.enrolments: dict[str, dict[str, Any]] = {}
        self.died_on: str | None = None
        self.death_evidence: list[str] = []  # the records saying so (a falsification signal cites them)
        self.pension: dict[str, str] | None = None
        self.suspensions: list[dict[str, Any]] = []

    @property
    def beneficiary_id(self) -> str:
        return public_id("BF", self.id)

    @property
    def deceased_since(self) -> str | None:
        """The earliest day the person is known to be dead: a death report, or the pension
        roll's de-registration as deceased."""
        days = [self.died_on, self.pension["effective_on"] if self.pension and self.pension["status"] == "deceased" else None]
        return min((d for d in days if d), default=None)

    def enrolment(self, program: str, year: int) -> dict[str, Any] | None:
        return self.enrolments.get(key(program, year))

    def suspension_on(self, day: str) -> dict[str, Any] | None:
        """The suspension covering this day, if any."""
        return next((s for s in self.suspensions if s["effective_on"] <= day and (s["reinstated_from"] is None or day < s["reinstated_from"])), None)

    def open_suspensions(self, causes: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return [s for s in self.suspensions if s["reinstated_from"] is None and (causes is None or s["cause"] in causes)]

    def _expect(self, program: str, year: int, allowed: tuple[str, ...], action: str) -> dict[str, Any]:
        enrolment = self.enrolment(program, year)
        if enrolment is None:
            raise RuleViolation("program", f"{self.beneficiary_id} is not reported for {program} {year}", 404)
        if enrolment["status"] not in allowed:
            raise RuleViolation("status", f"cannot {action} an enrolment that is {enrolment['status']} (allowed when {' or '.join(allowed)})")
        return enrolment

    # --- facts from the townships -------------------------------------------------------

    def report(self, program: str, year: int, township_code: str, submission_id: str, record_id: str, evidence: str,
               birth_year: int, reason: Any, on: date) -> str:
        """'new'; 'duplicate' (the same record again); 'again' (the same township re-reports an
        open enrolment: check it again); 'closed' (re-reported after a decision); 'elsewhere'."""
        current = self.enrolment(program, year)
        if current is None:
            self._reported(program=program, year=year, township_code=township_code, submission_id=submission_id, record_id=record_id,
                           evidence=evidence, birth_year=birth_year, reason=reason, reported_on=on.isoformat())
            return "new"
        if submission_id in current["submission_ids"]:
            return "duplicate"
        self._reported_again(program=program, year=year, township_code=township_code, submission_id=submission_id,
                             evidence=evidence, reason=reason, reported_on=on.isoformat())
        if township_code != current["township_code"]:
            return "elsewhere"
        return "again" if current["status"] in OPEN else "closed"

    @event("Reported")
    def _reported(self, program: str, year: int, township_code: str, submission_id: str, record_id: str, evidence: str,
                  birth_year: int, reason: Any, reported_on: str) -> None:
        self.birth_year = birth_year
        self.enrolments = {**self.enrolments, key(program, year): {
            "program": program, "year": year, "township_code": township_code, "status": "reported", "record_id": record_id,
            "submission_ids": [submission_id], "evidence": [evidence], "reported_on": reported_on, "last_on": reported_on,
            "findings": [], "policy_version": None, "basis": None, "yearly_amount": None, "decision": None, "other_townships": [],
        }}

    @event("ReportedAgain")
    def _reported_again(self, program: str, year: int, township_code: str, submission_id: str, evidence: str, reason: Any,
                        reported_on: str) -> None:
        current = self.enrolments[key(program, year)]
        elsewhere = [] if township_code == current["township_code"] or township_code in current["other_townships"] else [township_code]
        self._set(program, year, submission_ids=[*current["submission_ids"], submission_id], evidence=[*current["evidence"], evidence],
                  other_townships=[*current["other_townships"], *elsewhere])

    def check(self, program: str, year: int, policy_version: str, findings: list[dict[str, str]], outcome: str, basis: str | None,
              on: date) -> None:
        """The automatic check; a failed rule refuses at once (no officer), citing it."""
        self._expect(program, year, OPEN, "check")
        self._checked(program=program, year=year, policy_version=policy_version, findings=findings, outcome=outcome, basis=basis,
                      checked_on=on.isoformat())
        if outcome == "ineligible":
            reasons = [{"rule": f["rule"], "message": f["message"]} for f in findings if f["outcome"] == "fail"]
            self._refused(program=program, year=year, policy_version=policy_version, reasons=reasons, decided_on=on.isoformat(), officer=None)

    @event("Checked")
    def _checked(self, program: str, year: int, policy_version: str, findings: list[dict[str, str]], outcome: str,
                 basis: str | None, checked_on: str) -> None:
        self._set(program, year, status=outcome, policy_version=policy_version, findings=list(findings), basis=basis, last_on=checked_on)

    # --- the county's decisions ---------------------------------------------------------

    def confirm(self, program: str, year: int, on: date, officer: Officer, yearly_amount: Decimal) -> None:
        expect_section(officer, "confirm beneficiaries")
        enrolment = self._expect(program, year, ("eligible",), "confirm")
        self._expect_day(enrolment, on)
        suspension = self.suspension_on(on.isoformat())
        if suspension is not None:
            raise RuleViolation("status", f"{self.beneficiary_id} is suspended since {suspension['effective_on']} ({suspension['cause']})")
        rules = [f["rule"] for f in enrolment["findings"]]
        self._confirmed(program=program, year=year, policy_version=enrolment["policy_version"], rules=rules,
                        yearly_amount=yearly_amount, decided_on=on.isoformat(), officer=officer)

    @event("Confirmed")
    def _confirmed(self, program: str, year: int, policy_version: str, rules: list[str], yearly_amount: Decimal, decided_on: str,
                   officer: Officer) -> None:
        self._set(program, year, status="confirmed", yearly_amount=yearly_amount, last_on=decided_on,
                  decision={"outcome": "confirmed", "on": decided_on, "rules": rules, "officer": officer["id"]})

    def refuse(self, program: str, year: int, on: date, officer: Officer, reasons: list[dict[str, str]], known_rules: set[str]) -> None:
        expect_section(officer, "refuse beneficiaries")
        enrolment = self._expect(program, year, OPEN, "refuse")
        self._expect_day(enrolment, on)
        if not reasons:
            reasons = [{"rule": f["rule"], "message": f["message"]} for f in enrolment["findings"] if f["outcome"] in ("fail", "missing")]
        if not reasons:
            raise RuleViolation("reasons", "a refusal must cite at least one rule of the subsidy policy table", 422)
        unknown = sorted({r["rule"] for r in reasons} - known_rules)
        if unknown:
            raise RuleViolation("reasons", f"unknown rule(s) {', '.join(unknown)} in policy version {enrolment['policy_version']}", 422)
        self._refused(program=program, year=year, policy_version=enrolment["policy_version"], reasons=reasons,
                      decided_on=on.isoformat(), officer=officer)

    @event("Refused")
    def _refused(self, program: str, year: int, policy_version: str, reasons: list[dict[str, str]], decided_on: str,
                 officer: Officer | None) -> None:
        self._set(program, year, status="refused", last_on=decided_on,
                  decision={"outcome": "refused", "on": decided_on, "reasons": list(reasons), "officer": officer["id"] if officer else None})

    # --- life facts, suspension and reinstatement ----------------------------------------

    @event("DeathRecorded")
    def record_death(self, died_on: str, evidence: str) -> None:
        self.died_on = min(died_on, self.died_on or died_on)
        self.death_evidence = [*self.death_evidence, evidence]

    @event("PensionStatusRecorded")
    def record_pension(self, status: str, effective_on: str, evidence: str) -> None:
        self.pension = {"status": status, "effective_on": effective_on}
        if status == "deceased":
            self.death_evidence = [*self.death_evidence, evidence]

    def suspend(self, effective_on: str, cause: str, evidence: list[str], on: date, officer: Officer | None = None,
                reason: str | None = None, enforcement_case: str | None = None) -> bool:
        """False when an open suspension of the same cause already covers the day."""
        if officer is not None:
            expect_section(officer, "suspend a beneficiary", (SUBSIDY_SECTION, ENFORCEMENT_SECTION))
        if any(s["effective_on"] <= effective_on for s in self.open_suspensions((cause,))):
            return False
        self._suspended(effective_on=effective_on, cause=cause, evidence=evidence, reason=reason, enforcement_case=enforcement_case,
                        suspended_on=on.isoformat(), officer=officer)
        return True

    @event("Suspended")
    def _suspended(self, effective_on: str, cause: str, evidence: list[str], reason: str | None, enforcement_case: str | None,
                   suspended_on: str, officer: Officer | None) -> None:
        self.suspensions = [*self.suspensions, {"effective_on": effective_on, "cause": cause, "evidence": list(evidence), "reason": reason,
                                                "enforcement_case": enforcement_case, "reinstated_from": None}]

    def reinstate(self, reinstated_from: str, reason: str, on: date, officer: Officer | None = None, evidence: str | None = None,
                  causes: tuple[str, ...] | None = None) -> bool:
        """Ends the open suspensions (of `causes`, default all); payments are possible again
        from `reinstated_from`. False (automatic) or an error (officer) when none is open."""
        if officer is not None:
            expect_section(officer, "reinstate a beneficiary")
        if not self.open_suspensions(causes):
            if officer is None:
                return False
            raise RuleViolation("status", f"{self.beneficiary_id} is not suspended")
        self._reinstated(reinstated_from=reinstated_from, reason=reason, evidence=evidence, causes=list(causes) if causes else None,
                         reinstated_on=on.isoformat(), officer=officer)
        return True

    @event("Reinstated")
    def _reinstated(self, reinstated_from: str, reason: str, evidence: str | None, causes: list[str] | None, reinstated_on: str,
                    officer: Officer | None) -> None:
        self.suspensions = [dict(s, reinstated_from=reinstated_from) if s["reinstated_from"] is None and (causes is None or s["cause"] in causes)
                            else s for s in self.suspensions]

    # --- helpers ------------------------------------------------------------------------

    def _expect_day(self, enrolment: dict[str, Any], on: date) -> None:
        if on.isoformat() < enrolment["last_on"]:
            raise RuleViolation("on", f"{on} is before the enrolment's last step ({enrolment['last_on']})", 422)

    def _set(self, program: str, year: int, **changes: Any) -> None:
        self.enrolments = {**self.enrolments, key(program, year): {**self.enrolments[key(program, year)], **changes}}
