"""The versioned policy table (审核规则表) and the pure evaluation of an application.

Rules are data (adapters/policy_table.json): each version has an effective date, each
rule row an id, the kinds it applies to, the named check it runs with its parameters,
and what a failed check means (`fail`: refuse; `flag`: recorded, decided by the
officer). The version in force on the day the county received the application (its
reception, where the statutory clock starts) decides it, so an old decision is
re-explained under the rules of its date. A version in force is never edited: a change
of rules is a new version (tests/unit/test_application_rules.py freezes each one).

Outcomes of a finding: pass · fail (a ground to refuse) · missing (information
needed: request it) · flag (recorded, not blocking).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

BLOCKING = ("fail", "missing")


@dataclass(frozen=True)
class Rule:
    id: str
    kinds: tuple[str, ...]
    check: str
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)
    on_fail: str = "fail"  # or "flag"


@dataclass(frozen=True)
class PolicyVersion:
    version: str
    effective_from: date
    source: str
    time_limits: Mapping[str, int]  # working days per kind (受理时限)
    warning_days: int  # warn when this many working days or fewer are left
    rules: tuple[Rule, ...]

    def rules_for(self, kind: str) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if kind in rule.kinds or "*" in rule.kinds)

    def rule(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


@dataclass(frozen=True)
class PolicyTable:
    versions: tuple[PolicyVersion, ...]  # sorted by effective_from

    def in_force_on(self, day: date) -> PolicyVersion:
        candidates = [v for v in self.versions if v.effective_from <= day]
        if not candidates:
            raise LookupError(f"no policy version was in force on {day}")
        return candidates[-1]

    def version(self, name: str) -> PolicyVersion:
        for candidate in self.versions:
            if candidate.version == name:
                return candidate
        raise LookupError(f"unknown policy version {name!r}")


@dataclass(frozen=True)
class Finding:
    rule: str
    outcome: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "outcome": self.outcome, "message": self.message}


def evaluate(version: PolicyVersion, kind: str, facts: Mapping[str, Any]) -> list[Finding]:
    """Every rule of the version for this kind, in table order, with its outcome."""
    findings = []
    for rule in version.rules_for(kind):
        outcome, message = CHECKS[rule.check](facts, rule.params)
        if outcome == "fail":
            outcome = rule.on_fail
        findings.append(Finding(rule.id, outcome, message))
    return findings


def blocking(findings: list[dict[str, str]]) -> list[dict[str, str]]:
    return [f for f in findings if f["outcome"] in BLOCKING]


def reason_category(text: str | None, categories: Mapping[str, Any]) -> str | None:
    if not text:
        return None
    for name, category in categories.items():
        if any(keyword in text for keyword in category.get("keywords", ())):
            return name
    return None


# --- the named checks: (facts, params) -> (outcome, message) ------------------------------

Outcome = tuple[str, str]


def _resident_ids(facts: Mapping[str, Any], _: Mapping[str, Any]) -> Outcome:
    bad = facts.get("invalid_ids") or []
    return ("fail", f"invalid resident ID check digit in {', '.join(bad)}") if bad else ("pass", "every resident ID is valid")


def _no_duplicate(facts: Mapping[str, Any], _: Mapping[str, Any]) -> Outcome:
    others = facts.get("duplicates") or []
    if others:
        return "fail", f"the same couple already has application {', '.join(others)} of this kind in hand or approved"
    return "pass", "no other application of this kind by the same couple"


def _reported_in_time(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    """Counted to the date the township puts on its report (HB-2016, HB-2021), or, where the
    row says `counted_to: county_reception` (HB-2021-R1), to the day the county received it."""
    limit = params["working_days"]
    if params.get("counted_to") == "county_reception":
        if facts.get("received_after_reception"):
            return "fail", (f"乡镇填报的受理日期 {facts.get('received_on')} 晚于县局接收日期 {facts.get('county_received_on')}，日期不可能 · "
                            f"the township says it received the application on {facts.get('received_on')}, after the county received it "
                            f"on {facts.get('county_received_on')}")
        days = facts.get("county_reporting_working_days")
    else:
        days = facts.get("reporting_working_days")
    if days is None:
        return "missing", "the date the township received it is unknown"
    if days > limit:
        return "fail", f"the township passed it on after {days} working days (limit {limit})"
    return "pass", f"the township passed it on within {days} working days (limit {limit})"


def _not_backdated(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    days, limit = facts.get("backdated_working_days"), params["working_days"]
    if days is None:
        return "pass", "the township's own date of its report is not on record (filed before it was kept)"
    if days > limit:
        return "fail", (f"乡镇报送日期早于县局接收{days}个工作日，疑似倒签 · the township dates its report {facts.get('township_dated_on')}, "
                        f"{days} working days before the county received it on {facts.get('county_received_on')} (tolerance {limit})")
    return "pass", f"the township's date of its report agrees with the county's reception (within {limit} working days)"


def _age_range(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    woman, man = facts.get("woman_age"), facts.get("man_age")
    if woman is None:
        return "missing", "the woman's age is unknown (no readable resident ID of a woman)"
    if not params["woman_min"] <= woman <= params["woman_max"]:
        return "fail", f"the woman is {woman}; the rule allows {params['woman_min']}-{params['woman_max']}"
    if man is not None and man < params["man_min"]:
        return "fail", f"the man is {man}; the rule requires at least {params['man_min']}"
    return "pass", f"ages are within the rule (woman {woman}" + (f", man {man})" if man is not None else ")")


def _children_limit(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    living = facts.get("living_children")
    if living is None:
        return "missing", "the couple's existing children are not listed"
    if living > params["max_living"]:
        return "fail", f"{living} living children; approval is possible with at most {params['max_living']}"
    if living < params.get("min_living", 0):
        return "fail", f"{living} living children: no approval is needed below {params['min_living']}, register the birth instead"
    return "pass", f"{living} living children (rule: {params.get('min_living', 0)}-{params['max_living']})"


def _reason(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    category_name = facts.get("reason_category")
    if facts.get("reason_given") is False:
        return "missing", "no reason is given"
    if category_name is None:
        return "fail", f"the reason is none of the accepted grounds ({', '.join(params['categories'])})"
    category = params["categories"][category_name]
    status = category.get("requires_child_status")
    statuses = facts.get("children_statuses")
    if status and statuses is not None and status not in statuses:
        return "fail", f"ground {category_name} needs a child recorded as {status}; none is"
    missing = [d for d in category.get("documents", ()) if d not in set(facts.get("documents") or ())]
    if missing:
        return "missing", f"ground {category_name} needs: {'、'.join(missing)}"
    return "pass", f"ground {category_name}, with its documents"


def _documents(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    missing = [d for d in params["documents"] if d not in set(facts.get("documents") or ())]
    return ("missing", f"documents missing: {'、'.join(missing)}") if missing else ("pass", "required documents are on file")


def _married_before(facts: Mapping[str, Any], _: Mapping[str, Any]) -> Outcome:
    married, received = facts.get("marriage_registered_on"), facts.get("received_on")
    if married is None:
        return "missing", "the date of marriage registration is missing"
    if married > received:
        return "fail", f"the marriage was registered on {married}, after the application ({received})"
    return "pass", f"married on {married}"


def _no_holder(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    register = params["register"]
    if facts.get(f"{register}_unknown"):
        return "missing", f"cannot tell who the {register} would be for (no readable resident ID)"
    holder = facts.get(f"{register}_held_by")
    if holder:
        return "fail", f"already granted: the {register} is held through application {holder}"
    return "pass", f"no {register} has been granted before"


def _child_age(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    age = facts.get("child_age")
    if age is None:
        return "missing", "the child's birth date is unknown"
    if age >= params["under"]:
        return "fail", f"the child is {age}; the certificate is for children under {params['under']}"
    return "pass", f"the child is {age} (under {params['under']})"


def _household(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    household = facts.get("household_type")
    if household is None:
        return "missing", "the household type (户籍性质) is missing"
    if household != params["required"]:
        return "fail", f"a {household} household; only {params['required']} households qualify"
    return "pass", f"a {household} household"


def _filing_window(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    received: date = facts["received_on"]
    start, end = (date(received.year, *map(int, params[name].split("-"))) for name in ("from", "to"))
    if not start <= received <= end:
        return "fail", f"filed on {received}, outside the filing window {params['from']}..{params['to']} (late filing recorded)"
    return "pass", f"filed within the window {params['from']}..{params['to']}"


def _present(facts: Mapping[str, Any], params: Mapping[str, Any]) -> Outcome:
    missing = [name for name in params["fields"] if facts.get(name) in (None, "")]
    return ("missing", f"missing: {', '.join(missing)}") if missing else ("pass", "present: " + ", ".join(params["fields"]))


CHECKS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Outcome]] = {
    "resident_ids": _resident_ids,
    "no_duplicate": _no_duplicate,
    "reported_in_time": _reported_in_time,
    "not_backdated": _not_backdated,
    "age_range": _age_range,
    "children_limit": _children_limit,
    "reason": _reason,
    "documents": _documents,
    "married_before": _married_before,
    "no_holder": _no_holder,
    "child_age": _child_age,
    "household": _household,
    "filing_window": _filing_window,
    "present": _present,
}
