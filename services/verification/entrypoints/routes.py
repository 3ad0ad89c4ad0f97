"""Verification's routing table: what it consumes and which use case decides."""

from __future__ import annotations

from services.verification.application.applications import open_application
from shared.contracts.events.intake import accepted_subject
from shared.messaging.topology import ConsumerSpec

INTAKE_CONSUMER = ConsumerSpec(
    stream="FP_INTAKE",
    durable="verification",
    filter_subjects=(accepted_subject("township.application.submitted"),),
    description="Accepted applications open application files",
)

CONSUMERS = (INTAKE_CONSUMER,)

# subject -> decide(received, find) for the integration events verification handles
ROUTES = {
    accepted_subject("township.application.submitted"): open_application,
}
