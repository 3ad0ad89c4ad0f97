"""The birth tally behind the sex-ratio watch: counts per day of birth inside the rule's
rolling window, whatever order births arrive in, and a copy that shares the state."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from services.enforcement.domain.detectors.sex_ratio import SexRatioRule, skewed_counts
from services.enforcement.domain.watch import BirthTally, watch_id

WINDOW = 365
D = date(2026, 6, 30)


def a_tally() -> BirthTally:
    return BirthTally(id=watch_id(BirthTally.__name__, "facility:F-1"))


def test_counts_are_the_births_inside_the_window_ending_on_the_day_asked():
    tally = a_tally()
    for n, (day, sex) in enumerate([(D + timedelta(days=1), "M"), (D, "M"), (D - timedelta(days=364), "F"), (D - timedelta(days=365), "M")]):
        tally.note_birth(event_id=f"e{n}", birth_date=day.isoformat(), sex=sex, window_days=WINDOW)

    assert tally.counts_within(D, WINDOW) == (1, 1)  # a window ago is outside; tomorrow is after
    assert tally.counts_within(D + timedelta(days=1), WINDOW) == (2, 0)


def test_a_birth_is_known_by_its_event_id_and_births_a_window_older_than_a_new_one_are_forgotten():
    tally = a_tally()
    tally.note_birth(event_id="old", birth_date="2025-01-01", sex="M", window_days=WINDOW)
    tally.note_birth(event_id="late-but-older", birth_date="2024-12-01", sex="F", window_days=WINDOW)
    assert tally.knows("old", date(2025, 1, 1)) and tally.knows("late-but-older", date(2024, 12, 1))

    tally.note_birth(event_id="new", birth_date="2026-01-01", sex="F", window_days=WINDOW)

    assert not tally.knows("old", date(2025, 1, 1)) and tally.event_ids() == ["new"]
    assert len(tally.days) == 1


def test_its_judgement_matches_the_detector_over_the_same_births_in_any_order():
    births = [(D - timedelta(days=n % 400), "M" if n % 3 else "F") for n in range(600)]
    tally = a_tally()
    for n, (day, sex) in enumerate(reversed(births)):
        tally.note_birth(event_id=f"e{n}", birth_date=day.isoformat(), sex=sex, window_days=WINDOW)
    rule = SexRatioRule(window_days=WINDOW, max_ratio=150.0)

    boys, girls = tally.counts_within(D, WINDOW)
    in_window = [(day, sex) for day, sex in births if D - timedelta(days=WINDOW) < day <= D]
    assert (boys, girls) == (sum(sex == "M" for _, sex in in_window), sum(sex == "F" for _, sex in in_window))
    assert skewed_counts(boys, girls, rule) is (100 * boys / girls > 150.0)


def test_a_copy_for_a_command_changes_without_changing_the_cached_original():
    cached = a_tally()
    cached.note_birth(event_id="e1", birth_date=D.isoformat(), sex="M", window_days=WINDOW)
    cached.collect_events()

    command = copy.deepcopy(cached)
    command.note_birth(event_id="e2", birth_date=D.isoformat(), sex="F", window_days=WINDOW)

    assert cached.counts_within(D, WINDOW) == (1, 0) and cached.version == 2 and cached.collect_events() == []
    assert command.counts_within(D, WINDOW) == (1, 1) and command.version == 3 and len(command.collect_events()) == 1


def test_its_state_holds_at_most_a_window_of_days_however_many_births():
    tally = a_tally()
    for n in range(3000):
        tally.note_birth(event_id=f"e{n}", birth_date=(D + timedelta(days=n // 4)).isoformat(), sex="MF"[n % 2], window_days=WINDOW)

    assert len(tally.days) <= WINDOW
