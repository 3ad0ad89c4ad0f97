"""The enforcement back-link: when enforcement opens a case from a subsidy signal, or
joins a signal to a case it already has, the signal records the case (and announces
verification.subsidy.signal_linked), so signal and case point at each other.
Cases that did not come from a subsidy signal carry no signal_id and are ignored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.domain import Aggregate

from services.verification.application.applications import china_day
from services.verification.application.subsidy_unit import Find, Unit
from services.verification.domain.subsidy.signals import SubsidySignal
from shared.contracts.events.enforcement import CaseOpenedV1, CaseUpdatedV1
from shared.contracts.integration import ReceivedEvent


class UnknownSignalError(LookupError):
    """A case names a signal verification never raised: retried, then dead-lettered."""


def signal_of(payload: Any) -> str | None:
    if isinstance(payload, CaseOpenedV1):
        return payload.signal_id
    if isinstance(payload, CaseUpdatedV1) and payload.change == "signal_joined":
        return payload.details.get("signal_id")
    return None


def link_case(received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
    signal_id = signal_of(received.payload)
    if not signal_id:
        return ()
    unit = Unit(find)
    signal = unit.by_reference(signal_id)
    if not isinstance(signal, SubsidySignal):
        raise UnknownSignalError(f"no subsidy signal {signal_id!r} to link case {received.payload.case_number} to")  # type: ignore[attr-defined]
    if signal.link_case(received.payload.case_id, received.payload.case_number, china_day(received.envelope.occurred_at).isoformat()):  # type: ignore[attr-defined]
        unit.add(signal)
    return unit.aggregates
