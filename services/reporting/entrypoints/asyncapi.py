"""Reporting's AsyncAPI document: it only receives."""

from __future__ import annotations

from typing import Any

from shared.contracts.asyncapi import Channel, asyncapi_document
from shared.contracts.events.enforcement import CASE_OPENED_SUBJECT, CaseOpenedV1
from shared.contracts.events.intake import SubmissionAcceptedV1, SubmissionRejectedV1, accepted_subject, rejected_subject
from shared.contracts.events.subsidy import (
    BENEFICIARY_EVENTS,
    SIGNAL_LINKED_SUBJECT,
    SIGNAL_RAISED_SUBJECT,
    PaymentChangedV1,
    SubsidySignalLinkedV1,
    SubsidySignalV1,
    payment_subject,
)
from shared.contracts.events.verification import APPLICATION_OPENED_SUBJECT, ApplicationOpenedV1


def document() -> dict[str, Any]:
    receives = [
        Channel(accepted_subject("{kind}"), "intake.submission.accepted.v1", SubmissionAcceptedV1),
        Channel(rejected_subject("{source}"), "intake.submission.rejected.v1", SubmissionRejectedV1),
        Channel(APPLICATION_OPENED_SUBJECT, "verification.application.opened.v1", ApplicationOpenedV1),
        Channel(CASE_OPENED_SUBJECT, "enforcement.case.opened.v1", CaseOpenedV1),
        # 扶助资金对账: payments and enrolments by township, and signals with their cases
        Channel(payment_subject("{change}"), "verification.payment.changed.v1", PaymentChangedV1),
        *(Channel(subject, f"{name}.v1", model) for name, (subject, model) in BENEFICIARY_EVENTS.items()),
        Channel(SIGNAL_RAISED_SUBJECT, "verification.subsidy.signal_raised.v1", SubsidySignalV1),
        Channel(SIGNAL_LINKED_SUBJECT, "verification.subsidy.signal_linked.v1", SubsidySignalLinkedV1),
    ]
    return asyncapi_document("reporting", "Read models, reports and audit", receives, [])
