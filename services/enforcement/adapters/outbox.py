"""What enforcement announces for each event in its store (fp.enforcement.case.*)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.enforcement.domain.case import Case
from shared.contracts.events.enforcement import CASE_OPENED, CASE_OPENED_SUBJECT, CaseOpenedV1
from shared.contracts.integration import OutgoingMessage, make_event

SERVICE = "enforcement"


def translate(notification_id: int, event: Any) -> Sequence[OutgoingMessage]:
    if isinstance(event, Case.Opened):
        case_id = str(event.originator_id)
        return (
            make_event(
                event_type=CASE_OPENED,
                event_id=f"{SERVICE}-{notification_id}",
                producer=SERVICE,
                aggregate_id=case_id,
                aggregate_version=event.originator_version,
                occurred_at=event.timestamp,
                correlation_id=event.record_id,
                causation_id=event.source_ref,
                payload=CaseOpenedV1(
                    case_id=case_id,
                    case_number=event.case_number,
                    origin=event.origin,
                    category=event.category,
                    township_code=event.township_code,
                    anonymous=event.anonymous,
                    section=event.section,
                    submission_id=event.source_ref,
                    opened_at=event.timestamp,
                ),
                subject=CASE_OPENED_SUBJECT,
            ),
        )
    return ()
