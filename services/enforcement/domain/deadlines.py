"""Statutory response limits (受理/答复时限) in working days, and where a case stands. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from shared.calendar import NO_OVERRIDE, CalendarOverride, add_working_days, working_days_between


@dataclass(frozen=True)
class DeadlineRules:
    # 信访工作条例 art. 32-33: an answer within 60 days; 行政复议法: a decision within 60
    # days. The issue asks for working days; both are configuration.
    working_days: dict[str, int] = field(default_factory=lambda: {"petition": 60, "administrative_review": 60})
    nearing_within: int = 5  # working days before the due date that count as "nearing"
    calendar: CalendarOverride = NO_OVERRIDE


def deadline_for(kind: str, received_on: date, rules: DeadlineRules) -> dict[str, object] | None:
    limit = rules.working_days.get(kind)
    if limit is None:
        return None
    due = add_working_days(received_on, limit, rules.calendar)
    return {"kind": kind, "received_on": received_on.isoformat(), "working_days": limit, "due_on": due.isoformat()}


def deadline_standing(deadline: dict[str, object] | None, answered: bool, as_of: date, rules: DeadlineRules) -> str | None:
    """None (no clock running), "on_time", "nearing" or "breached" on `as_of`."""
    if not deadline or answered:
        return None
    due = date.fromisoformat(str(deadline["due_on"]))
    if as_of > due:
        return "breached"
    if working_days_between(as_of, due, rules.calendar) <= rules.nearing_within:
        return "nearing"
    return "on_time"
