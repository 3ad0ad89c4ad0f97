"""How long an application took (办理时长), replayed from its clock steps. Pure.

The same clock as verification's (services/verification/domain/clock.py, conventions
in shared/calendar.py): it starts on the day of the first check (the day the county
received the file), counts the working days after it, stands still from an information
request (补正) until the information is supplied, and stops at the decision or the
withdrawal. The time limit is the one the latest check applied.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shared.calendar import Calendar, working_days_between

DECISIONS = ("approved", "refused")
STOPS = (*DECISIONS, "withdrawn")


@dataclass(frozen=True)
class Step:
    step: str
    on: date
    time_limit: int | None = None


@dataclass(frozen=True)
class Clock:
    started_on: date
    ended_on: date  # the decision or withdrawal, or the day the clock was read while still running
    stopped_by: str | None  # approved | refused | withdrawn; None while still running
    limit: int
    working_days: int  # used, outside the pauses

    @property
    def within_limit(self) -> bool:
        return self.working_days <= self.limit


def replay_clock(steps: Sequence[Step], until: date, calendar: Calendar) -> Clock | None:
    """The clock as it stood at the end of `until` (steps in order); None before the first check."""
    started_on, limit, stopped_by, ended_on = None, None, None, until
    pauses: list[tuple[date, date | None]] = []
    for step in steps:
        if step.on > until:
            break
        if step.step == "checked":
            started_on = started_on or step.on
            limit = step.time_limit if step.time_limit is not None else limit
        elif step.step == "information_requested":
            pauses.append((step.on, None))
        elif step.step in ("information_supplied", *STOPS) and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], step.on)  # the clock runs again (or stops for good)
        if step.step in STOPS:
            stopped_by, ended_on = step.step, step.on
            break
    if started_on is None or limit is None:
        return None
    return Clock(started_on, ended_on, stopped_by, limit, working_days_between(started_on, ended_on, calendar, pauses))


def median(values: Sequence[float]) -> float | None:
    """The middle value; for an even count, the mean of the two middle ones."""
    return float(statistics.median(values)) if values else None


def percentile_90(values: Sequence[float]) -> float | None:
    """Nearest rank: the smallest value at least 90% of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])
