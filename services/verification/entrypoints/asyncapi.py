"""Verification's AsyncAPI document."""

from __future__ import annotations

from typing import Any

from shared.contracts.asyncapi import Channel, asyncapi_document
from shared.contracts.events.intake import SubmissionAcceptedV1, accepted_subject
from shared.contracts.events.verification import APPLICATION_OPENED_SUBJECT, ApplicationOpenedV1


def document() -> dict[str, Any]:
    receives = [Channel(accepted_subject("township.application.submitted"), "intake.submission.accepted.v1", SubmissionAcceptedV1, "Accepted township applications")]
    sends = [Channel(APPLICATION_OPENED_SUBJECT, "verification.application.opened.v1", ApplicationOpenedV1, "An application file was opened")]
    return asyncapi_document("verification", "Applications, certificates, subsidies and their cross-checks", receives, sends)
