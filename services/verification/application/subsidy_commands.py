"""Officers' commands on beneficiaries (run in a worker thread: the store is synchronous).

Each command decides over freshly loaded aggregates and saves everything it touched in
one transaction; a concurrent writer makes the save stale and the command is decided
again, a few times, before giving up. Confirming a whole township is one transaction
per beneficiary, so its cost grows linearly and one refusal stops nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError

from services.verification.application.subsidy_queries import SubsidyIndex
from services.verification.application.subsidy_unit import Unit
from services.verification.domain.errors import RuleViolation
from services.verification.domain.subsidy.beneficiary import Beneficiary, Officer, expect_section
from services.verification.domain.subsidy.policy import SubsidyPolicy
from services.verification.domain.subsidy.signals import township_failure_rate
from shared.eventstore.application import ServiceApplication, StaleAggregateError

RETRIES = 8
T = TypeVar("T")


class SubsidyNotFoundError(LookupError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def run_unit(store: ServiceApplication, step: Callable[[Unit], T]) -> T:
    """Decide on fresh state and save what the step touched; again if someone was faster."""
    for _ in range(RETRIES):
        unit = Unit(store.find)
        result = step(unit)
        try:
            if unit.aggregates:
                store.save(*unit.aggregates)
        except IntegrityError:
            continue
        return result
    raise StaleAggregateError(f"gave up after {RETRIES} concurrent conflicts")


def beneficiary_in(unit: Unit, beneficiary_id: str) -> Beneficiary:
    person = unit.by_reference(beneficiary_id)
    if not isinstance(person, Beneficiary):
        raise SubsidyNotFoundError("beneficiary_id", f"no beneficiary {beneficiary_id!r}")
    unit.add(person)
    return person


@dataclass
class BeneficiaryCommands:
    store: ServiceApplication
    policy: SubsidyPolicy
    index: SubsidyIndex

    def confirm(self, beneficiary_id: str, officer: Officer, on: date, program: str, year: int) -> Beneficiary:
        def step(unit: Unit) -> Beneficiary:
            person = beneficiary_in(unit, beneficiary_id)
            enrolment = person.enrolment(program, year) or {}
            amount = self.policy.for_year(year).yearly_amount(program, enrolment.get("basis"))
            if amount is None and enrolment.get("status") == "eligible":
                raise RuleViolation("program", f"the policy sets no yearly amount for {program} {year} ({enrolment.get('basis')})")
            person.confirm(program, year, on, officer, amount)  # type: ignore[arg-type]  # the domain explains a missing enrolment
            return person

        return run_unit(self.store, step)

    def confirm_all(self, officer: Officer, on: date, program: str, year: int, township_code: str | None) -> dict[str, Any]:
        """Every eligible enrolment in scope; one that cannot be confirmed (suspended since)
        is listed with the reason and the others go on."""
        expect_section(officer, "confirm beneficiaries")
        confirmed, skipped = [], []
        for row in self.index.enrolments(program=program, year=year, township_code=township_code, status="eligible"):
            try:
                confirmed.append(self.confirm(row["beneficiary_id"], officer, on, program, year).beneficiary_id)
            except RuleViolation as violation:
                skipped.append({"beneficiary_id": row["beneficiary_id"], "field": violation.field, "message": violation.message})
        return {"confirmed": confirmed, "skipped": skipped}

    def refuse(self, beneficiary_id: str, officer: Officer, on: date, program: str, year: int, reasons: list[dict[str, str]]) -> Beneficiary:
        def step(unit: Unit) -> Beneficiary:
            person = beneficiary_in(unit, beneficiary_id)
            version = self.policy.for_year(year)
            person.refuse(program, year, on, officer, reasons, {rule.id for rule in version.rules_for(program)})
            enrolment = person.enrolment(program, year)
            tally = unit.tally(program, year, enrolment["township_code"])
            tally.count_refused(person.beneficiary_id, enrolment["evidence"][0])
            unit.signal(township_failure_rate(tally, version.failure_rate), on)
            return person

        return run_unit(self.store, step)

    def suspend(self, beneficiary_id: str, officer: Officer, on: date, effective_on: date, cause: str, reason: str,
                enforcement_case: str | None) -> Beneficiary:
        def step(unit: Unit) -> Beneficiary:
            person = beneficiary_in(unit, beneficiary_id)
            if not person.suspend(effective_on.isoformat(), cause, [], on, officer, reason, enforcement_case):
                raise RuleViolation("status", f"{beneficiary_id} is already suspended for {cause} from an earlier day")
            return person

        return run_unit(self.store, step)

    def reinstate(self, beneficiary_id: str, officer: Officer, on: date, reason: str) -> Beneficiary:
        def step(unit: Unit) -> Beneficiary:
            person = beneficiary_in(unit, beneficiary_id)
            person.reinstate(on.isoformat(), reason, on, officer)
            return person

        return run_unit(self.store, step)
