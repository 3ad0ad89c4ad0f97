"""Verification's routing table: what it consumes and which use case decides."""

from __future__ import annotations

from collections.abc import Mapping

from services.verification.application import case_links, life_events
from services.verification.application.applications import Applications
from services.verification.application.subsidies import Subsidies
from shared.contracts.events.enforcement import CASE_OPENED_SUBJECT, case_change_subject
from shared.contracts.events.intake import accepted_subject
from shared.messaging.event_handler import Decide
from shared.messaging.topology import ConsumerSpec

APPLICATION_SUBMITTED = accepted_subject("township.application.submitted")
SATISFACTION_RATED = accepted_subject("online_hall.satisfaction.rated")
BENEFICIARY_REPORTED = accepted_subject("township.beneficiary.reported")
DEATH_REPORTED = accepted_subject("health.death.reported")
PENSION_CHANGED = accepted_subject("pension.status.changed")
FOLLOWUP_RECORDED = accepted_subject("township.followup.recorded")
CASE_OPENED = CASE_OPENED_SUBJECT
SIGNAL_JOINED = case_change_subject("signal_joined")
# The changes of a case's status a revocation cares about (is the case still known, and how did it end).
CASE_STATUS_CHANGES = tuple(case_change_subject(change) for change in ("concluded", "closed", "reopened"))

INTAKE_CONSUMER = ConsumerSpec(
    stream="FP_INTAKE",
    durable="verification",
    filter_subjects=(APPLICATION_SUBMITTED, SATISFACTION_RATED, BENEFICIARY_REPORTED, DEATH_REPORTED, PENSION_CHANGED, FOLLOWUP_RECORDED),
    description="Applications open files, ratings attach to them; subsidy reports, deaths, pension-roll changes and follow-ups feed the subsidy roll and its cross-checks",
)
ENFORCEMENT_CONSUMER = ConsumerSpec(
    stream="FP_ENFORCEMENT",
    durable="verification-enforcement",
    filter_subjects=(CASE_OPENED, SIGNAL_JOINED, *CASE_STATUS_CHANGES),
    description="Known enforcement cases (a revocation must name one) and their status; cases opened from (or joined by) a subsidy signal link back to the signal",
)

CONSUMERS = (INTAKE_CONSUMER, ENFORCEMENT_CONSUMER)

# subject -> the Applications use case (decide(received, find)) that handles it
ROUTES = {
    APPLICATION_SUBMITTED: "open_application",
    SATISFACTION_RATED: "rate_application",
}
# subject -> the Subsidies use case
SUBSIDY_ROUTES = {
    BENEFICIARY_REPORTED: "report_beneficiary",
    FOLLOWUP_RECORDED: "record_followup",
}
LIFE_EVENT_ROUTES: dict[str, Decide] = {
    DEATH_REPORTED: life_events.record_death,
    PENSION_CHANGED: life_events.record_pension_status,
}
ENFORCEMENT_ROUTES: dict[str, Decide] = {
    CASE_OPENED: case_links.on_case_event,
    SIGNAL_JOINED: case_links.on_case_event,
    **dict.fromkeys(CASE_STATUS_CHANGES, case_links.note_case),
}


def bind(applications: Applications, subsidies: Subsidies | None = None) -> Mapping[str, Decide]:
    """The intake consumer's routes (applications only when no subsidy use case is given)."""
    routes: dict[str, Decide] = {subject: getattr(applications, name) for subject, name in ROUTES.items()}
    if subsidies is not None:
        routes.update({subject: getattr(subsidies, name) for subject, name in SUBSIDY_ROUTES.items()})
        routes.update(LIFE_EVENT_ROUTES)
    return routes
