"""The township target-responsibility scorecard (目标管理责任制考核). Pure.

Configuration, not code, says which measures count, how each is scored and weighted,
and which conditions are a one-vote veto (一票否决): services/reporting/scorecard.json.
Every indicator shows its raw value, its score (0-100) and its weight, and its points
(score x weight / 100, rounded to 0.01); the total is the sum of the points as shown,
so anyone can add it up. A vetoed township keeps its total but ranks after the others.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator


class Linear(BaseModel):
    """0 at zero_at, 100 at full_at, straight in between (either direction)."""

    kind: Literal["linear"]
    zero_at: float
    full_at: float

    @model_validator(mode="after")
    def _distinct(self) -> Linear:
        if self.zero_at == self.full_at:
            raise ValueError("zero_at and full_at must differ")
        return self

    def score(self, value: float) -> float:
        return 100.0 * min(1.0, max(0.0, (value - self.zero_at) / (self.full_at - self.zero_at)))


class Band(BaseModel):
    """100 inside [low, high], falling to 0 at zero_at_distance outside it."""

    kind: Literal["band"]
    low: float
    high: float
    zero_at_distance: float = Field(gt=0)

    def score(self, value: float) -> float:
        distance = max(self.low - value, value - self.high, 0.0)
        return 100.0 * max(0.0, 1.0 - distance / self.zero_at_distance)


class Indicator(BaseModel):
    id: str
    label: str
    label_en: str
    measure: str
    weight: float = Field(ge=0)
    scoring: Linear | Band = Field(discriminator="kind")
    if_no_data: Literal["full", "zero"] = "full"


class Veto(BaseModel):
    id: str
    label: str
    label_en: str
    measure: str
    at_least: float


class ScorecardConfig(BaseModel):
    title: str = ""
    note: str = ""
    indicators: list[Indicator]
    vetoes: list[Veto] = []

    def check_measures(self, known: Collection[str]) -> ScorecardConfig:
        """Fail at start-up, not in a report, on a measure nobody computes."""
        unknown = sorted({item.measure for item in (*self.indicators, *self.vetoes)} - set(known))
        if unknown:
            raise ValueError(f"scorecard: unknown measure(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return self


def score_township(config: ScorecardConfig, measures: Mapping[str, Any]) -> dict[str, Any]:
    indicators, total = [], 0.0
    for indicator in config.indicators:
        raw = measures.get(indicator.measure)
        if raw is None:
            score = 100.0 if indicator.if_no_data == "full" else 0.0
        else:
            score = indicator.scoring.score(float(raw))
        score = round(score, 1)  # points follow from the score as shown, so the sum checks by hand
        points = round(score * indicator.weight / 100.0, 2)
        total += points
        indicators.append({"id": indicator.id, "label": indicator.label, "label_en": indicator.label_en, "measure": indicator.measure,
                           "raw": raw, "no_data": raw is None, "score": score, "weight": indicator.weight, "points": points})
    vetoes = [
        {"id": veto.id, "label": veto.label, "label_en": veto.label_en, "measure": veto.measure, "raw": measures.get(veto.measure), "at_least": veto.at_least}
        for veto in config.vetoes
        if measures.get(veto.measure) is not None and measures[veto.measure] >= veto.at_least
    ]
    return {"indicators": indicators, "total": round(total, 2), "max_total": sum(i.weight for i in config.indicators),
            "vetoed": bool(vetoes), "vetoes": vetoes}


def rank_scorecards(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Highest total first, vetoed townships after all others; equal totals share a rank."""
    ordered = sorted(rows, key=lambda row: (row["vetoed"], -row["total"]))
    for position, row in enumerate(ordered):
        previous = ordered[position - 1] if position else None
        same = previous is not None and (previous["vetoed"], previous["total"]) == (row["vetoed"], row["total"])
        row["rank"] = previous["rank"] if same else position + 1
    return ordered
