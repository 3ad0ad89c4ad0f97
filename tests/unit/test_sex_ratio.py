"""Sex ratio at birth: figures checked against values computed by hand.

Wilson 95% interval for 55 boys in 100 births: share 0.4524 to 0.6438 (standard
tables), i.e. 0.4524/0.5476 = 82.6 to 0.6438/0.3562 = 180.8 boys per 100 girls.
"""

from __future__ import annotations

import pytest

from services.reporting.domain.sex_ratio import SexRatioBand, birth_order_group, months_of, sex_ratio, wilson_interval


def test_the_wilson_interval_matches_the_standard_table():
    low, high = wilson_interval(55, 100)
    assert low == pytest.approx(0.4524, abs=5e-5) and high == pytest.approx(0.6439, abs=5e-5)


def test_a_ratio_carries_its_sample_size_and_interval():
    figure = sex_ratio(55, 45)
    assert (figure.births, figure.ratio, figure.interval) == (100, 122.2, (82.6, 180.8))


def test_above_the_band_warns_but_is_not_significant_when_the_interval_reaches_into_it():
    figure = sex_ratio(55, 45)
    assert figure.status == "above" and figure.significant is False


def test_above_the_band_is_significant_when_the_whole_interval_lies_above_it():
    figure = sex_ratio(300, 200)  # 150.0, interval 125.5 to 179.3
    assert (figure.ratio, figure.status, figure.significant) == (150.0, "above", True)


def test_too_few_births_never_warn_however_skewed():
    figure = sex_ratio(20, 5)
    assert (figure.ratio, figure.status, figure.significant) == (400.0, "too_few", False)


@pytest.mark.parametrize(
    ("boys", "girls", "status"),
    [(104, 100, "normal"), (110, 100, "normal"), (111, 100, "above"), (103, 100, "normal"), (102, 100, "below")],
)
def test_the_band_edges_are_inside_the_band(boys, girls, status):
    assert sex_ratio(boys, girls).status == status


def test_no_girls_at_all_is_above_any_band_with_an_unbounded_interval():
    figure = sex_ratio(40, 0)
    assert figure.ratio is None and figure.status == "above" and figure.interval[1] is None


def test_no_births_is_reported_as_too_few():
    assert sex_ratio(0, 0).status == "too_few" and sex_ratio(0, 0).interval is None


def test_the_band_is_configurable():
    assert sex_ratio(112, 100, SexRatioBand(low=100, high=115, min_births=10)).status == "normal"


@pytest.mark.parametrize(
    ("period", "months"),
    [("2025", ("2025-01", "2025-12")), ("2025-H1", ("2025-01", "2025-06")), ("2025-H2", ("2025-07", "2025-12")),
     ("2025-Q3", ("2025-07", "2025-09")), ("2025-03", ("2025-03", "2025-03"))],
)
def test_periods_are_years_halves_quarters_or_months(period, months):
    assert months_of(period) == months


@pytest.mark.parametrize("period", ["25", "2025-H3", "2025-13", "2025-3", "last year"])
def test_a_malformed_period_is_refused_with_what_is_allowed(period):
    with pytest.raises(ValueError, match="period"):
        months_of(period)


def test_third_and_later_births_are_grouped():
    assert [birth_order_group(n) for n in (1, 2, 3, 4, 7)] == ["1", "2", "3+", "3+", "3+"]
