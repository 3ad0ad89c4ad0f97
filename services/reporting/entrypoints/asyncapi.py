"""Reporting's AsyncAPI document: it receives, and sends only dead letters."""

from __future__ import annotations

from typing import Any

from services.reporting.entrypoints.routes import CONSUMERS
from shared.contracts.asyncapi import Channel, asyncapi_document, dead_letters
from shared.contracts.events.enforcement import CASE_OPENED_SUBJECT, CaseOpenedV1, CaseSharedV1, CaseUpdatedV1, case_change_subject, shared_subject
from shared.contracts.events.intake import SubmissionAcceptedV1, SubmissionRejectedV1, accepted_subject, rejected_subject
from shared.contracts.events.subsidy import (
    BENEFICIARY_EVENTS,
    SIGNAL_LINKED_SUBJECT,
    SIGNAL_RAISED_SUBJECT,
    PaymentChangedV1,
    PaymentCycleV1,
    SubsidySignalLinkedV1,
    SubsidySignalV1,
    payment_cycle_subject,
    payment_subject,
)
from shared.contracts.events.verification import (
    APPLICATION_OPENED_SUBJECT,
    FALSIFICATION_SIGNAL_SUBJECT,
    STEP_EVENTS,
    ApplicationOpenedV1,
    FalsificationSignalV1,
)


def document() -> dict[str, Any]:
    # Its durables read the three services' whole streams (fp.intake.>, fp.verification.>,
    # fp.enforcement.>): every event they announce arrives here, including those no read
    # model uses yet (acknowledged without effect).
    receives = [
        Channel(accepted_subject("{kind}"), "intake.submission.accepted.v1", SubmissionAcceptedV1),
        Channel(rejected_subject("{source}"), "intake.submission.rejected.v1", SubmissionRejectedV1),
        Channel(APPLICATION_OPENED_SUBJECT, "verification.application.opened.v1", ApplicationOpenedV1),
        *(Channel(subject, f"{name}.v1", model) for name, (subject, model) in STEP_EVENTS.items()),
        Channel(FALSIFICATION_SIGNAL_SUBJECT, "verification.application.falsification_signal.v1", FalsificationSignalV1),
        # 扶助资金对账: payments and enrolments by township, and signals with their cases
        Channel(payment_cycle_subject("{change}"), "verification.payment_cycle.changed.v1", PaymentCycleV1),
        Channel(payment_subject("{change}"), "verification.payment.changed.v1", PaymentChangedV1),
        *(Channel(subject, f"{name}.v1", model) for name, (subject, model) in BENEFICIARY_EVENTS.items()),
        Channel(SIGNAL_RAISED_SUBJECT, "verification.subsidy.signal_raised.v1", SubsidySignalV1),
        Channel(SIGNAL_LINKED_SUBJECT, "verification.subsidy.signal_linked.v1", SubsidySignalLinkedV1),
        Channel(CASE_OPENED_SUBJECT, "enforcement.case.opened.v1", CaseOpenedV1),
        Channel(case_change_subject("{change}"), "enforcement.case.updated.v1", CaseUpdatedV1),
        Channel(shared_subject("{agency}"), "enforcement.case.shared.v1", CaseSharedV1),
    ]
    return asyncapi_document("reporting", "Read models, reports and audit", receives, dead_letters("reporting", CONSUMERS))
