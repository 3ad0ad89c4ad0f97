"""The township scorecard (目标管理责任制) for 2025 against hand-computed scores, and its configuration."""

from __future__ import annotations

import json

import pytest
from performance_support import T1, T2, T3, cases_2025, march_2025, project

from services.reporting.adapters.performance_queries import PerformanceQueries
from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.scorecard import load_scorecard_config, scorecard, township_measures
from services.reporting.domain.scorecard import Band, Linear, ScorecardConfig, score_township
from services.reporting.domain.sex_ratio import SexRatioBand
from shared.calendar import WorkingCalendar

CONFIG = ScorecardConfig.model_validate({
    "indicators": [
        {"id": "on_time", "label": "按时办结率", "label_en": "On time", "measure": "within_limit_rate", "weight": 40,
         "scoring": {"kind": "linear", "zero_at": 50, "full_at": 100}},
        {"id": "satisfaction", "label": "群众满意度", "label_en": "Satisfaction", "measure": "satisfaction_mean", "weight": 30,
         "scoring": {"kind": "linear", "zero_at": 3, "full_at": 5}},
        {"id": "sex_ratio", "label": "出生人口性别比", "label_en": "Sex ratio", "measure": "sex_ratio", "weight": 30,
         "scoring": {"kind": "band", "low": 103, "high": 110, "zero_at_distance": 10}},
    ],
    "vetoes": [
        {"id": "two_illegals", "label": "两非", "label_en": "Two illegals", "measure": "two_illegals_substantiated", "at_least": 1},
        {"id": "petition", "label": "信访超期", "label_en": "Petition late", "measure": "petition_deadlines_breached", "at_least": 1},
        {"id": "sex_ratio", "label": "性别比", "label_en": "Sex ratio", "measure": "sex_ratio_outside_band", "at_least": 1},
    ],
})


@pytest.fixture
async def year_2025(store_url):
    read_models = ReadModelStore(store_url)
    timeline = cases_2025(march_2025())
    timeline.births(T1, "2025-05-01", "M", 21).births(T1, "2025-05-02", "F", 20)  # 105.0: normal
    timeline.births(T2, "2025-05-01", "M", 36).births(T2, "2025-05-02", "F", 24)  # 150.0 over 60 births: above
    timeline.births(T3, "2025-05-01", "M", 12).births(T3, "2025-05-02", "F", 4)  # 16 births: too few to judge
    await project(read_models, timeline.messages)
    yield read_models
    read_models.close()


def card(read_models, config=CONFIG):
    report = scorecard(config, read_models, PerformanceQueries(read_models.engine), WorkingCalendar(), SexRatioBand(), 2025)
    return report, {row["township_code"]: row for row in report["rows"]}


def explained(row):
    return [(i["id"], i["raw"], i["score"], i["weight"], i["points"]) for i in row["indicators"]]


async def test_the_scorecard_matches_the_hand_computed_scores(year_2025):
    report, rows = card(year_2025)
    # 槐阳镇 in 2025: A9, A1, A2 within, A3 late: 75.0% -> (75-50)/50 = 50; ratings 4, 5, 4, 2: 3.75 -> 37.5; 105.0 in the band.
    assert explained(rows[T1]) == [("on_time", 75.0, 50.0, 40, 20.0), ("satisfaction", 3.75, 37.5, 30, 11.25), ("sex_ratio", 105.0, 100.0, 30, 30.0)]
    assert (rows[T1]["total"], rows[T1]["vetoed"], rows[T1]["max_total"]) == (61.25, False, 100)
    # 黑水坊乡: A4 within, A5 and A11 late: 33.3% -> 0; ratings 3, 5, 1: 3.0 -> 0; 150.0 is 40 above the band -> 0.
    assert explained(rows[T2]) == [("on_time", 33.3, 0.0, 40, 0.0), ("satisfaction", 3.0, 0.0, 30, 0.0), ("sex_ratio", 150.0, 0.0, 30, 0.0)]
    # Vetoed: a substantiated two-illegals case (c2) and the sex ratio outside the band.
    assert rows[T2]["vetoed"] and [v["id"] for v in rows[T2]["vetoes"]] == ["two_illegals", "sex_ratio"]
    # 北褚乡: no decision, no rating, too few births: full marks, but its petition (c4) breached its deadline.
    assert rows[T3]["total"] == 100.0 and all(i["no_data"] for i in rows[T3]["indicators"])
    assert [v["id"] for v in rows[T3]["vetoes"]] == ["petition"]
    # The twelve townships with nothing to score share first place; vetoed ones rank after all others.
    assert [(row["township_code"], row["rank"]) for row in report["rows"][-3:]] == [(T1, 13), (T3, 14), (T2, 15)]
    assert report["rows"][0]["rank"] == 1 and report["rows"][11]["rank"] == 1


