"""Enforcement's AsyncAPI document."""

from __future__ import annotations

from typing import Any

from shared.contracts.asyncapi import Channel, asyncapi_document
from shared.contracts.events.enforcement import CASE_OPENED_SUBJECT, CaseOpenedV1
from shared.contracts.events.intake import SubmissionAcceptedV1, accepted_subject


def document() -> dict[str, Any]:
    receives = [Channel(accepted_subject("hotline.tip.received"), "intake.submission.accepted.v1", SubmissionAcceptedV1, "Accepted hotline tips")]
    sends = [Channel(CASE_OPENED_SUBJECT, "enforcement.case.opened.v1", CaseOpenedV1, "A case was opened (the enforcement team's case stream)")]
    return asyncapi_document("enforcement", "Cases from tips, petitions and signals; joint operations", receives, sends)
