"""What intake announces for each event in its store (read by the outbox relay).

An accepted submission becomes an integration event for the other services and a
receipt for its publisher; a rejected record becomes a receipt, a dead letter with
its (encrypted) raw bytes, and an integration event so reporting can count it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.intake.domain.submission import RejectedRecord, Submission
from shared.contracts.events.intake import (
    SUBMISSION_ACCEPTED,
    SUBMISSION_REJECTED,
    FieldErrorV1,
    SubmissionAcceptedV1,
    SubmissionRejectedV1,
    accepted_subject,
    rejected_subject,
)
from shared.contracts.integration import OutgoingMessage, announce, json_bytes, trace_headers
from shared.contracts.receipts import Receipt, ReceiptError, receipt_message

SERVICE = "intake"


def translate(notification_id: int, event: Any) -> Sequence[OutgoingMessage]:
    if isinstance(event, Submission.Accepted):
        return accepted_messages(notification_id, event)
    if isinstance(event, RejectedRecord.Rejected):
        return rejected_messages(notification_id, event)
    return ()


def accepted_messages(notification_id: int, event: Any) -> Sequence[OutgoingMessage]:
    event_id = f"{SERVICE}-{notification_id}"
    submission_id = str(event.originator_id)
    payload = SubmissionAcceptedV1(
        submission_id=submission_id,
        record_id=chain_id(event),
        source=event.source,
        schema=event.schema,
        kind=event.kind,
        township_code=event.township_code,
        section=event.routing["section"],
        section_en=event.routing["section_en"],
        duty_no=event.routing["duty_no"],
        item_no=event.routing["item_no"],
        occurred_at=datetime.fromisoformat(event.occurred_at),
        received_at=datetime.fromisoformat(event.received_at),
        data=event.data,
        person_refs=event.person_refs,
        data_subject_ref=event.data_subject_ref,
    )
    integration = announce(
        event,
        event_type=SUBMISSION_ACCEPTED,
        event_id=event_id,
        producer=SERVICE,
        correlation_id=chain_id(event),
        causation_id=chain_id(event),
        payload=payload,
        subject=accepted_subject(event.kind),
    )
    receipt = Receipt(record_id=event.record_id, accepted=True, submission_id=submission_id)
    return (integration, receipt_message(event.source, receipt, f"{event_id}-receipt"))


def chain_id(event: Any) -> str:
    """The record id the platform passes on (and the correlation id of the chain an accepted
    record starts): the publisher's, except for an anonymous tip. Its record id is the
    hotline's own call record, and what intake publishes travels into every service's
    streams, headers and logs: an anonymous tip is named by its submission instead. Only
    the hotline's own receipt carries its record id back."""
    if event.kind == "hotline.tip.received" and event.data.get("anonymous") is True:
        return str(event.originator_id)
    return event.record_id


def rejected_messages(notification_id: int, event: Any) -> Sequence[OutgoingMessage]:
    event_id = f"{SERVICE}-{notification_id}"
    rejection_id = str(event.originator_id)
    correlation_id = event.record_id or f"{event.inbox_stream}:{event.inbox_sequence}"
    errors = [FieldErrorV1(**e) for e in event.errors]
    integration = announce(
        event,
        event_type=SUBMISSION_REJECTED,
        event_id=event_id,
        producer=SERVICE,
        correlation_id=correlation_id,
        causation_id=correlation_id,
        payload=SubmissionRejectedV1(
            rejection_id=rejection_id,
            record_id=event.record_id,
            source=event.source,
            subject=event.subject,
            received_at=datetime.fromisoformat(event.received_at),
            errors=errors,
        ),
        subject=rejected_subject(event.source),
    )
    receipt = Receipt(
        record_id=event.record_id,
        accepted=False,
        errors=[ReceiptError(field=e.field, message=e.message) for e in errors],
    )
    dead_letter = OutgoingMessage(
        subject=f"fp.dlq.intake.rejected.{event.source}",
        body=json_bytes(
            {
                "service": SERVICE,
                "reason": "validation",
                "rejection_id": rejection_id,
                "stream": event.inbox_stream,
                "stream_sequence": event.inbox_sequence,
                "subject": event.subject,
                "record_id": event.record_id,
                "errors": event.errors,
                "raw": event.raw,  # encrypted: a rejected record may still hold personal data
            }
        ),
        message_id=f"{event_id}-dlq",
        headers=trace_headers(correlation_id, event_id),
    )
    return (integration, receipt_message(event.source, receipt, f"{event_id}-receipt"), dead_letter)
