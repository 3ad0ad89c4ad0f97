"""What the detectors remember between records: small aggregates keyed by the thing
watched (a patient's person_ref, an outlet, a facility or ultrasound operator).
Each keeps only a bounded, rolling window. Pure domain."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.ids import stable_id

SCAN_MEMORY_DAYS = 300  # a scan can be linked to a birth up to ~10 months later


def watch_id(kind: str, key: str) -> UUID:
    return stable_id("watch", kind, key)


class PatientScans(Aggregate):
    """The ultrasound scans of one patient (by person_ref: never the ID number)."""

    @event("Started")
    def __init__(self, id: UUID) -> None:  # noqa: A002
        self.scans: list[dict[str, Any]] = []

    @event("ScanNoted")
    def note_scan(self, event_id: str, performed_on: str, facility_id: str, operator_id: str) -> None:
        keep_after = date.fromisoformat(performed_on) - timedelta(days=SCAN_MEMORY_DAYS)
        kept = [s for s in self.scans if date.fromisoformat(s["performed_on"]) > keep_after]
        self.scans = [*kept, {"event_id": event_id, "performed_on": performed_on, "facility_id": facility_id, "operator_id": operator_id}]

    def knows(self, event_id: str) -> bool:
        return any(s["event_id"] == event_id for s in self.scans)

    def last_scan_before(self, day: date) -> dict[str, Any] | None:
        earlier = [s for s in self.scans if date.fromisoformat(s["performed_on"]) <= day]
        return max(earlier, key=lambda s: s["performed_on"], default=None)


class OutletSales(Aggregate):
    """Unprescribed termination-drug sales of one outlet, within the rule's window."""

    @event("Started")
    def __init__(self, id: UUID) -> None:  # noqa: A002
        self.sales: list[dict[str, Any]] = []

    @event("SaleNoted")
    def note_sale(self, event_id: str, sold_at: str, window_days: int) -> None:
        keep_after = datetime.fromisoformat(sold_at) - timedelta(days=window_days)
        kept = [s for s in self.sales if datetime.fromisoformat(s["sold_at"]) > keep_after]
        self.sales = [*kept, {"event_id": event_id, "sold_at": sold_at}]

    def knows(self, event_id: str) -> bool:
        return any(s["event_id"] == event_id for s in self.sales)


class BirthTally(Aggregate):
    """Births linked to a facility or an ultrasound operator, within the rule's window."""

    @event("Started")
    def __init__(self, id: UUID) -> None:  # noqa: A002
        self.births: list[dict[str, Any]] = []

    @event("BirthNoted")
    def note_birth(self, event_id: str, birth_date: str, sex: str, window_days: int) -> None:
        keep_after = date.fromisoformat(birth_date) - timedelta(days=window_days)
        kept = [b for b in self.births if date.fromisoformat(b["birth_date"]) > keep_after]
        self.births = [*kept, {"event_id": event_id, "birth_date": birth_date, "sex": sex}]

    def knows(self, event_id: str) -> bool:
        return any(b["event_id"] == event_id for b in self.births)

    def pairs(self) -> list[tuple[date, str]]:
        return [(date.fromisoformat(b["birth_date"]), b["sex"]) for b in self.births]
