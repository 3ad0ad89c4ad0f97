"""What officers ask about subsidies: beneficiaries, payments, cycles and signals.

The index (a LogIndex, shared/eventstore/log_index.py) keeps one small row per enrolment,
payment and signal (and the open suspensions) in verification's database: listings and
a cycle's totals read rows by indexed columns and never replay histories. Details are
loaded from the store.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any
from uuid import UUID

from services.verification.domain.subsidy.money import ZERO
from services.verification.domain.subsidy.payment import BUCKETS, CHANGES, PAID
from services.verification.domain.subsidy.references import public_id
from shared.eventstore.log_index import Batch, LogIndex

ENROLMENT_STATUS = {"Reported": "reported", "Confirmed": "confirmed", "Refused": "refused"}
ROW_KINDS = {"Payment": "payment", "SubsidySignal": "signal"}


def enrolment_key(beneficiary: UUID, program: str, year: int) -> str:
    return f"{beneficiary}|{program}|{year}"


class SubsidyIndex(LogIndex):
    """One row per enrolment, payment and signal, and the open suspensions."""

    AGGREGATES = ("Beneficiary", "Payment", "SubsidySignal")

    def rows_of(self, event: Any) -> list[tuple[str, str]]:
        kind, _, name = type(event).__qualname__.partition(".")
        key = str(event.originator_id)
        if kind == "Beneficiary":
            if name in ("Suspended", "Reinstated"):
                return [("suspended", key)]
            if name in ("Reported", "Checked", *ENROLMENT_STATUS):
                return [("enrolment", enrolment_key(event.originator_id, event.program, event.year))]
            return []
        return [(ROW_KINDS[kind], key)] if kind in ROW_KINDS else []

    def apply(self, rows: Batch, event: Any) -> None:
        kind, _, name = type(event).__qualname__.partition(".")
        handler = {"Beneficiary": self._beneficiary, "Payment": self._payment, "SubsidySignal": self._signal}.get(kind)
        if handler:
            handler(rows, name, event)

    def _beneficiary(self, rows: Batch, name: str, event: Any) -> None:
        key = str(event.originator_id)
        if name in ("Suspended", "Reinstated"):
            open_causes = (rows.get("suspended", key) or {"causes": []})["causes"]
            if name == "Suspended":
                open_causes = [*open_causes, event.cause]
            else:
                open_causes = [c for c in open_causes if event.causes is not None and c not in event.causes]
            rows.put("suspended", key, {"causes": open_causes})
        elif name == "Reported":
            rows.put("enrolment", enrolment_key(event.originator_id, event.program, event.year), {
                "beneficiary_id": public_id("BF", event.originator_id), "program": event.program, "year": event.year,
                "township_code": event.township_code, "birth_year": event.birth_year, "status": "reported"})
        elif name in ("Checked", *ENROLMENT_STATUS):
            row = rows.get("enrolment", enrolment_key(event.originator_id, event.program, event.year))
            row["status"] = event.outcome if name == "Checked" else ENROLMENT_STATUS[name]

    def _payment(self, rows: Batch, name: str, event: Any) -> None:
        key = str(event.originator_id)
        if name == "Scheduled":
            rows.put("payment", key, {
                "payment_id": event.payment_id, "cycle_id": event.cycle_id, "program": event.program, "year": event.year,
                "township_code": event.township_code, "beneficiary_id": event.beneficiary_id, "amount": str(event.amount)})
        row = rows.get("payment", key)
        status = CHANGES.get(name, row.get("status"))
        if name == "FollowedUp" and row["status"] not in PAID:
            status = row["status"]  # a follow-up of an unpaid payment is recorded, its status stays
        row["status"], row["bucket"] = status, BUCKETS[status]

    def _signal(self, rows: Batch, name: str, event: Any) -> None:
        key = str(event.originator_id)
        if name == "Raised":
            rows.put("signal", key, {
                "signal_id": public_id("SG", event.originator_id), "pattern": event.pattern, "township_code": event.township_code,
                "subject": event.subject, "cases": []})
        row = rows.get("signal", key)
        if name == "CaseLinked":
            row["cases"] = [*row["cases"], event.case_number]

    def enrolments(self, **filters: Any) -> list[dict[str, Any]]:
        self.catch_up()
        found = [dict(row, id=UUID(key.split("|")[0])) for key, row in self.rows.select("enrolment", filters)]
        # the suspensions of these beneficiaries only, not every one the county has recorded
        suspensions = self.rows.load_many(("suspended", str(row["id"])) for row in found)
        for row in found:
            row["suspended"] = bool(suspensions.get(("suspended", str(row["id"])), {}).get("causes"))
        return sorted(found, key=lambda r: (r["year"], r["program"], r["township_code"], r["beneficiary_id"]))

    def payments(self, **filters: Any) -> list[dict[str, Any]]:
        self.catch_up()
        found = [dict(row, id=UUID(key), amount=Decimal(row["amount"])) for key, row in self.rows.select("payment", filters)]
        return sorted(found, key=lambda r: r["payment_id"])

    def signals(self, **filters: Any) -> list[dict[str, Any]]:
        self.catch_up()
        return sorted((dict(row, id=UUID(key)) for key, row in self.rows.select("signal", filters)), key=lambda r: r["signal_id"])


def cycle_totals(cycle: Any, payments: list[dict[str, Any]]) -> dict[str, Any]:
    """Per township and county: what the cycle computed as entitled, where each payment's
    amount stands now, and whether entitled = pending + disbursed + withheld + returned."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: {b: ZERO for b in ("pending", "disbursed", "withheld", "returned")})
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in payments:
        sums[row["township_code"]][row["bucket"]] += row["amount"]
        counts[row["township_code"]][row["status"]] += 1
    townships = {code: _line(t["entitled"], sums[code], counts[code]) for code, t in sorted(cycle.townships.items())}
    county_sums = {b: sum((sums[c][b] for c in cycle.townships), ZERO) for b in ("pending", "disbursed", "withheld", "returned")}
    county_counts: dict[str, int] = defaultdict(int)
    for code in cycle.townships:
        for status, n in counts[code].items():
            county_counts[status] += n
    return {"townships": townships, "county": _line(cycle.entitled, county_sums, county_counts)}


def _line(entitled: Decimal, sums: dict[str, Decimal], counts: dict[str, int]) -> dict[str, Any]:
    return {"entitled": str(entitled), **{b: str(v) for b, v in sums.items()}, "payments": dict(sorted(counts.items())),
            "reconciles": entitled == sum(sums.values(), ZERO)}
