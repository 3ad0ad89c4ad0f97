"""The versioned subsidy policy table (奖励扶助 / 特别扶助 资格与标准) and the pure check
of one enrolment.

Rules and amounts are data (adapters/subsidy_policy.json). The version in force on
1 January of the enrolment year decides that year: eligibility and the yearly amount
per person are set per year (national rules, provincial amounts), so a new year's
standard is a new version effective from 1 January, and an old year is re-explained
under its own rules.

The `reason` object of a beneficiary report (township.<code>.beneficiary.reported)
is only "an object" in the inbound contract; these fields are read from it, and a
missing or unreadable field gives a `missing` finding, never a rejection at intake:

- reward (奖励扶助): {"type": "only_child" | "two_daughters", "household_type": "rural" | "urban"}
- special (特别扶助): {"type": "only_child_died" | "only_child_disabled",
  "child_died_on": "YYYY-MM-DD" (died), "disability_grade": 1-4 (disabled),
  "living_children": int (children living now)}

Outcomes of a finding: pass · fail (refused automatically) · missing (incomplete).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from services.verification.domain.policy import Finding

PROGRAMS = ("reward", "special")
PROGRAM_CODES = {"reward": "RW", "special": "SP"}


@dataclass(frozen=True)
class SubsidyRule:
    id: str
    program: str  # reward | special | * (both)
    check: str
    text: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class FailureRate:
    """A township is signalled when at least `min_reports` enrolments were checked in a
    program and year and the share refused reaches `threshold`."""

    min_reports: int
    threshold: Decimal


@dataclass(frozen=True)
class SubsidyPolicyVersion:
    version: str
    effective_from: date
    source: str
    exclusive_programs: bool  # one person may not hold reward and special in the same year
    amounts: Mapping[str, Mapping[str, Decimal]]  # program -> basis (or "*") -> yearly yuan
    failure_rate: FailureRate
    rules: tuple[SubsidyRule, ...]

    def rules_for(self, program: str) -> tuple[SubsidyRule, ...]:
        return tuple(rule for rule in self.rules if rule.program in (program, "*"))

    def yearly_amount(self, program: str, basis: str | None) -> Decimal | None:
        amounts = self.amounts.get(program, {})
        return amounts.get(basis or "") or amounts.get("*")


@dataclass(frozen=True)
class SubsidyPolicy:
    versions: tuple[SubsidyPolicyVersion, ...]  # sorted by effective_from

    def for_year(self, year: int) -> SubsidyPolicyVersion:
        candidates = [v for v in self.versions if v.effective_from <= date(year, 1, 1)]
        if not candidates:
            raise LookupError(f"no subsidy policy version was in force on {year}-01-01")
        return candidates[-1]


def reason_facts(reason: Any) -> dict[str, Any]:
    """What the checks read from a report's `reason`; a field of the wrong type counts as absent."""
    reason = reason if isinstance(reason, dict) else {}

    def text(name: str) -> str | None:
        value = reason.get(name)
        return value if isinstance(value, str) and value else None

    grade, children = reason.get("disability_grade"), reason.get("living_children")
    return {
        "basis": text("type"),
        "household_type": text("household_type"),
        "child_died_on": text("child_died_on"),
        "disability_grade": grade if isinstance(grade, int) and not isinstance(grade, bool) else None,
        "living_children": children if isinstance(children, int) and not isinstance(children, bool) else None,
    }


def evaluate(version: SubsidyPolicyVersion, program: str, facts: Mapping[str, Any]) -> list[Finding]:
    """Every rule of the version for the program, in table order, with its outcome."""
    facts = {**facts, "exclusive_programs": version.exclusive_programs}
    return [Finding(rule.id, *CHECKS[rule.check](facts, rule.params)) for rule in version.rules_for(program)]


def outcome_of(findings: list[dict[str, str]]) -> str:
    outcomes = {f["outcome"] for f in findings}
    return "ineligible" if "fail" in outcomes else "incomplete" if "missing" in outcomes else "eligible"


# --- the named checks: (facts, params) -> (outcome, message) ------------------------------

Outcome = tuple[str, str]


def _household(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    household = facts.get("household_type")
    if household is None:
        return "missing", "reason.household_type (rural | urban) is missing"
    if household != params["required"]:
        return "fail", f"a {household} household; only {params['required']} households qualify"
    return "pass", f"a {household} household"


def _age_in_year(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    birth_year = facts.get("birth_year")
    if birth_year is None:
        return "missing", "the year of birth is unknown"
    age = facts["year"] - birth_year
    if age < params["min_age"]:
        return "fail", f"{age} in {facts['year']}; the program starts at {params['min_age']}"
    return "pass", f"{age} in {facts['year']} (from {params['min_age']})"


def _basis(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    basis, allowed = facts.get("basis"), params["allowed"]
    if basis is None:
        return "missing", f"reason.type is missing ({' | '.join(allowed)})"
    if basis not in allowed:
        return "fail", f"reason.type {basis!r} is not a ground of this program ({' | '.join(allowed)})"
    return "pass", f"ground: {basis}"


def _child_died_or_disabled(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    basis = facts.get("basis")
    if basis == "only_child_died":
        died = facts.get("child_died_on")
        return ("pass", f"the only child died on {died}") if died else ("missing", "reason.child_died_on is missing")
    if basis == "only_child_disabled":
        grade = facts.get("disability_grade")
        if grade is None:
            return "missing", "reason.disability_grade (1-4) is missing"
        if not 1 <= grade <= params["max_disability_grade"]:
            return "fail", f"disability grade {grade}; grades 1-{params['max_disability_grade']} qualify"
        return "pass", f"the only child is disabled, grade {grade}"
    if basis is None:
        return "missing", "reason.type is missing (only_child_died | only_child_disabled)"
    return "fail", f"reason.type {basis!r} is not a ground of special assistance"


def _no_living_children(facts: Mapping[str, Any], _: Mapping[str, Any]) -> Outcome:
    living = facts.get("living_children")
    if living is None:
        return "missing", "reason.living_children is missing"
    if living > 0:
        return "fail", f"{living} living child(ren); special assistance is for families with none"
    return "pass", "no living child"


def _exclusive_programs(facts: Mapping[str, Any], _: Mapping[str, Any]) -> Outcome:
    other = facts.get("other_program")
    if facts["exclusive_programs"] and other:
        return "fail", f"already enrolled in {other} for {facts['year']}; the two programs exclude each other"
    return "pass", "not enrolled in the other program this year" if facts["exclusive_programs"] else "the programs may be combined"


def _alive(facts: Mapping[str, Any], _: Mapping[str, Any]) -> Outcome:
    """A death suspends payments from its date (issue 4), so a person who had died before
    the township reported them can never be paid for that report."""
    died_on, reported_on = facts.get("died_on"), facts.get("reported_on")
    if died_on is not None and died_on < f"{facts['year']}-01-01":
        return "fail", f"reported deceased on {died_on}, before {facts['year']}"
    if died_on is not None and reported_on is not None and died_on < reported_on:
        return "fail", f"reported deceased on {died_on}, before the township's report of {reported_on}"
    return "pass", f"not reported deceased before {facts['year']} or before the report"


CHECKS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Outcome]] = {
    "household": _household,
    "age_in_year": _age_in_year,
    "basis": _basis,
    "child_died_or_disabled": _child_died_or_disabled,
    "no_living_children": _no_living_children,
    "exclusive_programs": _exclusive_programs,
    "alive": _alive,
}
