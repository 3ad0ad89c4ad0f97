"""What the detectors remember between records: small aggregates keyed by the thing
watched (a patient's person_ref, an outlet, a facility or ultrasound operator).
Each keeps only a bounded, rolling window, and every event replaces its state rather than
changing it in place, so a copy of a cached watch shares it. Pure domain."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.eventstore.copying import SharesStateWhenCopied
from shared.ids import stable_id

SCAN_MEMORY_DAYS = 300  # a scan can be linked to a birth up to ~10 months later


def watch_id(kind: str, key: str) -> UUID:
    return stable_id("watch", kind, key)


class PatientScans(SharesStateWhenCopied, Aggregate):
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


class OutletSales(SharesStateWhenCopied, Aggregate):
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


class BirthTally(SharesStateWhenCopied, Aggregate):
    """Births linked to a facility or an ultrasound operator, within the rule's window,
    counted per day of birth: a birth costs the same however many the window holds (a
    busy facility's year is thousands of births; a list of them, scanned and copied on
    every birth, made the watch's cost grow with the square of its births).

    Every event replaces `days` with a new dict and never changes one in place, so a copy
    of the tally shares it."""

    @event("Started")
    def __init__(self, id: UUID) -> None:  # noqa: A002
        self.days: dict[int, tuple[int, int, tuple[str, ...]]] = {}  # date ordinal -> (boys, girls, event ids)

    @event("BirthNoted")
    def note_birth(self, event_id: str, birth_date: str, sex: str, window_days: int) -> None:
        day = date.fromisoformat(birth_date).toordinal()
        days = {d: counts for d, counts in self.days.items() if d > day - window_days}  # older ones fell out
        boys, girls, event_ids = days.get(day, (0, 0, ()))
        days[day] = (boys + (sex == "M"), girls + (sex != "M"), (*event_ids, event_id))
        self.days = days

    def knows(self, event_id: str, birth_date: date) -> bool:
        return event_id in self.days.get(birth_date.toordinal(), (0, 0, ()))[2]

    def counts_within(self, as_of: date, window_days: int) -> tuple[int, int]:
        """(boys, girls) born in (as_of - window_days, as_of]."""
        last = as_of.toordinal()
        boys = girls = 0
        for day, (day_boys, day_girls, _) in self.days.items():
            if last - window_days < day <= last:
                boys, girls = boys + day_boys, girls + day_girls
        return boys, girls

    def event_ids(self) -> list[str]:
        """Every birth it holds, by day of birth (the evidence of a signal)."""
        return [event_id for day in sorted(self.days) for event_id in self.days[day][2]]
