"""Cases opened from the intake feeds (hotline tips and petitions) and from signals: pure decisions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from services.enforcement.domain.case import Case, anonymous_case_id, case_id_for, case_number
from services.enforcement.domain.deadlines import DeadlineRules, deadline_for
from shared.calendar import county_day
from shared.contracts.events.intake import SubmissionAcceptedV1
from shared.contracts.integration import ReceivedEvent

Find = Callable[[UUID], Any]


def signal_fields(signal: Any) -> dict[str, Any]:
    """What a case keeps of any signal verification sends (subsidy or falsification)."""
    return {
        "pattern": signal.pattern, "subject": signal.subject, "evidence": list(signal.evidence),
        "detected_on": signal.detected_on, "person_refs": list(signal.person_refs), "signal_id": signal.signal_id,
    }


def open_or_join_signal_case(
    find: Find, signal: dict[str, Any], *, category: str, section: str, township_code: str | None, subjects: dict[str, Any]
) -> Case | None:
    """The case a signal opens, or the one already open on its subject, which it joins (and
    reopens if closed); None when that case knows the signal already. One subject, one case:
    a repeat never becomes a second case."""
    case_id = case_id_for("signal", signal["subject"])
    case = find(case_id)
    if case is not None:
        return case if case.join_signal(signal) else None
    return Case(
        id=case_id, origin="signal", source_ref=signal["subject"], case_number=case_number(date.fromisoformat(signal["detected_on"]).year, case_id),
        category=category, township_code=township_code, anonymous=False, channel=None, section=section,
        record_id=None, summary=None, subjects=subjects, signal=signal,
    )


def tip_decider(anonymous_tip_key: bytes) -> Callable[[ReceivedEvent, Find], Sequence[Case]]:
    def open_case_from_tip(received: ReceivedEvent, find: Find) -> Sequence[Case]:
        """A hotline tip opens one case, owned by the section the duty register names.

        An anonymous tip keeps nothing that leads back to the tipster: not the hotline's
        record id, not the submission, not the channel (its text stays encrypted), and its
        case id is a keyed hash, so the submission id (on intake's stream) finds nothing."""
        submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
        data = submission.data
        anonymous = bool(data["anonymous"])
        if anonymous:
            case_id = anonymous_case_id(anonymous_tip_key, submission.submission_id)
        else:
            case_id = case_id_for("hotline_tip", submission.submission_id)
        if find(case_id) is not None:
            return ()
        return (
            Case(
                id=case_id,
                origin="hotline_tip",
                source_ref="" if anonymous else submission.submission_id,
                case_number=case_number(county_day(submission.occurred_at).year, case_id),
                category=data["category"],
                township_code=data.get("township_code"),
                anonymous=anonymous,
                channel=None if anonymous else data["channel"],
                section=submission.section,
                record_id=None if anonymous else submission.record_id,
                summary=data.get("text"),
            ),
        )

    return open_case_from_tip


def petition_decider(rules: DeadlineRules) -> Callable[[ReceivedEvent, Find], Sequence[Case]]:
    def open_case_from_petition(received: ReceivedEvent, find: Find) -> Sequence[Case]:
        """A petition (信访) opens a case whose answer is due within the statutory limit,
        counted in working days from the day the petitions office received it."""
        submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
        case_id = case_id_for("petition", submission.submission_id)
        if find(case_id) is not None:
            return ()
        data = submission.data
        petitioner = submission.person_refs.get("petitioner_id_number")
        received_on = county_day(submission.occurred_at)
        return (
            Case(
                id=case_id,
                origin="petition",
                source_ref=submission.submission_id,
                case_number=case_number(received_on.year, case_id),
                category="petition",
                township_code=data.get("township_code"),
                anonymous=False,
                channel=None,
                section=submission.section,
                record_id=submission.record_id,
                summary={"subject": data.get("subject"), "text": data.get("text")},
                subjects={"person_refs": [petitioner]} if petitioner else {},
                deadline=deadline_for("petition", received_on, rules),
            ),
        )

    return open_case_from_petition
