"""Reporting's AsyncAPI document: it only receives."""

from __future__ import annotations

from typing import Any

from shared.contracts.asyncapi import Channel, asyncapi_document
from shared.contracts.events.enforcement import CASE_OPENED_SUBJECT, CaseOpenedV1
from shared.contracts.events.intake import SubmissionAcceptedV1, SubmissionRejectedV1, accepted_subject, rejected_subject
from shared.contracts.events.verification import APPLICATION_OPENED_SUBJECT, ApplicationOpenedV1


def document() -> dict[str, Any]:
    receives = [
        Channel(accepted_subject("{kind}"), "intake.submission.accepted.v1", SubmissionAcceptedV1),
        Channel(rejected_subject("{source}"), "intake.submission.rejected.v1", SubmissionRejectedV1),
        Channel(APPLICATION_OPENED_SUBJECT, "verification.application.opened.v1", ApplicationOpenedV1),
        Channel(CASE_OPENED_SUBJECT, "enforcement.case.opened.v1", CaseOpenedV1),
    ]
    return asyncapi_document("reporting", "Read models, reports and audit", receives, [])
