"""The township scorecard for a year: gather each township's measures, then score them
as the configuration says (domain/scorecard.py).

An indicator or veto over any measure below is added in scorecard.json alone. A new
kind of fact (e.g. subsidy signals) adds its measure here: a name in MEASURES and its
value per township in township_measures.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from services.reporting.adapters.performance_queries import PerformanceQueries
from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.league_tables import group_figures
from services.reporting.domain.scorecard import ScorecardConfig, rank_scorecards, score_township
from services.reporting.domain.sex_ratio import SexRatioBand, sex_ratio
from shared.calendar import Calendar
from shared.contracts.townships import TOWNSHIPS

DEFAULT_SCORECARD = Path(__file__).resolve().parents[1] / "scorecard.json"

MEASURES = {
    "decided": "办结件数 applications decided in the year",
    "within_limit_rate": "按时办结率% share decided within the time limit (none without decisions)",
    "median_working_days": "办理时长中位数 median processing working days",
    "p90_working_days": "办理时长90分位 90th percentile processing working days",
    "decided_late": "超时办结件数 decided after the limit",
    "open_overdue": "年末在办超期件数 open and past the limit on 31 December",
    "overdue": "超期件数 decided late + open overdue",
    "satisfaction_mean": "满意度平均分 mean rating 1-5 (none without ratings)",
    "ratings": "评价数 number of ratings",
    "births": "出生数 births registered in the year",
    "sex_ratio": "出生人口性别比 boys per 100 girls (none when too few births to mean something)",
    "sex_ratio_outside_band": "性别比超出正常范围 1 when outside the band over enough births, else 0",
    "sex_ratio_significant": "性别比显著偏离 1 when even the 95% interval lies outside the band, else 0",
    "two_illegals_substantiated": "查实两非案件数 two-illegals cases concluded as substantiated in the year",
    "petition_deadlines_breached": "信访超期件数 petitions whose answer deadline was breached in the year",
    "case_deadlines_breached": "案件超期件数 case deadlines breached in the year (any category)",
}


def load_scorecard_config(path: Path | None = None) -> ScorecardConfig:
    data = json.loads((path or DEFAULT_SCORECARD).read_text(encoding="utf-8"))
    return ScorecardConfig.model_validate(data).check_measures(MEASURES)


def township_measures(read_models: ReadModelStore, queries: PerformanceQueries, calendar: Calendar,
                      band: SexRatioBand, year: int) -> dict[str, dict[str, Any]]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    league = group_figures(queries, calendar, first, last, "township")
    births = {row["township_code"]: row for row in read_models.births_by("township_code", f"{year}-01", f"{year}-12")}
    cases = {row["township_code"]: row for row in queries.case_measures_by_township(first, last)}
    measures = {}
    for code in TOWNSHIPS:
        figures = league[code].row()
        row = births.get(code, {"boys": 0, "girls": 0})
        figure = sex_ratio(int(row["boys"]), int(row["girls"]), band)
        case_row = cases.get(code, {})
        measures[code] = {
            **{name: figures[name] for name in ("decided", "within_limit_rate", "median_working_days", "p90_working_days",
                                                "decided_late", "open_overdue", "overdue", "satisfaction_mean", "ratings")},
            "births": figure.births,
            "sex_ratio": None if figure.status == "too_few" else figure.ratio,
            "sex_ratio_outside_band": int(figure.status in ("above", "below")),
            "sex_ratio_significant": int(figure.significant),
            **{name: int(case_row.get(name, 0)) for name in ("two_illegals_substantiated", "petition_deadlines_breached", "case_deadlines_breached")},
        }
    return measures


def scorecard(config: ScorecardConfig, read_models: ReadModelStore, queries: PerformanceQueries, calendar: Calendar,
              band: SexRatioBand, year: int) -> dict[str, Any]:
    measures = township_measures(read_models, queries, calendar, band, year)
    rows = [{"township_code": code, "township_name": TOWNSHIPS[code], **score_township(config, measures[code])} for code in TOWNSHIPS]
    return {
        "title": "目标管理责任制考核 Township target-responsibility scorecard",
        "year": year,
        "note": ("得分=指标得分×权重/100，总分为各项得分之和；触发一票否决的乡镇排在最后。"
                 " Points = score x weight / 100; the total is their sum; a vetoed township ranks last."),
        "weights": [{"id": i.id, "label": i.label, "label_en": i.label_en, "measure": i.measure, "weight": i.weight,
                     "scoring": i.scoring.model_dump(), "if_no_data": i.if_no_data} for i in config.indicators],
        "vetoes": [v.model_dump() for v in config.vetoes],
        "rows": rank_scorecards(rows),
    }
