"""What verification announces for each event in its store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.verification.domain.application_file import ApplicationFile
from shared.contracts.events.verification import APPLICATION_OPENED, APPLICATION_OPENED_SUBJECT, ApplicationOpenedV1
from shared.contracts.integration import OutgoingMessage, make_event

SERVICE = "verification"


def translate(notification_id: int, event: Any) -> Sequence[OutgoingMessage]:
    if isinstance(event, ApplicationFile.Opened):
        return (
            make_event(
                event_type=APPLICATION_OPENED,
                event_id=f"{SERVICE}-{notification_id}",
                producer=SERVICE,
                aggregate_id=str(event.originator_id),
                aggregate_version=event.originator_version,
                occurred_at=event.timestamp,
                correlation_id=event.record_id,
                causation_id=event.submission_id,
                payload=ApplicationOpenedV1(
                    application_id=event.application_id,
                    application_kind=event.application_kind,
                    township_code=event.township_code,
                    section=event.section,
                    submission_id=event.submission_id,
                    received_on=event.received_on,
                    applicant_ref=event.applicant_ref,
                    spouse_ref=event.spouse_ref,
                    opened_at=event.timestamp,
                ),
                subject=APPLICATION_OPENED_SUBJECT,
            ),
        )
    return ()
