"""Working days of the official Chinese calendar (工作日, with 调休 adjusted working days).

Statutory clocks (受理时限) count working days. The State Council publishes each year's
holiday arrangement late in the year before; the `chinesecalendar` package carries the
published years. For a year it does not know yet, an override (configuration, e.g.
`shared/calendar_override.json`) lists that year's holidays and adjusted working days;
a year known to neither falls back to Monday-Friday minus the fixed-date holidays
(元旦, 劳动节, 国庆) and is reported as estimated by `WorkingCalendar.is_estimated`.

The clock arithmetic is pure. Its `calendar` argument is a `CalendarOverride` (the
official calendar plus that override; `NO_OVERRIDE` for none), a `WorkingCalendar`,
or any `is_working_day(date) -> bool` predicate.
Conventions: the start day itself never counts (a clock started on Monday has used
one working day at the end of Tuesday); a pause (start, end) stops the clock on the
days after `start` up to and including `end` (end None: still paused).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import chinese_calendar

from shared.contracts.inbound_models import CHINA_TIME

IsWorkingDay = Callable[[date], bool]
Pause = tuple[date, date | None]
FIXED_HOLIDAYS = ((1, 1), (5, 1), (10, 1), (10, 2), (10, 3))
DEFAULT_OVERRIDE = Path(__file__).with_name("calendar_override.json")


def county_day(moment: datetime | str) -> date:
    """The day it is in the county (China time) at `moment`: a datetime with its offset,
    or its ISO text."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(CHINA_TIME).date()


@dataclass(frozen=True)
class CalendarOverride:
    """A year's official arrangement, for years the library does not know (or corrects)."""

    years: frozenset[int] = frozenset()
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # adjusted working days (调休) on weekends

    def __post_init__(self) -> None:
        # A listed day puts its whole year under the override.
        listed = {day.year for day in (*self.holidays, *self.workdays)}
        object.__setattr__(self, "years", frozenset({*self.years, *listed}))

    def is_working_day(self, day: date) -> bool:
        return WorkingCalendar(self).is_working_day(day)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CalendarOverride:
        """{"years": {"2027": {"holidays": ["2027-01-01", ...], "workdays": [...]}}}"""
        years, holidays, workdays = set(), set(), set()
        for year, arrangement in data.get("years", {}).items():
            years.add(int(year))
            for name, target in (("holidays", holidays), ("workdays", workdays)):
                for text in arrangement.get(name, []):
                    day = date.fromisoformat(text)
                    if day.year != int(year):
                        raise ValueError(f"{text} listed under year {year}")
                    target.add(day)
        return cls(frozenset(years), frozenset(holidays), frozenset(workdays))

    @classmethod
    def from_file(cls, path: Path | None) -> CalendarOverride:
        if path is None or not path.exists():
            return cls()
        return cls.from_data(json.loads(path.read_text(encoding="utf-8")))


NO_OVERRIDE = CalendarOverride()


@dataclass(frozen=True)
class WorkingCalendar:
    override: CalendarOverride = field(default=NO_OVERRIDE)

    def is_working_day(self, day: date) -> bool:
        if day.year in self.override.years:
            if day in self.override.workdays:
                return True
            return day.weekday() < 5 and day not in self.override.holidays
        if library_knows(day.year):
            return _official_workday(day)
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS

    def is_estimated(self, day: date) -> bool:
        """True when neither the library nor the override knows the day's year."""
        return day.year not in self.override.years and not library_knows(day.year)


# Cached: clocks walk day by day, and the library validates every date it is asked
# about (a tenth of enforcement's CPU under load went to chinese_calendar's checks).
@lru_cache(maxsize=8192)
def _official_workday(day: date) -> bool:
    return chinese_calendar.is_workday(day)


@lru_cache(maxsize=256)
def library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


Calendar = CalendarOverride | WorkingCalendar | IsWorkingDay


def _predicate(calendar: Calendar) -> IsWorkingDay:
    if isinstance(calendar, CalendarOverride):
        return WorkingCalendar(calendar).is_working_day
    if isinstance(calendar, WorkingCalendar):
        return calendar.is_working_day
    return calendar


def _paused(day: date, pauses: Iterable[Pause]) -> bool:
    return any(start < day and (end is None or day <= end) for start, end in pauses)


def working_days_between(start: date, end: date, calendar: Calendar = NO_OVERRIDE, pauses: Sequence[Pause] = ()) -> int:
    """Working days in (start, end] outside every pause; 0 when end <= start."""
    is_working_day = _predicate(calendar)
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        if is_working_day(day) and not _paused(day, pauses):
            count += 1
        day += timedelta(days=1)
    return count


def add_working_days(start: date, days: int, calendar: Calendar = NO_OVERRIDE, pauses: Sequence[Pause] = ()) -> date | None:
    """The day on which `days` working days (outside pauses) after start are used up;
    `start` itself for 0; None while a pause is still open (the clock is stopped)."""
    if days < 0:
        raise ValueError("days must not be negative")
    if any(end is None for _, end in pauses):
        return None
    is_working_day = _predicate(calendar)
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day) and not _paused(day, pauses):
            left -= 1
    return day


def paused_working_days(pauses: Sequence[Pause], as_of: date, calendar: Calendar = NO_OVERRIDE) -> int:
    """Working days the clock stood still (up to as_of), for display."""
    return sum(working_days_between(start, min(end or as_of, as_of), calendar) for start, end in pauses)
