"""Verification's routing table: what it consumes and which use case decides."""

from __future__ import annotations

from collections.abc import Mapping

from services.verification.application.applications import Applications
from shared.contracts.events.intake import accepted_subject
from shared.messaging.event_handler import Decide
from shared.messaging.topology import ConsumerSpec

APPLICATION_SUBMITTED = accepted_subject("township.application.submitted")
SATISFACTION_RATED = accepted_subject("online_hall.satisfaction.rated")

INTAKE_CONSUMER = ConsumerSpec(
    stream="FP_INTAKE",
    durable="verification",
    filter_subjects=(APPLICATION_SUBMITTED, SATISFACTION_RATED),
    description="Accepted applications open application files; satisfaction ratings are attached to them",
)

CONSUMERS = (INTAKE_CONSUMER,)

# subject -> the Applications use case (decide(received, find)) that handles it
ROUTES = {
    APPLICATION_SUBMITTED: "open_application",
    SATISFACTION_RATED: "rate_application",
}


def bind(applications: Applications) -> Mapping[str, Decide]:
    return {subject: getattr(applications, name) for subject, name in ROUTES.items()}
