"""The processing-time and satisfaction league tables (办理时效与群众满意度通报)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from services.reporting.adapters.performance_queries import PerformanceQueries
from services.reporting.domain.league_table import GroupFigures, ranked
from services.reporting.domain.processing_time import DECISIONS, replay_clock
from shared.calendar import Calendar
from shared.contracts.townships import TOWNSHIPS

GROUPS = ("township", "section")
COLUMNS = {
    "decided": "办结件数 Decided",
    "median_working_days": "办理时长中位数（工作日） Median working days",
    "p90_working_days": "办理时长90分位（工作日） 90th percentile working days",
    "within_limit": "按时办结件数 Decided within the limit",
    "within_limit_rate": "按时办结率% Share decided within the limit",
    "decided_late": "超时办结件数 Decided late",
    "open_overdue": "期末在办超期件数 Open and overdue at the end",
    "overdue": "超期件数 Overdue",
    "satisfaction_mean": "满意度平均分 Mean satisfaction (1-5)",
    "ratings": "评价数 Ratings",
    "rank_time_limit": "时效排名 Time-limit rank",
    "rank_satisfaction": "满意度排名 Satisfaction rank",
}


def group_figures(queries: PerformanceQueries, calendar: Calendar, first: date, last: date, by: str) -> dict[str, GroupFigures]:
    column = "township_code" if by == "township" else "section"
    groups: dict[str, GroupFigures] = defaultdict(GroupFigures)
    if by == "township":  # the notice lists every township, also one with nothing to report
        for code in TOWNSHIPS:
            groups[code]
    for where, steps in queries.decided_between(first, last):
        clock = replay_clock(steps, last, calendar)
        if clock is not None and clock.stopped_by in DECISIONS:
            groups[where[column]].add_decided(clock)
    for where, steps in queries.open_at_end_of(last):
        clock = replay_clock(steps, last, calendar)
        if clock is not None and not clock.within_limit:
            groups[where[column]].open_overdue += 1
    for row in queries.ratings_by(by, first, last):
        figures = groups[row["group"]]
        figures.ratings, figures.score_sum = int(row["ratings"]), int(row["score_sum"])
    return groups


def league_table(queries: PerformanceQueries, calendar: Calendar, first: date, last: date, by: str) -> dict[str, Any]:
    groups = group_figures(queries, calendar, first, last, by)
    rows = []
    for key, figures in groups.items():
        label = {"township_code": key, "township_name": TOWNSHIPS.get(key, "")} if by == "township" else {"section": key}
        rows.append({**label, **figures.row()})
    county = GroupFigures()
    for figures in groups.values():
        county.decided_days += figures.decided_days
        county.decided_within += figures.decided_within
        county.open_overdue += figures.open_overdue
        county.ratings += figures.ratings
        county.score_sum += figures.score_sum
    return {
        "title": "办理时效与群众满意度通报 Processing time limits and citizen satisfaction",
        "from": first.isoformat(),
        "to": last.isoformat(),
        "by": by,
        "columns": COLUMNS,
        "note": ("办理时长按工作日计，不含补正材料期间；超期=期内超时办结+期末在办已超时限。"
                 " Working days exclude the days waiting for the applicant; overdue = decided late in the period"
                 " plus still open past the limit at its end."),
        "rows": ranked(rows),
        "county": county.row(),
    }
