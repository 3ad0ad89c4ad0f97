"""The sex-ratio-at-birth report (出生人口性别比), by township or by birth order."""

from __future__ import annotations

from typing import Any

from services.reporting.domain.sex_ratio import SexRatioBand, months_of, sex_ratio
from shared.contracts.townships import TOWNSHIPS

STATUS_LABELS = {
    "normal": "正常 normal",
    "above": "偏高 above the band",
    "below": "偏低 below the band",
    "too_few": "样本不足 too few births",
}
GROUPS = ("township_code", "birth_order", "county")


def sex_ratio_report(rows: list[dict[str, Any]], group: str, period: str, band: SexRatioBand) -> dict[str, Any]:
    figures = []
    for row in rows:
        figure = sex_ratio(int(row["boys"]), int(row["girls"]), band)
        entry: dict[str, Any] = {
            "births": figure.births,
            "boys": figure.boys,
            "girls": figure.girls,
            "ratio": figure.ratio,
            "interval_95": list(figure.interval) if figure.interval else None,
            "status": figure.status,
            "status_label": STATUS_LABELS[figure.status],
            "warning": figure.status in ("above", "below"),
            "significant": figure.significant,
        }
        if group == "township_code":
            entry["township_code"] = row["township_code"]
            entry["township_name"] = TOWNSHIPS.get(row["township_code"], "")
        elif group == "birth_order":
            entry["birth_order"] = row["birth_order"]
        figures.append(entry)
    return {
        "title": "出生人口性别比 Sex ratio at birth",
        "period": period,
        "months": list(months_of(period)),
        "group": group,
        "band": {"low": band.low, "high": band.high, "min_births": band.min_births},
        "note": "男婴数/女婴数×100；区间为95%置信区间 (Wilson)。Boys per 100 girls; 95% interval.",
        "rows": figures,
    }
