"""What officers ask about subsidies: beneficiaries, payments, cycles and signals.

Like the application index, this index is kept in memory by reading the service's own
log from where it last stopped (rebuilt from the log at start): one small row per
enrolment, payment and signal, so a listing or a cycle's totals cost one pass over the
rows asked for and never replay histories. Details are loaded from the store.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from services.verification.application.log_index import LogIndex
from services.verification.domain.subsidy.money import ZERO
from services.verification.domain.subsidy.payment import BUCKETS, CHANGES, PAID
from services.verification.domain.subsidy.references import public_id

ENROLMENT_STATUS = {"Reported": "reported", "Confirmed": "confirmed", "Refused": "refused"}


@dataclass
class SubsidyIndex(LogIndex):
    enrolment_rows: dict[tuple[UUID, str, int], dict[str, Any]] = field(default_factory=dict)
    suspended: dict[UUID, list[str]] = field(default_factory=dict)  # open suspensions' causes
    payment_rows: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    signal_rows: dict[UUID, dict[str, Any]] = field(default_factory=dict)

    def _apply(self, event: Any) -> None:
        kind, _, name = type(event).__qualname__.partition(".")
        handler = {"Beneficiary": self._beneficiary, "Payment": self._payment, "SubsidySignal": self._signal}.get(kind)
        if handler:
            handler(name, event)

    def _beneficiary(self, name: str, event: Any) -> None:
        if name == "Suspended":
            self.suspended.setdefault(event.originator_id, []).append(event.cause)
        elif name == "Reinstated":
            open_causes = self.suspended.get(event.originator_id, [])
            self.suspended[event.originator_id] = [c for c in open_causes if event.causes is not None and c not in event.causes]
        elif name == "Reported":
            self.enrolment_rows[(event.originator_id, event.program, event.year)] = {
                "beneficiary_id": public_id("BF", event.originator_id), "program": event.program, "year": event.year,
                "township_code": event.township_code, "birth_year": event.birth_year, "status": "reported"}
        elif name in ("Checked", *ENROLMENT_STATUS):
            row = self.enrolment_rows[(event.originator_id, event.program, event.year)]
            row["status"] = event.outcome if name == "Checked" else ENROLMENT_STATUS[name]

    def _payment(self, name: str, event: Any) -> None:
        if name == "Scheduled":
            self.payment_rows[event.originator_id] = {
                "payment_id": event.payment_id, "cycle_id": event.cycle_id, "program": event.program, "year": event.year,
                "township_code": event.township_code, "beneficiary_id": event.beneficiary_id, "amount": event.amount}
        row = self.payment_rows[event.originator_id]
        status = CHANGES.get(name, row.get("status"))
        if name == "FollowedUp" and row["status"] not in PAID:
            status = row["status"]  # a follow-up of an unpaid payment is recorded, its status stays
        row["status"], row["bucket"] = status, BUCKETS[status]

    def _signal(self, name: str, event: Any) -> None:
        if name == "Raised":
            self.signal_rows[event.originator_id] = {
                "signal_id": public_id("SG", event.originator_id), "pattern": event.pattern, "township_code": event.township_code,
                "subject": event.subject, "cases": []}
        row = self.signal_rows[event.originator_id]
        if name == "CaseLinked":
            row["cases"].append(event.case_number)

    @staticmethod
    def _matching(rows: dict[Any, dict[str, Any]], filters: dict[str, Any]) -> list[dict[str, Any]]:
        return [dict(row, id=key) for key, row in rows.items() if all(v is None or row.get(k) == v for k, v in filters.items())]

    def enrolments(self, **filters: Any) -> list[dict[str, Any]]:
        self.catch_up()
        rows = self._matching(self.enrolment_rows, filters)
        for row in rows:
            row["id"], row["suspended"] = row["id"][0], bool(self.suspended.get(row["id"][0]))
        return sorted(rows, key=lambda r: (r["year"], r["program"], r["township_code"], r["beneficiary_id"]))

    def payments(self, **filters: Any) -> list[dict[str, Any]]:
        self.catch_up()
        return sorted(self._matching(self.payment_rows, filters), key=lambda r: r["payment_id"])

    def signals(self, **filters: Any) -> list[dict[str, Any]]:
        self.catch_up()
        return sorted(self._matching(self.signal_rows, filters), key=lambda r: r["signal_id"])


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
