"""Enforcement's use cases (pure decisions over loaded aggregates)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from services.enforcement.domain.case import Case, case_id_for, case_number
from shared.contracts.events.intake import SubmissionAcceptedV1
from shared.contracts.integration import ReceivedEvent

Find = Callable[[UUID], Any]


def open_case_from_tip(received: ReceivedEvent, find: Find) -> Sequence[Case]:
    """A hotline tip opens one case, owned by the section the duty register names."""
    submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
    if find(case_id_for("hotline_tip", submission.submission_id)) is not None:
        return ()
    data = submission.data
    year = datetime.fromisoformat(str(submission.occurred_at)).year
    return (
        Case(
            origin="hotline_tip",
            source_ref=submission.submission_id,
            case_number=case_number(year, case_id_for("hotline_tip", submission.submission_id)),
            category=data["category"],
            township_code=data.get("township_code"),
            anonymous=bool(data["anonymous"]),
            channel=data["channel"],
            section=submission.section,
            record_id=submission.record_id,
            summary=data.get("text"),
        ),
    )
