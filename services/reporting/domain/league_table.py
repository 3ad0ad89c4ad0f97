"""The county-wide notice (通报) on processing time limits and citizen satisfaction. Pure.

Each township (or section) gets: applications decided in the period, the median and
90th percentile of their processing working days, the share decided within the time
limit, how many were overdue (decided late in the period, or still open and past the
limit at its end), and the mean satisfaction score with the number of ratings.
Two rankings, as the notice prints them: time limits (share within the limit, then
the shorter median, then more decided) and satisfaction (mean score, then more
ratings). A group with nothing to rank on is listed without a rank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.reporting.domain.processing_time import Clock, median, percentile_90


@dataclass
class GroupFigures:
    decided_days: list[int] = field(default_factory=list)  # working days of each application decided in the period
    decided_within: int = 0
    open_overdue: int = 0
    ratings: int = 0
    score_sum: int = 0

    def add_decided(self, clock: Clock) -> None:
        self.decided_days.append(clock.working_days)
        self.decided_within += clock.within_limit

    def row(self) -> dict[str, Any]:
        decided = len(self.decided_days)
        decided_late = decided - self.decided_within
        return {
            "decided": decided,
            "median_working_days": median(self.decided_days),
            "p90_working_days": percentile_90(self.decided_days),
            "within_limit": self.decided_within,
            "within_limit_rate": round(100.0 * self.decided_within / decided, 1) if decided else None,
            "decided_late": decided_late,
            "open_overdue": self.open_overdue,
            "overdue": decided_late + self.open_overdue,
            "satisfaction_mean": round(self.score_sum / self.ratings, 2) if self.ratings else None,
            "ratings": self.ratings,
        }


def time_limit_key(row: dict[str, Any]) -> tuple | None:
    if not row["decided"]:
        return None
    return (-row["within_limit_rate"], row["median_working_days"], -row["decided"])


def satisfaction_key(row: dict[str, Any]) -> tuple | None:
    return None if not row["ratings"] else (-row["satisfaction_mean"], -row["ratings"])


def competition_ranks(rows: Sequence[dict[str, Any]], key: Callable[[dict[str, Any]], tuple | None]) -> list[int | None]:
    """1, 2, 2, 4: equal keys share a rank; a row without a key gets none."""
    keyed = sorted((k, i) for i, k in ((i, key(row)) for i, row in enumerate(rows)) if k is not None)
    ranks: list[int | None] = [None] * len(rows)
    for position, (k, index) in enumerate(keyed):
        previous = keyed[position - 1] if position else None
        ranks[index] = ranks[previous[1]] if previous and previous[0] == k else position + 1
    return ranks


def ranked(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with both ranks, in the order of the time-limit ranking (unranked last)."""
    rows = list(rows)
    for row, time_rank, satisfaction_rank in zip(rows, competition_ranks(rows, time_limit_key), competition_ranks(rows, satisfaction_key)):
        row["rank_time_limit"], row["rank_satisfaction"] = time_rank, satisfaction_rank
    return sorted(rows, key=lambda row: (row["rank_time_limit"] is None, row["rank_time_limit"] or 0))
