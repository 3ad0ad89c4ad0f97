"""Loads the policy table (policy_table.json, or a file named by settings)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from services.verification.domain.policy import CHECKS, PolicyTable, PolicyVersion, Rule

DEFAULT_POLICY_TABLE = Path(__file__).with_name("policy_table.json")


def load_policy_table(path: Path | None = None) -> PolicyTable:
    raw = json.loads((path or DEFAULT_POLICY_TABLE).read_text(encoding="utf-8"))
    versions = []
    for entry in raw["versions"]:
        rules = tuple(
            Rule(id=r["id"], kinds=tuple(r["kinds"]), check=r["check"], text=r["text"],
                 params=r.get("params", {}), on_fail=r.get("on_fail", "fail"))
            for r in entry["rules"]
        )
        if len({rule.id for rule in rules}) != len(rules):
            raise ValueError(f"policy version {entry['version']} repeats a rule id")
        unknown = sorted({rule.check for rule in rules} - set(CHECKS))
        if unknown:
            raise ValueError(f"policy version {entry['version']} names unknown checks: {', '.join(unknown)}")
        versions.append(PolicyVersion(
            version=entry["version"], effective_from=date.fromisoformat(entry["effective_from"]), source=entry["source"],
            time_limits=dict(entry["time_limits"]), warning_days=int(entry["warning_days"]), rules=rules,
        ))
    versions.sort(key=lambda v: v.effective_from)
    return PolicyTable(tuple(versions))
