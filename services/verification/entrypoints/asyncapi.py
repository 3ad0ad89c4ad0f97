"""Verification's AsyncAPI document."""

from __future__ import annotations

from typing import Any

from shared.contracts.asyncapi import Channel, asyncapi_document
from shared.contracts.events.intake import SubmissionAcceptedV1, accepted_subject
from shared.contracts.events.verification import (
    APPLICATION_OPENED_SUBJECT,
    STEP_EVENTS,
    ApplicationOpenedV1,
)

DESCRIPTIONS = {
    "verification.application.checked": "The automatic checks ran; each finding cites its policy rule",
    "verification.application.information_requested": "More information was asked of the applicant (the clock stops)",
    "verification.application.information_supplied": "The applicant supplied it (the clock runs again)",
    "verification.application.approved": "Approved, citing the rules it rests on",
    "verification.application.refused": "Refused, with reasons citing the rules",
    "verification.application.published": "The decision was published on the online service hall",
    "verification.application.withdrawn": "The applicant withdrew the application",
    "verification.application.overdue_warning": "The time limit (受理时限) is near or breached",
    "verification.application.satisfaction_attached": "A citizen's satisfaction rating, attached to the application",
    "verification.certificate.issued": "A certificate was issued (number sequential per kind and year)",
    "verification.certificate.revoked": "The approval was revoked after proven falsification (enforcement case)",
}


def document() -> dict[str, Any]:
    receives = [
        Channel(accepted_subject("township.application.submitted"), "intake.submission.accepted.v1", SubmissionAcceptedV1, "Accepted township applications"),
        Channel(accepted_subject("online_hall.satisfaction.rated"), "intake.submission.accepted.v1", SubmissionAcceptedV1, "Citizens' satisfaction ratings"),
    ]
    sends = [Channel(APPLICATION_OPENED_SUBJECT, "verification.application.opened.v1", ApplicationOpenedV1, "An application file was opened")]
    sends += [Channel(subject, f"{name}.v1", model, DESCRIPTIONS[name]) for name, (subject, model) in STEP_EVENTS.items()]
    return asyncapi_document("verification", "Applications, certificates, subsidies and their cross-checks", receives, sends)
