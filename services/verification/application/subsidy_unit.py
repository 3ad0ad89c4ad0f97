"""The aggregates one subsidy decision touches, saved together in one transaction.

Lookups go through what the decision already changed, so two steps on the same
aggregate in one decision (a beneficiary reported and checked, a signal raised and
joined) build on each other. New public references (BF-…, SG-…) are added with the
aggregate they name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.verification.domain.subsidy.beneficiary import Beneficiary, beneficiary_uuid
from services.verification.domain.subsidy.references import PublicReference, reference_id
from services.verification.domain.subsidy.signals import Detection, SubsidySignal, signal_uuid
from services.verification.domain.subsidy.tally import TownshipTally, tally_uuid

Find = Callable[[UUID], Any]


class Unit:
    def __init__(self, find: Find) -> None:
        self._find = find
        self.touched: dict[UUID, Aggregate] = {}

    def get(self, aggregate_id: UUID) -> Any:
        return self.touched.get(aggregate_id) or self._find(aggregate_id)

    def add(self, *aggregates: Aggregate) -> None:
        self.touched.update((a.id, a) for a in aggregates)

    @property
    def aggregates(self) -> list[Aggregate]:
        return [a for a in self.touched.values() if a.pending_events]

    def by_reference(self, reference: str) -> Any:
        """The aggregate a public reference (BF-…, PAY-…, SG-…) names, or None."""
        assigned: PublicReference | None = self.get(reference_id(reference))
        return self.get(assigned.aggregate_id) if assigned else None

    def beneficiary(self, person_ref: str, on: date) -> Beneficiary:
        found: Beneficiary | None = self.get(beneficiary_uuid(person_ref))
        if found is None:
            found = Beneficiary(person_ref=person_ref, first_seen_on=on.isoformat())
            self.add(PublicReference(reference=found.beneficiary_id, aggregate_id=found.id, kind="beneficiary"))
        self.add(found)
        return found

    def tally(self, program: str, year: int, township_code: str) -> TownshipTally:
        found = self.get(tally_uuid(program, year, township_code)) or TownshipTally(program=program, year=year, township_code=township_code)
        self.add(found)
        return found

    def signal(self, detection: Detection | None, on: date) -> SubsidySignal | None:
        """Raises the detection as a new signal, or joins its evidence to the same pattern's
        signal on the same subject."""
        if detection is None:
            return None
        existing: SubsidySignal | None = self.get(signal_uuid(detection.pattern, detection.subject))
        if existing is not None:
            existing.join(detection, on.isoformat())
            self.add(existing)
            return existing
        raised = SubsidySignal(pattern=detection.pattern, subject=detection.subject, township_code=detection.township_code,
                               evidence=detection.evidence, person_refs=detection.person_refs, amount=detection.amount,
                               detected_on=on.isoformat(), summary=detection.summary)
        self.add(raised, PublicReference(reference=raised.signal_id, aggregate_id=raised.id, kind="signal"))
        return raised
