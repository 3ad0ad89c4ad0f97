"""What enforcement announces for each event in its store.

Case.Opened → fp.enforcement.case.opened; every later case event →
fp.enforcement.case.<change>; a disclosure also → fp.enforcement.shared.<agency>,
redacted for that agency. The translator reads the case as of the event's version
so each message carries the case's status after the change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from services.enforcement.domain.case import Case, signals_in_full
from services.enforcement.domain.redaction import shared_view
from services.enforcement.domain.views import opened_on
from shared.contracts.events.enforcement import (
    CASE_OPENED,
    CASE_OPENED_SUBJECT,
    CASE_SHARED,
    CASE_UPDATED,
    CaseOpenedV1,
    CaseSharedV1,
    CaseUpdatedV1,
    case_change_subject,
    shared_subject,
)
from shared.contracts.integration import OutgoingMessage, announce
from shared.eventstore.application import ServiceApplication
from shared.eventstore.states import StatesAfter

SERVICE = "enforcement"
CHANGES = {
    "Triaged": "triaged",
    "Assigned": "assigned",
    "EvidenceRecorded": "evidence_recorded",
    "JointOperationRequested": "joint_operation_requested",
    "Disclosed": "disclosed",
    "AgencyResponded": "agency_responded",
    "Referred": "referred",
    "Concluded": "concluded",
    "Closed": "closed",
    "Reopened": "reopened",
    "FeeRecorded": "fee_recorded",
    "SignalJoined": "signal_joined",
}
# Free text an officer typed stays in the case (the team sees it over HTTP), not on the stream.
NOT_ON_THE_STREAM = {"description", "findings", "reason", "response", "purpose", "officer", "item"}
SignalsOf = Callable[[Case], list[dict[str, Any]]]


def signals_reader(store: ServiceApplication) -> SignalsOf:
    """signals_of(case) -> the case's signals with their evidence, as of its version, read
    from its events: the case in memory keeps each signal without it (signal_as_kept).
    Asked for a case's detail and its shared views only, never per inbound message."""
    return lambda case: signals_in_full(store.events.get(case.id, lte=case.version))


def is_case_topic(topic: str) -> bool:
    """Whether the translator looks at events of this topic ("module:Case.Opened"): the
    relay passes the watches' and the handled-message markers' events over undecoded."""
    return ":Case." in topic


def case_translator(store: ServiceApplication) -> Callable[[int, Any], Sequence[OutgoingMessage]]:
    # The case as each event left it: the relay's recent states, mutated event by event.
    load_case, signals_of = StatesAfter(store), signals_reader(store)

    def translate(notification_id: int, event: Any) -> Sequence[OutgoingMessage]:
        if not isinstance(event, Case.Event):
            return ()
        # Every event of a case goes through load_case, announced or not: the case's next
        # event then costs one mutate there, not a replay of the case from the store.
        case = load_case(event)
        if isinstance(event, Case.Opened):
            return (opened_message(notification_id, event),)
        name = type(event).__name__
        change = CHANGES.get(name) or (f"deadline_{event.alert}" if name == "DeadlineAlert" else None)
        if change is None:
            return ()
        messages = [updated_message(notification_id, event, case, change)]
        if name == "Disclosed":
            messages.append(shared_message(notification_id, event, case, signals_of(case)))
        return tuple(messages)

    return translate


def _trace(case: Case) -> tuple[str, str]:
    """(correlation, causation): an anonymous tip's case points at nothing outside itself."""
    if case.anonymous or not case.record_id:
        return str(case.id), str(case.id)
    return case.record_id, case.source_ref or str(case.id)


def opened_message(notification_id: int, event: Any) -> OutgoingMessage:
    case_id = str(event.originator_id)
    anonymous_or_unsourced = event.anonymous or not event.record_id
    return announce(
        event,
        event_type=CASE_OPENED,
        event_id=f"{SERVICE}-{notification_id}",
        producer=SERVICE,
        correlation_id=case_id if anonymous_or_unsourced else event.record_id,
        causation_id=case_id if anonymous_or_unsourced else event.source_ref,
        payload=CaseOpenedV1(
            case_id=case_id,
            case_number=event.case_number,
            origin=event.origin,
            category=event.category,
            township_code=event.township_code,
            anonymous=event.anonymous,
            section=event.section,
            submission_id=event.source_ref if event.origin in ("hotline_tip", "petition") and event.source_ref else None,
            opened_at=event.timestamp,
            signal_id=(event.signal or {}).get("signal_id"),
        ),
        subject=CASE_OPENED_SUBJECT,
    )


def updated_message(notification_id: int, event: Any, case: Case, change: str) -> OutgoingMessage:
    correlation, causation = _trace(case)
    details = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version", "timestamp") and k not in NOT_ON_THE_STREAM}
    if change == "evidence_recorded":
        details = {k: event.item[k] for k in ("evidence_id", "kind", "linked_event_ids")}
    if change == "signal_joined":
        details = {k: event.signal[k] for k in ("pattern", "subject", "evidence", "detected_on")}
        if event.signal.get("signal_id"):  # a subsidy signal: verification links it to this case
            details["signal_id"] = event.signal["signal_id"]
    return announce(
        event,
        event_type=CASE_UPDATED,
        event_id=f"{SERVICE}-{notification_id}",
        producer=SERVICE,
        correlation_id=correlation,
        causation_id=causation,
        payload=CaseUpdatedV1(
            case_id=str(case.id),
            case_number=case.case_number,
            change=change,
            status=case.status,
            category=case.category,
            section=case.section,
            township_code=case.township_code,
            priority=case.priority,
            assigned_to=case.assigned_to,
            due_on=(case.deadline or {}).get("due_on"),
            officer=getattr(event, "officer", None),
            details=details,
            occurred_at=event.timestamp,
        ),
        subject=case_change_subject(change),
    )


def shared_message(notification_id: int, event: Any, case: Case, signals: list[dict[str, Any]]) -> OutgoingMessage:
    correlation, causation = _trace(case)
    view = shared_view(case, signals, event.agency, opened_on(case))
    return announce(
        event,
        event_type=CASE_SHARED,
        event_id=f"{SERVICE}-{notification_id}-{event.agency}",
        producer=SERVICE,
        correlation_id=correlation,
        causation_id=causation,
        payload=CaseSharedV1(
            case_id=str(case.id),
            case_number=case.case_number,
            agency=event.agency,
            operation_id=event.operation_id,
            fields=list(event.fields),
            view=view,
            shared_at=event.timestamp,
        ),
        subject=shared_subject(event.agency),
    )
