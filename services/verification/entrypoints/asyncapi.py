"""Verification's AsyncAPI document."""

from __future__ import annotations

from typing import Any

from services.verification.entrypoints.routes import CONSUMERS
from shared.contracts.asyncapi import Channel, asyncapi_document, dead_letters
from shared.contracts.events.enforcement import CASE_OPENED_SUBJECT, CaseOpenedV1, CaseUpdatedV1, case_change_subject
from shared.contracts.events.intake import SubmissionAcceptedV1, accepted_subject
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
    "verification.beneficiary.reported": "A township reported a beneficiary of reward or special assistance for a year",
    "verification.beneficiary.checked": "The automatic eligibility check ran; each finding cites its subsidy policy rule",
    "verification.beneficiary.confirmed": "The county confirmed the enrolment, with the year's amount (unconfirmed ones are not paid)",
    "verification.beneficiary.refused": "The enrolment was refused (automatically on a failed rule, or by an officer), citing rules",
    "verification.beneficiary.suspended": "No payment from effective_on: death, pension roll, or proven fraud",
    "verification.beneficiary.reinstated": "The suspension ended (an officer with a reason, or the pension roll active again)",
}
SUBSIDY_RECEIVED = {
    "township.beneficiary.reported": "Townships' beneficiary reports (enrolment per program and year)",
    "health.death.reported": "Death reports: suspend, and look back for payments after the death",
    "pension.status.changed": "The rural pension roll (新农保): deceased and suspended suspend, active reinstates",
    "township.followup.recorded": "Follow-ups: what the beneficiary confirms having received (shortfall: skimming signal)",
}


def document() -> dict[str, Any]:
    receives = [
        Channel(accepted_subject("township.application.submitted"), "intake.submission.accepted.v1", SubmissionAcceptedV1, "Accepted township applications"),
        Channel(accepted_subject("online_hall.satisfaction.rated"), "intake.submission.accepted.v1", SubmissionAcceptedV1, "Citizens' satisfaction ratings"),
    ]
    receives += [Channel(accepted_subject(kind), "intake.submission.accepted.v1", SubmissionAcceptedV1, text) for kind, text in SUBSIDY_RECEIVED.items()]
    receives += [
        Channel(CASE_OPENED_SUBJECT, "enforcement.case.opened.v1", CaseOpenedV1, "A case opened from a subsidy signal (signal_id) links back to it"),
        Channel(case_change_subject("signal_joined"), "enforcement.case.updated.v1", CaseUpdatedV1, "A subsidy signal joined an existing case (details.signal_id)"),
    ]
    receives += [Channel(case_change_subject(change), "enforcement.case.updated.v1", CaseUpdatedV1,
                         f"A case was {change}: its status, kept with the known cases a revocation must name")
                 for change in ("concluded", "closed", "reopened")]
    sends = [Channel(APPLICATION_OPENED_SUBJECT, "verification.application.opened.v1", ApplicationOpenedV1, "An application file was opened")]
    sends += [Channel(subject, f"{name}.v1", model, DESCRIPTIONS[name]) for name, (subject, model) in STEP_EVENTS.items()]
    sends += [Channel(subject, f"{name}.v1", model, DESCRIPTIONS[name]) for name, (subject, model) in BENEFICIARY_EVENTS.items()]
    sends += [
        Channel(payment_cycle_subject("{change}"), "verification.payment_cycle.changed.v1", PaymentCycleV1,
                "A yearly payment cycle changed: created, computed (one township at a time), approved, closed"),
        Channel(payment_subject("{change}"), "verification.payment.changed.v1", PaymentChangedV1,
                "A payment changed: scheduled, approved, disbursed, withheld, returned, failed, reissued, followed_up; with its bucket"),
        Channel(SIGNAL_RAISED_SUBJECT, "verification.subsidy.signal_raised.v1", SubsidySignalV1,
                "A cross-check found a pattern (虚报, 冒领, 克扣); new evidence on the same subject is announced again under the same signal_id"),
        Channel(SIGNAL_LINKED_SUBJECT, "verification.subsidy.signal_linked.v1", SubsidySignalLinkedV1, "The enforcement case a signal became"),
        Channel(FALSIFICATION_SIGNAL_SUBJECT, "verification.application.falsification_signal.v1", FalsificationSignalV1,
                "An application's record contradicts another record the bureau holds (弄虚作假)"),
        *dead_letters("verification", CONSUMERS),
    ]
    return asyncapi_document("verification", "Applications, certificates, subsidies and their cross-checks", receives, sends)
