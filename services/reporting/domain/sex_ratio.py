"""Sex ratio at birth (出生人口性别比): boys per 100 girls, with its uncertainty.

Pure. A ratio from 40 births says little, so every figure carries its sample size and
a 95% interval (Wilson score interval for the share of boys, mapped to a ratio), and
the early warning (预警) only speaks when there are enough births to mean something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class SexRatioBand:
    """The normal band (configurable): about 103-107 is natural; the county watches 110."""

    low: float = 103.0
    high: float = 110.0
    min_births: int = 30


@dataclass(frozen=True)
class SexRatioFigure:
    boys: int
    girls: int
    ratio: float | None  # None when there are no girls
    interval: tuple[float, float | None] | None  # None without births; upper None = unbounded
    status: str  # normal | above | below | too_few
    significant: bool  # the whole interval lies outside the band

    @property
    def births(self) -> int:
        return self.boys + self.girls


def ratio_of(boys: float, girls: float) -> float | None:
    return round(100.0 * boys / girls, 1) if girls else None


def wilson_interval(successes: int, total: int, z: float = Z_95) -> tuple[float, float]:
    share = successes / total
    denominator = 1 + z * z / total
    centre = (share + z * z / (2 * total)) / denominator
    half_width = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half_width), min(1.0, centre + half_width)


def _share_to_ratio(share: float) -> float | None:
    return None if share >= 1.0 else round(100.0 * share / (1.0 - share), 1)


def sex_ratio(boys: int, girls: int, band: SexRatioBand = SexRatioBand()) -> SexRatioFigure:
    births = boys + girls
    if births == 0:
        return SexRatioFigure(0, 0, None, None, "too_few", False)
    low_share, high_share = wilson_interval(boys, births)
    interval = (_share_to_ratio(low_share) or 0.0, _share_to_ratio(high_share))
    ratio = ratio_of(boys, girls)
    if births < band.min_births:
        return SexRatioFigure(boys, girls, ratio, interval, "too_few", False)
    if ratio is None or ratio > band.high:
        significant = interval[0] > band.high
        return SexRatioFigure(boys, girls, ratio, interval, "above", significant)
    if ratio < band.low:
        significant = interval[1] is not None and interval[1] < band.low
        return SexRatioFigure(boys, girls, ratio, interval, "below", significant)
    return SexRatioFigure(boys, girls, ratio, interval, "normal", False)


def period_key(birth_date: str) -> str:
    """Births are counted per month ("2025-03"); reports add months up into periods."""
    return birth_date[:7]


def months_of(period: str) -> tuple[str, str]:
    """The first and last month ("YYYY-MM") of a period: 2025, 2025-H1, 2025-Q3 or 2025-03."""
    year, _, part = period.partition("-")
    if not (len(year) == 4 and year.isdigit()):
        raise ValueError(f"period {period!r} must start with a year, e.g. 2025, 2025-H1, 2025-Q3, 2025-03")
    if part == "":
        return f"{year}-01", f"{year}-12"
    if part in ("H1", "H2"):
        first = 1 if part == "H1" else 7
        return f"{year}-{first:02d}", f"{year}-{first + 5:02d}"
    if part in ("Q1", "Q2", "Q3", "Q4"):
        first = 3 * (int(part[1]) - 1) + 1
        return f"{year}-{first:02d}", f"{year}-{first + 2:02d}"
    if part.isdigit() and 1 <= int(part) <= 12 and len(part) == 2:
        return f"{year}-{part}", f"{year}-{part}"
    raise ValueError(f"period {period!r} is not a year, half (H1/H2), quarter (Q1-Q4) or month (01-12)")


def birth_order_group(order: int) -> str:
    return "3+" if order >= 3 else str(order)
