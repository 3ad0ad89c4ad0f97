"""Where an application's statutory clock (受理时限) stands on a day. Pure.

The clock starts on the day the county received the application (the township's
report), counts working days, stands still while information is requested, and stops
at the decision or withdrawal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from shared.calendar import Calendar, Pause, add_working_days, working_days_between


@dataclass(frozen=True)
class ClockReading:
    state: str  # running | nearing | overdue | paused | stopped | stopped_late
    started_on: date
    limit: int
    used: int
    due_on: date | None
    working_days_left: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state, "started_on": self.started_on.isoformat(), "limit_working_days": self.limit,
            "used_working_days": self.used, "due_on": self.due_on.isoformat() if self.due_on else None,
            "working_days_left": self.working_days_left,
        }


def pauses_of(raw: list[list[str | None]]) -> list[Pause]:
    return [(date.fromisoformat(start), date.fromisoformat(end) if end else None) for start, end in raw]  # type: ignore[arg-type]


def read_clock(started_on: date, limit: int, raw_pauses: list[list[str | None]], stopped_on: date | None,
               as_of: date, warning_days: int, calendar: Calendar) -> ClockReading:
    pauses = pauses_of(raw_pauses)
    end = min(as_of, stopped_on) if stopped_on else as_of
    used = working_days_between(started_on, end, calendar, pauses)
    due = add_working_days(started_on, limit, calendar, pauses)
    left = limit - used
    if stopped_on is not None and stopped_on <= as_of:
        state = "stopped_late" if used > limit else "stopped"
    elif due is None:
        state = "paused"
    elif used > limit:
        state = "overdue"
    elif left <= warning_days:
        state = "nearing"
    else:
        state = "running"
    return ClockReading(state, started_on, limit, used, due, left)


def earliest_warning_day(started_on: date, limit: int, warning_days: int) -> date:
    """No clock started on `started_on` can be nearing or past its limit before this day,
    whatever the calendar and the pauses: it is nearing once the working days used reach
    `limit - warning_days`, a working day is at most one calendar day, and pauses only
    delay. Sweeps pass over an application before it without loading it."""
    return started_on + timedelta(days=max(limit - warning_days, 0))
