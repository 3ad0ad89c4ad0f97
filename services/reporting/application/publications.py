"""Publishing a period's figures (发布数) and showing what has been corrected since (更正数).

Publishing freezes a report's figures as they stand at that moment, as tables of cells
(table -> row -> column -> value), in canonical JSON with its sha256. Reading a
publication recomputes the same report now and lists every cell whose value differs,
so a late fact shows as a correction beside the published number, never in place of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from services.reporting.adapters.performance_queries import PerformanceQueries
from services.reporting.adapters.publications import PublicationStore
from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.league_tables import COLUMNS as LEAGUE_COLUMNS
from services.reporting.application.league_tables import league_table
from services.reporting.application.scorecard import scorecard
from services.reporting.application.statistical_report import Sheet, sex_ratio_sheet, submissions_sheet
from services.reporting.domain.scorecard import ScorecardConfig
from services.reporting.domain.sex_ratio import SexRatioBand
from shared.calendar import Calendar
from shared.contracts.inbound_models import CHINA_TIME

REPORTS = ("statistical", "league-tables", "scorecard")
Figures = dict[str, Any]


class PeriodError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def canonical_json(figures: Figures) -> str:
    return json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def table(columns: list[str], rows: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One table of cells; row_keys keeps the printed order (the JSON's keys are sorted)."""
    return {"columns": columns, "row_keys": [key for key, _ in rows], "rows": dict(rows)}


def statistical_period(first: date, last: date) -> str:
    """The statistical report's period name for whole months: 2025, 2025-H1, 2025-Q3 or 2025-03."""
    if first.day != 1:
        raise PeriodError("period_from", "a statistical report starts on the first day of a month")
    if (last + timedelta(days=1)).day != 1:
        raise PeriodError("period_to", "a statistical report ends on the last day of a month")
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    names = {12: "", 6: f"-H{(first.month + 5) // 6}", 3: f"-Q{(first.month + 2) // 3}", 1: f"-{first.month:02d}"}
    if months not in names or (first.month - 1) % max(months, 1) != 0 or first.year != last.year:
        raise PeriodError("period_to", "a statistical report covers a year, a half-year, a quarter or a month")
    return f"{first.year}{names[months]}"


def sheet_table(sheet: Sheet) -> dict[str, Any]:
    """A filed sheet as cells: rows keyed by the township's name, columns by the Chinese heading."""
    return table(list(sheet.headers[2:]), [(row[1], dict(zip(sheet.headers[2:], row[2:]))) for row in sheet.rows])


@dataclass
class ReportFigures:
    """What each publishable report's figures are, computed from the read models now."""

    read_models: ReadModelStore
    queries: PerformanceQueries
    calendar: Calendar
    band: SexRatioBand
    scorecard_config: ScorecardConfig

    def of(self, report: str, first: date, last: date) -> Figures:
        builders: dict[str, Callable[[date, date], dict[str, Any]]] = {
            "statistical": self.statistical, "league-tables": self.league_tables, "scorecard": self.scorecard,
        }
        return {"report": report, "period_from": first.isoformat(), "period_to": last.isoformat(), "tables": builders[report](first, last)}

    def statistical(self, first: date, last: date) -> dict[str, Any]:
        period = statistical_period(first, last)
        births = self.read_models.births_by("township_code", first.isoformat()[:7], last.isoformat()[:7])
        submissions = self.read_models.rows("rm_submissions")
        return {"sex_ratio": sheet_table(sex_ratio_sheet(births, period, self.band)), "submissions": sheet_table(submissions_sheet(submissions, period))}

    def league_tables(self, first: date, last: date) -> dict[str, Any]:
        tables = {}
        for by, name_of in (("township", lambda row: row["township_name"] or row["township_code"]), ("section", lambda row: row["section"])):
            report = league_table(self.queries, self.calendar, first, last, by)
            rows = [(name_of(row), {column: row[column] for column in LEAGUE_COLUMNS}) for row in report["rows"]]
            tables[f"by_{by}"] = table(list(LEAGUE_COLUMNS), [*rows, ("全县 county", report["county"])])
        return tables

    def scorecard(self, first: date, last: date) -> dict[str, Any]:
        if (first.month, first.day, last.month, last.day) != (1, 1, 12, 31) or first.year != last.year:
            raise PeriodError("period_from", "a scorecard covers one calendar year: period_from YYYY-01-01, period_to YYYY-12-31")
        report = scorecard(self.scorecard_config, self.read_models, self.queries, self.calendar, self.band, first.year)
        columns = [f"{i['id']}.{part}" for i in report["weights"] for part in ("raw", "points")] + ["total", "vetoed", "vetoes", "rank"]
        rows = []
        for row in report["rows"]:
            cells = {f"{i['id']}.{part}": i[part] for i in row["indicators"] for part in ("raw", "points")}
            cells.update(total=row["total"], vetoed=row["vetoed"], vetoes=",".join(v["id"] for v in row["vetoes"]), rank=row["rank"])
            rows.append((row["township_name"], cells))
        return {"scorecard": table(columns, rows)}


