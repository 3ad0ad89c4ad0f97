"""Enforcement's AsyncAPI document."""

from __future__ import annotations

from typing import Any

from services.enforcement.entrypoints.routes import INTAKE_CONSUMER, PULLED
from shared.contracts.asyncapi import Channel, asyncapi_document, dead_letters
from shared.contracts.events.enforcement import CASE_OPENED_SUBJECT, CaseOpenedV1, CaseSharedV1, CaseUpdatedV1
from shared.contracts.events.intake import SubmissionAcceptedV1
from shared.contracts.events.subsidy import SIGNAL_RAISED_SUBJECT, SubsidySignalV1
from shared.contracts.events.verification import FALSIFICATION_SIGNAL_SUBJECT, FalsificationSignalV1

RECEIVED = {
    "hotline.tip.received": "Accepted hotline tips open cases",
    "petitions.petition.received": "Accepted petitions open cases with a statutory answer date",
    "health.ultrasound.recorded": "Ultrasound scans, remembered by patient person_ref for the detectors",
    "health.termination.recorded": "Terminations: late-without-indication and scan-then-termination signals",
    "drug.sale.recorded": "Termination-drug sales without prescription, per sale and per outlet volume",
    "police.birth.registered": "Births linked to the mother's last scan: sex ratio per facility and operator",
}


def document() -> dict[str, Any]:
    receives = [
        Channel(subject, "intake.submission.accepted.v1", SubmissionAcceptedV1, RECEIVED[subject.removeprefix("fp.intake.accepted.")])
        for subject in INTAKE_CONSUMER.filter_subjects
    ]
    receives.append(Channel(SIGNAL_RAISED_SUBJECT, "verification.subsidy.signal_raised.v1", SubsidySignalV1, "Subsidy signals (虚报, 冒领, 克扣…) open a subsidy-fraud case for their subject, or join it"))
    receives.append(Channel(FALSIFICATION_SIGNAL_SUBJECT, "verification.application.falsification_signal.v1", FalsificationSignalV1,
                            "Falsification signals (弄虚作假) open a falsification case for their application, or join it (a closed one reopens)"))
    sends = [
        Channel(CASE_OPENED_SUBJECT, "enforcement.case.opened.v1", CaseOpenedV1, "A case was opened (the enforcement team's case stream)"),
        Channel("fp.enforcement.case.{change}", "enforcement.case.updated.v1", CaseUpdatedV1, "Every later change of a case: triaged, assigned, evidence_recorded, joint_operation_requested, disclosed, agency_responded, referred, concluded, closed, reopened, fee_recorded, signal_joined, deadline_nearing, deadline_breached"),
        Channel("fp.enforcement.shared.{agency}", "enforcement.case.shared.v1", CaseSharedV1, "A case shared with an agency (police, health, drug), redacted for its role"),
        *dead_letters("enforcement", PULLED),
    ]
    return asyncapi_document("enforcement", "Cases from tips, petitions and signals; joint operations", receives, sends)
