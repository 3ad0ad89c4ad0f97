"""Subsidy fund reconciliation (扶助资金对账) by township and for the county. Pure.

Each payment's amount stands in exactly one bucket (pending, disbursed, withheld,
returned), so for every township and the county: entitled = pending + disbursed +
withheld + returned. `entitled` is summed over every payment independently of the
bucket sums, so a payment in no known bucket shows as a row that does not reconcile.
Money is Decimal throughout and leaves as a string ("960.00"), never a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.reporting.application.statistical_report import Sheet, township_title
from shared.contracts.events.subsidy import BUCKETS, OFFENCES, PROGRAMS
from shared.contracts.townships import COUNTY_REGION_CODE, TOWNSHIPS

CENT = Decimal("0.01")
ZERO = Decimal("0.00")  # two places, so an empty figure reads 0.00 in the sheets too
COUNTY_NAME = "全县合计"
BOTH_PROGRAMS = "奖励扶助和特别扶助"
BUCKET_NAMES = {"pending": "待发", "disbursed": "已发", "withheld": "暂停/扣发", "returned": "退回"}
PATTERN_NAMES = {
    "duplicate_enrolment": "重复享受",
    "deceased_reported": "已故仍申报",
    "township_failure_rate": "乡镇申报不合格率异常",
    "paid_after_death": "死亡后仍发放",
    "followup_shortfall": "回访金额不足",
}
ENROLMENT_FIGURES = ("confirmed", "refused", "suspended")


def yuan(value: Decimal | None) -> str:
    return str((value or ZERO).quantize(CENT))


@dataclass
class Funds:
    """One township's (or the county's) money and counts for a year."""

    township_code: str
    township_name: str
    entitled: Decimal = ZERO
    payments: int = 0
    amounts: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    beneficiaries: dict[str, int] = field(default_factory=lambda: {"reported": 0, **dict.fromkeys(ENROLMENT_FIGURES, 0)})
    signals: int | None = 0  # None: not given (a township officer is told of no fraud signal)

    @property
    def reconciles(self) -> bool:
        return self.entitled == sum(self.amounts.values(), ZERO)

    def add(self, other: Funds) -> None:
        self.entitled += other.entitled
        self.payments += other.payments
        self.signals += other.signals
        for bucket in BUCKETS:
            self.amounts[bucket] += other.amounts[bucket]
            self.counts[bucket] += other.counts[bucket]
        for figure in self.beneficiaries:
            self.beneficiaries[figure] += other.beneficiaries[figure]

    def as_json(self) -> dict[str, Any]:
        return {
            "township_code": self.township_code,
            "township_name": self.township_name,
            "entitled": yuan(self.entitled),
            **{bucket: yuan(self.amounts[bucket]) for bucket in BUCKETS},
            "payments": self.payments,
            "payments_by_bucket": dict(self.counts),
            "beneficiaries": dict(self.beneficiaries),
            "signals": self.signals,
            "reconciles": self.reconciles,
        }


def township_funds(
    entitled: list[dict[str, Any]], buckets: list[dict[str, Any]], enrolments: list[dict[str, Any]], signals: list[dict[str, Any]],
    township_code: str | None = None,
) -> tuple[list[Funds], Funds]:
    """Every township (zeros where nothing happened, and any other code the events
    named), then the county total, from the query rows of subsidy_queries. With a
    township_code (the rows queried for it alone): that township only, and its total."""
    listed = TOWNSHIPS if township_code is None else {township_code: TOWNSHIPS.get(township_code, "未注明乡镇")}
    rows = {code: Funds(code, name) for code, name in listed.items()}

    def row(code: str | None) -> Funds:
        code = code or ""
        return rows.setdefault(code, Funds(code, TOWNSHIPS.get(code, "未注明乡镇")))

    for r in entitled:
        funds = row(r["township_code"])
        funds.entitled, funds.payments = Decimal(r["entitled"] or ZERO), int(r["payments"])
    for r in buckets:
        if r["bucket"] in BUCKETS:  # an unknown bucket stays out of every sum: the row will not reconcile
            funds = row(r["township_code"])
            funds.amounts[r["bucket"]], funds.counts[r["bucket"]] = Decimal(r["amount"] or ZERO), int(r["payments"])
    for r in enrolments:
        funds = row(r["township_code"])
        funds.beneficiaries["reported"] += int(r["beneficiaries"])  # every enrolment was reported first
        if r["status"] in ENROLMENT_FIGURES:
            funds.beneficiaries[r["status"]] += int(r["beneficiaries"])
    for r in signals:
        row(r["township_code"]).signals = int(r["signals"])
    total = Funds(COUNTY_REGION_CODE, COUNTY_NAME) if township_code is None else Funds(township_code, rows[township_code].township_name)
    for funds in rows.values():
        total.add(funds)
    return list(rows.values()), total


def subsidy_report(year: int, program: str | None, townships: list[Funds], county: Funds | None, years: list[int],
                   cut: dict[str, Any] | None = None) -> dict[str, Any]:
    """county None: the report is cut to one township (`cut` says which): its row is its
    total, and no county figure is given."""
    return {
        "title": "扶助资金对账 Subsidy reconciliation",
        **(cut or {}),
        "year": year,
        "program": program,
        "program_name": PROGRAMS[program] if program else BOTH_PROGRAMS,
        "years": years,
        "buckets": BUCKET_NAMES,
        "rows": [funds.as_json() for funds in townships],
        "county": None if county is None else county.as_json(),
        "reconciles": (county is None or county.reconciles) and all(funds.reconciles for funds in townships),
    }


def payment_json(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "amount": yuan(row["amount"]), "township_name": TOWNSHIPS.get(row["township_code"], ""),
            "program_name": PROGRAMS.get(row["program"], row["program"]), "bucket_name": BUCKET_NAMES.get(row["bucket"], row["bucket"])}


def signal_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "amount": None if row["amount"] is None else yuan(row["amount"]),
        "pattern_name": PATTERN_NAMES.get(row["pattern"], row["pattern"]),
        "offence_name": OFFENCES.get(row["offence"], row["offence"]),
        "township_name": TOWNSHIPS.get(row["township_code"] or "", ""),
    }


def subsidy_sheet(year: int, by_program: dict[str, tuple[list[Funds], Funds]], township_code: str | None = None) -> Sheet:
    """The statistical report's reconciliation table: every township under each program,
    then the program's county total. With a township_code: that township's row under
    each program (its own total), no county row."""
    rows = []
    for program, (townships, county) in by_program.items():
        for funds in (*townships, county) if township_code is None else townships:
            a = funds.amounts
            rows.append((PROGRAMS[program], funds.township_code, funds.township_name, funds.entitled, a["disbursed"], a["withheld"], a["returned"],
                         a["pending"], funds.payments, "相符" if funds.reconciles else "不符"))
    return Sheet(
        name="subsidies",
        title=f"元氏县{township_title(township_code)}奖励扶助和特别扶助资金对账表（{year}年度）",
        headers=("项目", "乡镇代码", "乡镇", "应发金额", "已发金额", "暂停/扣发金额", "退回金额", "待发金额", "笔数", "对账"),
        rows=rows,
    )
