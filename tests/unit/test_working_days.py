"""Working days of the official calendar (调休 included), the clock arithmetic over
pauses and year boundaries, and where an application's 受理时限 stands on a day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.verification.domain.clock import earliest_warning_day, read_clock
from shared.calendar import (
    NO_OVERRIDE,
    CalendarOverride,
    WorkingCalendar,
    add_working_days,
    library_knows,
    paused_working_days,
    working_days_between,
)

CALENDAR = WorkingCalendar()
days = st.dates(min_value=date(2016, 1, 1), max_value=date(2026, 11, 30))
limits = st.integers(min_value=0, max_value=60)


@pytest.mark.parametrize(("day", "working", "why"), [
    (date(2025, 1, 26), True, "Sunday worked before the Spring Festival (调休)"),
    (date(2025, 1, 29), False, "Spring Festival"),
    (date(2025, 10, 1), False, "National Day"),
    (date(2025, 10, 11), True, "Saturday worked after National Day (调休)"),
    (date(2026, 3, 9), True, "an ordinary Monday"),
    (date(2026, 3, 14), False, "an ordinary Saturday"),
])
def test_the_official_calendar_knows_holidays_and_adjusted_working_days(day, working, why):
    assert CALENDAR.is_working_day(day) is working, why


def test_a_year_the_library_does_not_know_uses_the_override_or_else_an_estimate():
    assert not library_knows(2031)
    estimated = WorkingCalendar()
    assert estimated.is_estimated(date(2031, 1, 6)) and not estimated.is_working_day(date(2031, 1, 1))
    assert estimated.is_working_day(date(2031, 1, 6))
    override = CalendarOverride.from_data({"years": {"2031": {"holidays": ["2031-01-06"], "workdays": ["2031-01-04"]}}})
    known = WorkingCalendar(override)
    assert not known.is_estimated(date(2031, 1, 6))
    assert not known.is_working_day(date(2031, 1, 6)) and known.is_working_day(date(2031, 1, 4))
    with pytest.raises(ValueError):
        CalendarOverride.from_data({"years": {"2031": {"holidays": ["2030-12-31"]}}})


def test_ten_working_days_from_the_eve_of_national_day_skip_the_golden_week():
    assert add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 11)) == 3


@settings(max_examples=150, deadline=None)
@given(start=days, limit=limits)
def test_the_due_day_uses_up_exactly_the_limit_and_is_a_working_day(start, limit):
    due = add_working_days(start, limit, CALENDAR)
    assert working_days_between(start, due, CALENDAR) == limit
    assert limit == 0 or CALENDAR.is_working_day(due)
    assert limit == 0 or working_days_between(start, due - timedelta(days=1), CALENDAR) == limit - 1


@settings(max_examples=150, deadline=None)
@given(start=days, a=limits, b=limits)
def test_working_days_add_up_across_years_and_holidays(start, a, b):
    middle = add_working_days(start, a, CALENDAR)
    assert add_working_days(middle, b, CALENDAR) == add_working_days(start, a + b, CALENDAR)


@settings(max_examples=150, deadline=None)
@given(start=days, limit=st.integers(1, 40), offset=st.integers(0, 30), length=st.integers(0, 30))
def test_a_pause_moves_the_due_day_by_exactly_the_working_days_it_covered(start, limit, offset, length):
    pause_start = start + timedelta(days=offset)
    pause_end = pause_start + timedelta(days=length)
    pauses = [(pause_start, pause_end)]
    due = add_working_days(start, limit, CALENDAR, pauses)
    assert working_days_between(start, due, CALENDAR, pauses) == limit
    without = add_working_days(start, limit, CALENDAR)
    covered = working_days_between(pause_start, min(pause_end, due), CALENDAR)
    assert add_working_days(without, covered, CALENDAR) == due if pause_start < without else due == without


@given(start=days, limit=limits)
def test_an_open_pause_stops_the_clock(start, limit):
    assert add_working_days(start, limit, CALENDAR, [(start, None)]) is None
    assert working_days_between(start, start + timedelta(days=40), CALENDAR, [(start, None)]) == 0


def test_the_arithmetic_takes_an_override_a_calendar_or_a_predicate_alike():
    weekdays = lambda d: d.weekday() < 5
    assert add_working_days(date(2025, 9, 30), 3, weekdays) == date(2025, 10, 3)
    assert add_working_days(date(2025, 9, 30), 3, NO_OVERRIDE) == add_working_days(date(2025, 9, 30), 3, CALENDAR)
    assert paused_working_days([(date(2026, 3, 6), date(2026, 3, 13))], date(2026, 3, 20)) == 5


# --- an application's clock ---------------------------------------------------------------

START = date(2026, 3, 2)  # a Monday


@pytest.mark.parametrize(("as_of", "pauses", "stopped", "state", "used", "due"), [
    (date(2026, 3, 13), [], None, "running", 9, "2026-03-30"),
    (date(2026, 3, 25), [], None, "nearing", 17, "2026-03-30"),
    (date(2026, 3, 30), [], None, "nearing", 20, "2026-03-30"),
    (date(2026, 3, 31), [], None, "overdue", 21, "2026-03-30"),
    (date(2026, 3, 31), [["2026-03-06", None]], None, "paused", 4, None),
    (date(2026, 3, 31), [["2026-03-06", "2026-03-13"]], None, "running", 16, "2026-04-07"),
    (date(2026, 4, 10), [], date(2026, 3, 27), "stopped", 19, "2026-03-30"),
    (date(2026, 4, 10), [], date(2026, 4, 2), "stopped_late", 23, "2026-03-30"),
])
def test_the_clock_of_an_application_on_a_day(as_of, pauses, stopped, state, used, due):
    reading = read_clock(START, 20, pauses, stopped, as_of, 3, CALENDAR)
    assert (reading.state, reading.used, reading.as_dict()["due_on"]) == (state, used, due)


@settings(max_examples=300, deadline=None)
@given(start=days, limit=limits, warning=st.integers(min_value=0, max_value=10), elapsed=st.integers(min_value=0, max_value=150),
       pause_at=st.lists(st.tuples(st.integers(min_value=0, max_value=100), st.integers(min_value=1, max_value=40) | st.none()), max_size=2))
def test_no_clock_is_nearing_or_past_its_limit_before_its_earliest_warning_day(start, limit, warning, elapsed, pause_at):
    """The sweep passes over applications before this day without loading them: that is
    safe only if no calendar (调休 included) and no pauses can bring a warning earlier."""
    pauses = [[(start + timedelta(days=offset)).isoformat(), (start + timedelta(days=offset + length)).isoformat() if length else None]
              for offset, length in sorted(pause_at, key=lambda pause: pause[0])]
    as_of = start + timedelta(days=elapsed)

    reading = read_clock(start, limit, pauses, None, as_of, warning, CALENDAR)

    if reading.state in ("nearing", "overdue"):
        assert as_of >= earliest_warning_day(start, limit, warning)


def test_the_earliest_warning_day_is_the_limit_less_the_warning_in_calendar_days_from_the_start():
    assert earliest_warning_day(date(2026, 3, 2), 20, 3) == date(2026, 3, 19)
    assert earliest_warning_day(date(2026, 3, 2), 2, 5) == date(2026, 3, 2), "a warning longer than the limit: from the start"
