"""A termination at or beyond N weeks' gestation with no medical indication."""

from __future__ import annotations

from dataclasses import dataclass

PATTERN = "late_termination_without_indication"


@dataclass(frozen=True)
class LateTerminationRule:
    min_weeks: int = 14


def late_termination_without_indication(gestation_weeks: int, medical_indication: str | None, rule: LateTerminationRule) -> bool:
    """A blank indication counts as none: an empty remark explains nothing."""
    return gestation_weeks >= rule.min_weeks and not (medical_indication or "").strip()
