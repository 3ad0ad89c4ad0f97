"""The facts behind the league tables (通报), the cases summary and the scorecard. Pure.

No event carries how many working days an application took: only the day of each step.
So the projection keeps the steps that move an application's statutory clock (受理时限)
and a report replays the clock with the working calendar, as verification does.
Ratings and case milestones are copied as they arrive. Every value comes from the
event (never the clock), so a rebuild gives the same rows as the live projection.
"""

from __future__ import annotations

from typing import Any

from services.reporting.domain.projections import Change, Update, Upsert
from shared.contracts.events.enforcement import CaseOpenedV1, CaseUpdatedV1
from shared.contracts.events.verification import ApplicationCheckedV1, SatisfactionAttachedV1
from shared.contracts.inbound_models import CHINA_TIME
from shared.contracts.integration import ReceivedEvent

# Integration event type -> the clock step it is (started/re-checked, stopped, running again, ended).
CLOCK_STEPS = {
    "verification.application.checked": "checked",
    "verification.application.information_requested": "information_requested",
    "verification.application.information_supplied": "information_supplied",
    "verification.application.approved": "approved",
    "verification.application.refused": "refused",
    "verification.application.withdrawn": "withdrawn",
}


def performance_changes(received: ReceivedEvent) -> list[Change]:
    envelope, payload = received.envelope, received.payload
    step = CLOCK_STEPS.get(envelope.type)
    if step is not None:
        limit = payload.time_limit_working_days if isinstance(payload, ApplicationCheckedV1) else None
        return [
            Upsert(
                "rm_application_steps",
                # The application's own version orders its steps (two steps may share a day).
                {"application_id": payload.application_id, "step_version": envelope.aggregate_version},
                {"step": step, "step_on": payload.on, "township_code": payload.township_code, "section": payload.section,
                 "time_limit_working_days": limit},
            )
        ]
    match payload:
        case SatisfactionAttachedV1():
            return [
                Upsert(
                    "rm_ratings",
                    {"submission_id": payload.submission_id},
                    {"application_id": payload.application_id, "township_code": payload.township_code,
                     "section": payload.section, "score": payload.score, "rated_on": payload.on},
                )
            ]
        case CaseOpenedV1():
            opened_on = payload.opened_at.astimezone(CHINA_TIME).date().isoformat()
            return [Upsert("rm_case_milestones", {"case_id": payload.case_id}, {"opened_on": opened_on})]
        case CaseUpdatedV1():
            return [Update("rm_case_milestones", {"case_id": payload.case_id}, case_milestones(payload))]
    return []


def case_milestones(update: CaseUpdatedV1) -> dict[str, Any]:
    """The deadline (every update carries the current one) and what this change adds to it."""
    values: dict[str, Any] = {"due_on": update.due_on}
    day = update.details.get("as_of") or update.occurred_at.astimezone(CHINA_TIME).date().isoformat()
    if update.change == "deadline_nearing":
        values["nearing_on"] = day
    elif update.change == "deadline_breached":
        values["breached_on"] = day
    elif update.change == "concluded":
        values["concluded_on"] = update.details.get("concluded_on") or day
        values["substantiated"] = 1 if update.details.get("substantiated") else 0
    elif update.change == "reopened":  # the conclusion no longer stands
        values["concluded_on"], values["substantiated"] = None, None
    return values
