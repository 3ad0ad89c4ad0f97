"""The processing-time and satisfaction league tables (通报) against hand-computed figures.

March 2025 has no public holiday, so working days are Monday to Friday; each
application's count is worked out beside it in performance_support.march_2025().
"""

from __future__ import annotations

from datetime import date

import pytest

from services.reporting.adapters.performance_queries import PerformanceQueries
from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.league_tables import league_table
from services.reporting.domain.league_table import competition_ranks
from services.reporting.domain.processing_time import Step, percentile_90, replay_clock
from shared.calendar import WorkingCalendar
from performance_support import S1, S2, T1, T2, T3, Timeline, cases_2025, march_2025, project

CALENDAR = WorkingCalendar()
MARCH = (date(2025, 3, 1), date(2025, 3, 31))


@pytest.fixture
async def march(store_url):
    read_models = ReadModelStore(store_url)
    await project(read_models, march_2025().messages)
    yield PerformanceQueries(read_models.engine)
    read_models.close()


def figures(row):
    names = ("decided", "median_working_days", "p90_working_days", "within_limit", "within_limit_rate", "decided_late",
             "open_overdue", "overdue", "satisfaction_mean", "ratings", "rank_time_limit", "rank_satisfaction")
    return tuple(row[name] for name in names)


async def test_the_league_table_by_township_matches_the_hand_computed_figures(march):
    report = league_table(march, CALENDAR, *MARCH, "township")
    rows = {row["township_code"]: row for row in report["rows"]}
    # 槐阳镇: A1 5, A2 7, A3 9 (limit 5: late); ratings 5, 4, 2.
    assert figures(rows[T1]) == (3, 7.0, 9.0, 2, 66.7, 1, 0, 1, 3.67, 3, 1, 2)
    # 黑水坊乡: A4 10 (within, on the limit), A5 11 (late); open on 31 March past the limit: A6, A11; ratings 5, 3.
    assert figures(rows[T2]) == (2, 10.5, 11.0, 1, 50.0, 1, 2, 3, 4.0, 2, 2, 1)
    # 北褚乡: nothing decided; A7 (4) and A8 (1, paused) are within their limits; A10 withdrawn.
    assert figures(rows[T3]) == (0, None, None, 0, None, 0, 0, 0, None, 0, None, None)
    assert len(rows) == 15 and rows[T1]["township_name"] == "槐阳镇"
    assert [row["township_code"] for row in report["rows"][:2]] == [T1, T2]  # ranked on time limits
    # County: days 5, 7, 9, 10, 11; ratings 5+4+2+5+3 = 19 over 5.
    county = report["county"]
    assert (county["decided"], county["median_working_days"], county["p90_working_days"], county["within_limit_rate"],
            county["overdue"], county["satisfaction_mean"], county["ratings"]) == (5, 9.0, 11.0, 60.0, 4, 3.8, 5)


async def test_the_league_table_by_section_matches_the_hand_computed_figures(march):
    rows = {row["section"]: row for row in league_table(march, CALENDAR, *MARCH, "section")["rows"]}
    # 法规科: A1 5, A2 7, A5 11 (late); A6 open overdue; ratings 5, 4, 3.
    assert figures(rows[S1]) == (3, 7.0, 11.0, 2, 66.7, 1, 1, 2, 4.0, 3, 1, 1)
    # 流动人口科: A3 9 (late), A4 10; A11 open overdue; ratings 2, 5.
    assert figures(rows[S2]) == (2, 9.5, 10.0, 1, 50.0, 1, 1, 2, 3.5, 2, 2, 2)
    assert set(rows) == {S1, S2}


async def test_february_counts_only_what_was_decided_in_february(march):
    rows = {row["township_code"]: row for row in league_table(march, CALENDAR, date(2025, 2, 1), date(2025, 2, 28), "township")["rows"]}
    # A9: 18-21 and 24-28 February = 9 working days; rated 4 on 28 February.
    assert figures(rows[T1])[:4] == (1, 9.0, 9.0, 1) and (rows[T1]["satisfaction_mean"], rows[T1]["ratings"]) == (4.0, 1)
    # A5 (checked 24 February) is still open on 28 February with 4 working days used: not overdue.
    assert rows[T2]["open_overdue"] == 0 and rows[T2]["decided"] == 0


def test_the_official_calendar_counts_the_spring_festival_and_its_adjusted_working_days():
    # 2025: holidays 28 January - 4 February; Sunday 26 January and Saturday 8 February are working days.
    steps = [Step("checked", date(2025, 1, 24), 10), Step("approved", date(2025, 2, 10))]
    clock = replay_clock(steps, date(2025, 2, 10), CALENDAR)
    assert (clock.working_days, clock.within_limit, clock.stopped_by) == (7, True, "approved")  # 26, 27 Jan; 5, 6, 7, 8, 10 Feb


def test_a_clock_read_before_its_first_check_does_not_exist_and_a_decision_closes_an_open_pause():
    assert replay_clock([Step("checked", date(2025, 3, 10), 10)], date(2025, 3, 7), CALENDAR) is None
    steps = [Step("checked", date(2025, 3, 3), 10), Step("information_requested", date(2025, 3, 5)), Step("refused", date(2025, 3, 12))]
    assert replay_clock(steps, date(2025, 3, 31), CALENDAR).working_days == 2  # 4 and 5 March


def test_equal_figures_share_a_rank_and_a_group_without_figures_has_none():
    rows = [{"k": 3}, {"k": 1}, {"k": None}, {"k": 1}, {"k": 2}]
    assert competition_ranks(rows, lambda row: None if row["k"] is None else (row["k"],)) == [4, 1, None, 1, 3]


@pytest.mark.parametrize(("values", "p90"), [([4], 4), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 9), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 10)])
def test_the_90th_percentile_is_the_nearest_rank(values, p90):
    assert percentile_90(values) == p90


async def test_a_redelivered_step_or_rating_is_counted_once(store_url):
    read_models = ReadModelStore(store_url)
    timeline = Timeline().application("B1", T1, S1, ("checked", "2025-03-03", 10), ("approved", "2025-03-10")).rating("B1", T1, S1, "2025-03-11", 5)
    await project(read_models, timeline.messages)
    await project(read_models, timeline.messages)
    rows = {row["township_code"]: row for row in league_table(PerformanceQueries(read_models.engine), CALENDAR, *MARCH, "township")["rows"]}
    assert (rows[T1]["decided"], rows[T1]["ratings"]) == (1, 1)
    read_models.close()


async def test_one_message_at_a_time_or_all_in_one_batch_give_identical_read_models(tmp_path):
    messages = cases_2025(march_2025()).messages
    live, rebuilt = ReadModelStore(f"sqlite:///{tmp_path / 'live.db'}"), ReadModelStore(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    for n, message in enumerate(messages):
        await project(live, [message], first_sequence=n + 1)
    await project(rebuilt, messages)
    assert live.digest() == rebuilt.digest() and live.digest()["tables"]["rm_application_steps"]["rows"] == 23
    live.close()
    rebuilt.close()