def differences(published: Figures, current: Figures) -> list[dict[str, Any]]:
    """Every cell whose current value is not the published one, in the printed order
    (the stored JSON's keys are sorted: the current figures keep the report's order of tables)."""
    found = []
    for name in dict.fromkeys([*current["tables"], *published["tables"]]):
        before, after = published["tables"].get(name, {}), current["tables"].get(name, {})
        row_keys = dict.fromkeys([*before.get("row_keys", []), *after.get("row_keys", [])])
        columns = dict.fromkeys([*before.get("columns", []), *after.get("columns", [])])
        for row in row_keys:
            old_row, new_row = before.get("rows", {}).get(row, {}), after.get("rows", {}).get(row, {})
            for column in columns:
                old, new = old_row.get(column), new_row.get(column)
                if old != new:
                    found.append({"table": name, "row": row, "column": column, "published": old, "current": new, "change": _change(old, new)})
    return found


def _change(old: Any, new: Any) -> float | None:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (old, new))
    return round(new - old, 4) if numbers else None


@dataclass
class Publications:
    store: PublicationStore
    figures: ReportFigures
    now: Callable[[], datetime]

    def publish(self, report: str, first: date, last: date, cut_off: datetime, officer: str) -> dict[str, Any]:
        if first > last:
            raise PeriodError("period_to", "period_to is before period_from")
        now = self.now()
        # The read models keep no arrival time per fact, so what is frozen is what they hold
        # now: a cut-off in the future, or before the period is over, would be a false label.
        if cut_off > now:
            raise PeriodError("cut_off", f"cut_off {cut_off.isoformat()} is in the future: publish at or after the cut-off")
        if cut_off.astimezone(CHINA_TIME).date() <= last:
            raise PeriodError("cut_off", f"cut_off {cut_off.isoformat()} falls within the period (to {last}): the period is not over")
        text = canonical_json(self.figures.of(report, first, last))
        row = self.store.append(report=report, period_from=first.isoformat(), period_to=last.isoformat(), cut_off=cut_off,
                                officer=officer, published_at=now, figures=text, sha256=sha256_of(text))
        return {key: value for key, value in row.items() if key != "figures"}

    def compare(self, publication_id: str) -> dict[str, Any] | None:
        row = self.store.get(publication_id)
        if row is None:
            return None
        published = json.loads(row["figures"])
        current = self.figures.of(row["report"], date.fromisoformat(row["period_from"]), date.fromisoformat(row["period_to"]))
        changed = differences(published, current)
        return {
            **{key: value for key, value in row.items() if key != "figures"},
            "sha256_verified": sha256_of(row["figures"]) == row["sha256"],
            "corrected": bool(changed),
            "differences": changed,
            "published": published,
            "current": current,
        }
