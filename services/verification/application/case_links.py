"""What verification keeps of enforcement's cases.

- Every case it hears of (case.opened, and the later changes it follows: concluded,
  closed, reopened) is kept in a small register (`KnownCase`: number, last status, and
  whether its conclusion found the allegation substantiated), so a revocation can only
  name a case enforcement concluded as substantiated.
- The back-link: when enforcement opens a case from a subsidy signal, or joins a signal
  to a case it already has, the signal records the case (and announces
  verification.subsidy.signal_linked), so signal and case point at each other. Cases
  that did not come from a subsidy signal carry no signal_id and are not linked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.domain import Aggregate

from services.verification.application.subsidy_unit import Find, Unit
from services.verification.domain.registers import KnownCase, known_case_id
from services.verification.domain.subsidy.signals import SubsidySignal
from shared.calendar import county_day
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
    if not signal_id or not signal_id.startswith("SG-"):
        return ()  # falsification signals (FS-…) have no back-link contract: the case register knows the case
    unit = Unit(find)
    signal = unit.by_reference(signal_id)
    if not isinstance(signal, SubsidySignal):
        raise UnknownSignalError(f"no subsidy signal {signal_id!r} to link case {received.payload.case_number} to")  # type: ignore[attr-defined]
    if signal.link_case(received.payload.case_id, received.payload.case_number, county_day(received.envelope.occurred_at).isoformat()):  # type: ignore[attr-defined]
        unit.add(signal)
    return unit.aggregates


def note_case(received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
    """The case, in the register of known cases, with its last status and, once concluded,
    whether the conclusion found it substantiated (case.concluded's details say so)."""
    payload: Any = received.payload
    on = county_day(received.envelope.occurred_at).isoformat()
    status = payload.status if isinstance(payload, CaseUpdatedV1) else "opened"
    known: KnownCase | None = find(known_case_id(payload.case_number))
    created = known is None
    if known is None:
        known = KnownCase(case_number=payload.case_number, case_id=payload.case_id, status=status, heard_on=on)
    concluded = isinstance(payload, CaseUpdatedV1) and payload.change == "concluded" and "substantiated" in payload.details
    changed = known.note_conclusion(bool(payload.details["substantiated"]), on) if concluded else known.note_status(status, on)
    return (known,) if created or changed else ()


def on_case_event(received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
    return (*note_case(received, find), *link_case(received, find))
