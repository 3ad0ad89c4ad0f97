"""Public references (BF-…, PAY-…, SG-…) -> the aggregate they name.

Beneficiary and signal ids are derived from their aggregate's uuid and payment ids are
assigned by the cycle, so none of them can be turned back into a uuid. A small
aggregate per reference, saved in the same transaction as what it names, lets a
follow-up quoting PAY-2026-RW-000017, an officer's URL or an auditor's `fpb history`
find the aggregate without any index.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.ids import stable_id


def reference_id(reference: str) -> UUID:
    return stable_id("subsidy-reference", reference)


def public_id(prefix: str, aggregate_id: UUID) -> str:
    """e.g. BF-1A2B3C4D5E6F: twelve upper-case hex digits of the aggregate's uuid."""
    return f"{prefix}-{aggregate_id.hex[:12].upper()}"


class PublicReference(Aggregate):
    @staticmethod
    def create_id(reference: str, **_: object) -> UUID:
        return reference_id(reference)

    @event("Assigned")
    def __init__(self, reference: str, aggregate_id: UUID, kind: str) -> None:
        self.reference, self.aggregate_id, self.kind = reference, aggregate_id, kind