async def test_the_measures_behind_the_scorecard(year_2025):
    measures = township_measures(year_2025, PerformanceQueries(year_2025.engine), WorkingCalendar(), SexRatioBand(), 2025)
    # 黑水坊乡: decided A4, A5, A11; A6 is still open on 31 December, far past its limit.
    assert {k: measures[T2][k] for k in ("decided", "decided_late", "open_overdue", "overdue", "births", "sex_ratio")} == {
        "decided": 3, "decided_late": 2, "open_overdue": 1, "overdue": 3, "births": 60, "sex_ratio": 150.0}
    # c8 was concluded substantiated, then reopened: its conclusion no longer counts.
    assert measures[T1]["two_illegals_substantiated"] == 0 and measures[T2]["two_illegals_substantiated"] == 1
    assert (measures[T3]["petition_deadlines_breached"], measures[T3]["case_deadlines_breached"], measures[T3]["sex_ratio"]) == (1, 1, None)


async def test_the_default_configuration_scores_every_township_out_of_100(year_2025):
    report, rows = card(year_2025, load_scorecard_config())
    assert len(rows) == 15 and {row["max_total"] for row in rows.values()} == {100}
    assert [i["id"] for i in rows[T1]["indicators"]] == ["within_limit_rate", "overdue", "median_working_days", "satisfaction", "sex_ratio", "case_deadlines"]
    assert {row["township_code"] for row in report["rows"] if row["vetoed"]} == {T2, T3}
    for row in rows.values():  # the total is the sum of the points shown
        assert row["total"] == pytest.approx(sum(i["points"] for i in row["indicators"]), abs=1e-9)


def test_an_indicator_is_added_by_configuration_and_an_unknown_measure_is_refused(tmp_path):
    data = json.loads(json.dumps(CONFIG.model_dump()))
    data["indicators"].append({"id": "overdue", "label": "超期", "label_en": "Overdue", "measure": "overdue", "weight": 10,
                               "scoring": {"kind": "linear", "zero_at": 4, "full_at": 0}, "if_no_data": "zero"})
    (tmp_path / "card.json").write_text(json.dumps(data), encoding="utf-8")
    config = load_scorecard_config(tmp_path / "card.json")
    assert score_township(config, {"overdue": 1})["indicators"][-1] == {
        "id": "overdue", "label": "超期", "label_en": "Overdue", "measure": "overdue", "raw": 1, "no_data": False, "score": 75.0, "weight": 10, "points": 7.5}
    data["vetoes"].append({"id": "x", "label": "x", "label_en": "x", "measure": "weather", "at_least": 1})
    (tmp_path / "card.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown measure.*weather"):
        load_scorecard_config(tmp_path / "card.json")


@pytest.mark.parametrize(("value", "score"), [(105, 100.0), (110, 100.0), (115, 50.0), (98, 50.0), (125, 0.0)])
def test_a_band_scores_full_inside_and_falls_to_zero_outside(value, score):
    assert Band(kind="band", low=103, high=110, zero_at_distance=10).score(value) == score


def test_linear_scoring_runs_either_way_and_is_clamped():
    assert Linear(kind="linear", zero_at=20, full_at=5).score(8) == pytest.approx(80.0)
    assert Linear(kind="linear", zero_at=80, full_at=100).score(50) == 0.0 and Linear(kind="linear", zero_at=80, full_at=100).score(100) == 100.0
