"""Each two-illegals detector: hits, near misses and boundaries, as tables."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from services.enforcement.domain.detectors.late_termination import LateTerminationRule, late_termination_without_indication
from services.enforcement.domain.detectors.scan_then_termination import ScanThenTerminationRule, scans_before_termination
from services.enforcement.domain.detectors.sex_ratio import SexRatioRule, skewed_counts
from services.enforcement.domain.detectors.unprescribed_sales import (
    UnprescribedSalesRule,
    outlet_crossed_threshold,
    sales_in_window,
    unprescribed_termination_drug_sale,
)
from services.enforcement.domain.watch import BirthTally, watch_id

MIFEPRISTONE, VITAMIN = "H10950347", "H99999999"
RX_TOKEN = {"$enc": "v1", "subject": "s", "field": "prescription_id", "ct": "x"}


@pytest.mark.parametrize(
    ("weeks", "indication", "rule_weeks", "hit"),
    [
        (14, None, 14, True),  # boundary: at 14 weeks
        (13, None, 14, False),  # near miss: a week early
        (22, "", 14, True),  # an empty remark is no indication
        (22, "   ", 14, True),
        (22, "胎儿严重畸形", 14, False),  # medical indication given
        (12, None, 12, True),  # the threshold is configurable
        (11, None, 12, False),
    ],
)
def test_a_termination_at_or_beyond_the_threshold_without_indication_is_a_hit(weeks, indication, rule_weeks, hit):
    assert late_termination_without_indication(weeks, indication, LateTerminationRule(rule_weeks)) is hit


@pytest.mark.parametrize(
    ("drug", "prescription", "hit"),
    [(MIFEPRISTONE, None, True), (MIFEPRISTONE, RX_TOKEN, False), (VITAMIN, None, False), ("H20000668", None, True)],
)
def test_a_termination_drug_sold_without_prescription_is_a_hit(drug, prescription, hit):
    assert unprescribed_termination_drug_sale(drug, prescription, UnprescribedSalesRule()) is hit


T0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
SALES_RULE = UnprescribedSalesRule(max_sales=3, window_days=30)


@pytest.mark.parametrize(
    ("earlier_days_ago", "crossed"),
    [
        ([1, 2, 3], True),  # the 4th in the window takes the outlet over 3
        ([1, 2], False),  # near miss: 3 is not more than 3
        ([1, 2, 3, 4], False),  # already over: signalled once, not again
        ([1, 2, 30], False),  # boundary: exactly 30 days ago is outside the window
        ([1, 2, 29], True),
    ],
)
def test_an_outlet_is_signalled_once_when_its_unprescribed_sales_cross_the_threshold(earlier_days_ago, crossed):
    earlier = [T0 - timedelta(days=d) for d in earlier_days_ago]
    assert outlet_crossed_threshold(earlier, T0, SALES_RULE) is crossed


def test_the_sales_window_ends_at_the_moment_asked_and_excludes_its_start():
    sales = [T0 - timedelta(days=30), T0 - timedelta(days=29, hours=23), T0, T0 + timedelta(seconds=1)]
    assert sales_in_window(sales, T0, SALES_RULE) == sales[1:3]


D = date(2026, 5, 20)


@pytest.mark.parametrize(
    ("scan_days_before", "indication", "window", "hits"),
    [
        ([10], None, 30, [10]),
        ([30], None, 30, [30]),  # boundary: the last day of the window
        ([31], None, 30, []),  # near miss: a day too early
        ([0], None, 30, [0]),  # a scan on the day of the termination
        ([-1], None, 30, []),  # a scan after the termination is not "followed by"
        ([5, 40, 12], None, 30, [5, 12]),
        ([5], "稽留流产", 30, []),  # a medical indication explains it
        ([10], None, 7, []),  # configurable window
    ],
)
def test_a_scan_followed_by_a_termination_within_the_window_is_a_hit(scan_days_before, indication, window, hits):
    scans = [D - timedelta(days=n) for n in scan_days_before]
    found = scans_before_termination(scans, D, indication, ScanThenTerminationRule(window))
    assert found == [D - timedelta(days=n) for n in hits]


def births(boys: int, girls: int, day: date = D) -> list[tuple[date, str]]:
    return [(day, "M")] * boys + [(day, "F")] * girls


def skewed(births: list[tuple[date, str]], as_of: date, rule: SexRatioRule) -> bool:
    """As the watch judges: the births noted in a facility's tally, its counts in the window."""
    tally = BirthTally(id=watch_id(BirthTally.__name__, "facility:F-1"))
    for n, (day, sex) in enumerate(births):
        tally.note_birth(event_id=f"e{n}", birth_date=day.isoformat(), sex=sex, window_days=rule.window_days)
    return skewed_counts(*tally.counts_within(as_of, rule.window_days), rule)


RATIO_RULE = SexRatioRule(window_days=365, min_births=10, max_ratio=120.0)


@pytest.mark.parametrize(
    ("boys", "girls", "hit"),
    [
        (8, 2, True),  # 400 boys per 100 girls
        (6, 5, False),  # 120: at the limit is not over it
        (11, 9, True),  # 122.2: just over
        (5, 4, False),  # 9 births: too few to say anything
        (10, 0, True),  # no girls at all
        (52, 48, False),  # a natural ratio
    ],
)
def test_a_facility_whose_linked_births_skew_male_is_a_hit(boys, girls, hit):
    assert skewed(births(boys, girls), D, RATIO_RULE) is hit


def test_births_outside_the_rolling_window_do_not_count():
    old = births(10, 0, D - timedelta(days=365))  # boundary: exactly a window ago is outside
    recent = births(3, 3)
    assert not skewed(old + recent, D, RATIO_RULE)
    assert skewed(births(10, 0, D - timedelta(days=364)), D, RATIO_RULE)


def test_the_sex_ratio_is_boys_per_hundred_girls():
    # 11 boys, 10 girls: 110 per 100, over 109.9 and not over 110; no girls: always over.
    assert skewed_counts(11, 10, SexRatioRule(min_births=1, max_ratio=109.9))
    assert not skewed_counts(11, 10, SexRatioRule(min_births=1, max_ratio=110.0))
    assert skewed_counts(3, 0, SexRatioRule(min_births=1, max_ratio=10_000.0))
