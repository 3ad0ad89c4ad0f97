"""Verification's use cases for applications (pure decisions over loaded aggregates)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from services.verification.domain.application_file import ApplicationFile, application_file_id
from shared.contracts.events.intake import SubmissionAcceptedV1
from shared.contracts.integration import ReceivedEvent

Find = Callable[[UUID], Any]


def open_application(received: ReceivedEvent, find: Find) -> Sequence[ApplicationFile]:
    """An accepted `application.submitted` opens its application file once."""
    submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
    data = submission.data
    existing: ApplicationFile | None = find(application_file_id(data["application_id"]))
    if existing is not None:
        if submission.submission_id in existing.submission_ids:
            return ()
        existing.note_resubmission(submission.submission_id)
        return (existing,)
    return (
        ApplicationFile(
            application_id=data["application_id"],
            application_kind=data["kind"],
            township_code=submission.township_code or "",
            section=submission.section,
            submission_id=submission.submission_id,
            record_id=submission.record_id,
            received_on=data["received_on"],
            applicant_ref=submission.person_refs["applicant_id_number"],
            spouse_ref=submission.person_refs.get("spouse_id_number"),
            details=data.get("details"),
        ),
    )
