"""Enforcement's routing table: what it consumes and which use case decides."""

from __future__ import annotations

from services.enforcement.application.cases import open_case_from_tip
from shared.contracts.events.intake import accepted_subject
from shared.messaging.topology import ConsumerSpec

INTAKE_CONSUMER = ConsumerSpec(
    stream="FP_INTAKE",
    durable="enforcement",
    filter_subjects=(accepted_subject("hotline.tip.received"),),
    description="Accepted hotline tips open cases",
)

CONSUMERS = (INTAKE_CONSUMER,)

ROUTES = {
    accepted_subject("hotline.tip.received"): open_case_from_tip,
}
