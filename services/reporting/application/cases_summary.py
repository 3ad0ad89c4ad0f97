"""Cases by category, state, age and deadline status (案件统计)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from services.reporting.adapters.performance_queries import PerformanceQueries

CATEGORY_LABELS = {
    "two_illegals": "两非 Two illegals",
    "subsidy_fraud": "奖扶特扶违规 Subsidy fraud",
    "official_misconduct": "干部违纪 Official misconduct",
    "certificate_service": "证件办理 Certificate service",
    "other": "其他 Other",
    "petition": "信访 Petition",
    "administrative_review": "行政复议 Administrative review",
}
STATE_LABELS = {
    "opened": "新立案 Opened", "triaged": "已分流 Triaged", "assigned": "已分派 Assigned",
    "investigating": "调查中 Investigating", "referred": "已移送 Referred", "concluded": "已办结 Concluded",
    "closed": "已归档 Closed", "reopened": "重新办理 Reopened",
}
AGE_BAND_LABELS = {
    "<30": "不足30天 Under 30 days", "30-90": "30至90天 30 to 90 days", ">90": "超过90天 Over 90 days",
    "concluded": "已办结 Concluded", "unknown": "未知 Unknown",
}
DEADLINE_LABELS = {
    "on_time": "按期 On time", "nearing": "临近期限 Nearing", "breached": "已超期 Breached", "no_deadline": "无法定期限 No statutory deadline",
}
DIMENSIONS = {"category": CATEGORY_LABELS, "status": STATE_LABELS, "age_band": AGE_BAND_LABELS, "deadline_status": DEADLINE_LABELS}


def cases_summary(queries: PerformanceQueries, as_of: date, township_code: str | None = None) -> dict[str, Any]:
    rows = queries.cases_summary(as_of, township_code)
    totals = {dimension: Counter() for dimension in DIMENSIONS}
    for row in rows:
        for dimension in DIMENSIONS:
            totals[dimension][row[dimension]] += row["cases"]
    return {
        "title": "案件统计 Cases summary",
        "as_of": as_of.isoformat(),
        "township_code": township_code,
        "note": ("案龄=在办案件截至统计日的立案天数；期限状态以执法系统发出的临近/超期提醒为准。"
                 " Age: days an open case has been open on as_of; deadline status as announced by enforcement."),
        "total": sum(row["cases"] for row in rows),
        "by": {
            dimension: [{"value": value, "label": labels.get(value, value), "cases": totals[dimension][value]}
                        for value in [*labels, *sorted(set(totals[dimension]) - set(labels))] if totals[dimension][value]]
            for dimension, labels in DIMENSIONS.items()
        },
        "rows": [{**row, "cases": int(row["cases"])} for row in rows],
    }
