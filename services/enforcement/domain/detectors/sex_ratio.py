"""Facilities or ultrasound operators whose linked births skew male over a rolling window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

PATTERN = "skewed_sex_ratio"


@dataclass(frozen=True)
class SexRatioRule:
    window_days: int = 365
    min_births: int = 10  # fewer births than this say nothing
    max_ratio: float = 120.0  # boys per 100 girls; the natural ratio is about 103-107


def sex_ratio(births: Sequence[tuple[date, str]]) -> float | None:
    """Boys per 100 girls; None when there are no girls."""
    boys = sum(1 for _, sex in births if sex == "M")
    girls = len(births) - boys
    return None if girls == 0 else 100.0 * boys / girls


def skewed(births: Sequence[tuple[date, str]], as_of: date, rule: SexRatioRule) -> bool:
    window = [(day, sex) for day, sex in births if as_of - timedelta(days=rule.window_days) < day <= as_of]
    boys = sum(1 for _, sex in window if sex == "M")
    return skewed_counts(boys, len(window) - boys, rule)


def skewed_counts(boys: int, girls: int, rule: SexRatioRule) -> bool:
    """The same judgement from a window's counts."""
    if boys + girls < rule.min_births:
        return False
    return girls == 0 or 100.0 * boys / girls > rule.max_ratio
