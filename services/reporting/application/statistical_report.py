"""The semi-annual and annual statistical report (人口和计划生育统计报表), laid out as a
county office files it: one sheet per table, Chinese headings, every township listed
(a township with nothing to report shows zeros, not a missing row), and a county total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.reporting.domain.sex_ratio import SexRatioBand, sex_ratio
from shared.contracts.townships import TOWNSHIPS


@dataclass(frozen=True)
class Sheet:
    name: str  # sheet / file name
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def period_label(period: str) -> str:
    """2025 -> 2025年, 2025-H1 -> 2025年上半年, 2025-Q3 -> 2025年第3季度, 2025-03 -> 2025年3月."""
    year, _, part = period.partition("-")
    if part == "":
        return f"{year}年"
    if part in ("H1", "H2"):
        return f"{year}年{'上' if part == 'H1' else '下'}半年"
    if part.startswith("Q"):
        return f"{year}年第{part[1]}季度"
    return f"{year}年{int(part)}月"


def township_title(township_code: str | None) -> str:
    """The township a sheet's title names when the sheet is cut to it ("" for the county)."""
    return "" if township_code is None else TOWNSHIPS.get(township_code, "未注明乡镇")


def _listed(township_code: str | None) -> dict[str, str]:
    return TOWNSHIPS if township_code is None else {township_code: township_title(township_code)}


def sex_ratio_sheet(births_by_township: list[dict[str, Any]], period: str, band: SexRatioBand, township_code: str | None = None) -> Sheet:
    """Every township and the county total; with a township_code (the births queried
    for it alone), that township's row only: it is its own total."""
    counts = {row["township_code"]: (int(row["boys"]), int(row["girls"])) for row in births_by_township}
    rows = []
    for code, name in _listed(township_code).items():
        boys, girls = counts.get(code, (0, 0))
        rows.append(_sex_ratio_row(code, name, boys, girls, band))
    if township_code is None:
        total_boys = sum(boys for boys, _ in counts.values())
        total_girls = sum(girls for _, girls in counts.values())
        rows.append(_sex_ratio_row("130132", "全县合计", total_boys, total_girls, band))
    return Sheet(
        name="sex_ratio",
        title=f"元氏县{township_title(township_code)}出生人口性别比统计表（{period_label(period)}）",
        headers=("乡镇代码", "乡镇", "出生数", "男", "女", "性别比（女=100）", "95%区间下限", "95%区间上限", "预警"),
        rows=rows,
    )


def _sex_ratio_row(code: str, name: str, boys: int, girls: int, band: SexRatioBand) -> tuple[Any, ...]:
    figure = sex_ratio(boys, girls, band)
    low, high = figure.interval if figure.interval else (None, None)
    warning = {"above": "偏高", "below": "偏低", "too_few": "样本不足", "normal": ""}[figure.status]
    return (code, name, figure.births, boys, girls, figure.ratio, low, high, warning)


def submissions_sheet(submissions: list[dict[str, Any]], period: str, township_code: str | None = None,
                      withheld_sections: tuple[str, ...] = ()) -> Sheet:
    """Accepted records per township and source (all time: the read model keeps totals).
    With a township_code (the rows queried for it alone): that township's row only, its
    own total; the title names the sections whose records were left out, if any."""
    sources = ("police", "health", "drug", "pension", "petitions", "hotline", "online_hall", "township")
    labels = ("公安", "卫生", "药监", "社保", "信访", "热线", "网上办事大厅", "乡镇")
    codes = (*TOWNSHIPS, "") if township_code is None else (township_code,)
    table: dict[str, dict[str, int]] = {code: dict.fromkeys(sources, 0) for code in codes}
    for row in submissions:
        table.setdefault(row["township_code"], dict.fromkeys(sources, 0))[row["source"]] += int(row["accepted"])
    rows = []
    for code, counts in table.items():
        name = TOWNSHIPS.get(code, "未注明乡镇")
        rows.append((code, name, *(counts[s] for s in sources), sum(counts.values())))
    if township_code is None:
        rows.append(("130132", "全县合计", *(sum(counts[s] for counts in table.values()) for s in sources), sum(sum(c.values()) for c in table.values())))
        title = f"元氏县各乡镇信息报送受理统计表（截至{period_label(period)}）"
    else:
        title = f"元氏县{township_title(township_code)}信息报送受理统计表（截至{period_label(period)}）"
    if withheld_sections:
        title += f"（不含{'、'.join(withheld_sections)}收件）"
    return Sheet(name="submissions", title=title, headers=("乡镇代码", "乡镇", *labels, "合计"), rows=rows)
