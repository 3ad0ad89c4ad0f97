"""Loads the subsidy policy table (subsidy_policy.json, or a file named by settings)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from services.verification.domain.subsidy.money import yuan
from services.verification.domain.subsidy.policy import (
    CHECKS,
    PROGRAMS,
    FailureRate,
    SubsidyPolicy,
    SubsidyPolicyVersion,
    SubsidyRule,
)

DEFAULT_SUBSIDY_POLICY = Path(__file__).with_name("subsidy_policy.json")


def load_subsidy_policy(path: Path | None = None) -> SubsidyPolicy:
    raw = json.loads((path or DEFAULT_SUBSIDY_POLICY).read_text(encoding="utf-8"))
    versions = [_version(entry) for entry in raw["versions"]]
    versions.sort(key=lambda v: v.effective_from)
    return SubsidyPolicy(tuple(versions))


def _version(entry: dict) -> SubsidyPolicyVersion:
    name = entry["version"]
    rules = tuple(SubsidyRule(id=r["id"], program=r["program"], check=r["check"], text=r["text"], params=r.get("params", {}))
                  for r in entry["rules"])
    if len({rule.id for rule in rules}) != len(rules):
        raise ValueError(f"subsidy policy version {name} repeats a rule id")
    unknown = sorted({rule.check for rule in rules} - set(CHECKS))
    if unknown:
        raise ValueError(f"subsidy policy version {name} names unknown checks: {', '.join(unknown)}")
    if set(entry["amounts"]) != set(PROGRAMS):
        raise ValueError(f"subsidy policy version {name} must set amounts for exactly {', '.join(PROGRAMS)}")
    amounts = {program: {basis: yuan(value) for basis, value in by_basis.items()} for program, by_basis in entry["amounts"].items()}
    rate = entry["failure_rate"]
    return SubsidyPolicyVersion(
        version=name, effective_from=date.fromisoformat(entry["effective_from"]), source=entry["source"],
        exclusive_programs=bool(entry["exclusive_programs"]), amounts=amounts,
        failure_rate=FailureRate(int(rate["min_reports"]), yuan(rate["threshold"])), rules=rules,
    )
