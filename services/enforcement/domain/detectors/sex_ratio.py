"""Facilities or ultrasound operators whose linked births skew male over a rolling window."""

from __future__ import annotations

from dataclasses import dataclass

PATTERN = "skewed_sex_ratio"


@dataclass(frozen=True)
class SexRatioRule:
    window_days: int = 365
    min_births: int = 10  # fewer births than this say nothing
    max_ratio: float = 120.0  # boys per 100 girls; the natural ratio is about 103-107


def skewed_counts(boys: int, girls: int, rule: SexRatioRule) -> bool:
    """The judgement on a window's births (BirthTally.counts_within): enough of them, and
    more than max_ratio boys per 100 girls, or no girls at all."""
    if boys + girls < rule.min_births:
        return False
    return girls == 0 or 100.0 * boys / girls > rule.max_ratio
