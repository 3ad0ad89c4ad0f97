"""Integration events published by verification (subjects fp.verification.>).

Every step of an application's life is announced with the application, its kind,
township and owning section, the day it happened (`on`, the officer's date) and the
officer and section who acted (null for automatic steps). No personal data travels:
people are person_refs, and findings and reasons name rules, not values.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.contracts.integration import EventType, register


class ApplicationOpenedV1(BaseModel):
    application_id: str
    application_kind: str
    township_code: str
    section: str
    submission_id: str
    received_on: str
    applicant_ref: str
    spouse_ref: str | None
    opened_at: datetime


class ApplicationStepV1(BaseModel):
    application_id: str
    application_kind: str
    township_code: str
    section: str = Field(description="The owning section (责任科室) of the application")
    on: str = Field(description="The day of the step (YYYY-MM-DD, China time)")
    officer_id: str | None = Field(description="Who acted; null for an automatic step")
    officer_section: str | None


class FindingV1(BaseModel):
    rule: str = Field(description="Rule id in the policy table, e.g. RB-2")
    outcome: str = Field(description="pass | fail | missing | flag")
    message: str


class ApplicationCheckedV1(ApplicationStepV1):
    policy_version: str
    time_limit_working_days: int
    findings: list[FindingV1]
    blocking: bool = Field(description="Some finding (fail or missing) prevents approval")


class InformationRequestedV1(ApplicationStepV1):
    items: list[str] = Field(description="What the applicant must supply; the clock stops")


class InformationSuppliedV1(ApplicationStepV1):
    documents: list[str] = Field(description="What was supplied; the clock runs again")


class ApplicationApprovedV1(ApplicationStepV1):
    policy_version: str | None
    rules: list[str] = Field(description="The rules the approval rests on")


class ReasonV1(BaseModel):
    rule: str
    message: str


class ApplicationRefusedV1(ApplicationStepV1):
    policy_version: str | None
    reasons: list[ReasonV1]


class DecisionPublishedV1(ApplicationStepV1):
    decision: str = Field(description="approved | refused, as published on the online service hall")


class CertificateIssuedV1(ApplicationStepV1):
    certificate_no: str = Field(description="<county>-<kind prefix>-<year>-<sequence>, sequential per kind and year")


class ApplicationWithdrawnV1(ApplicationStepV1):
    reason: str | None


class DecisionRevokedV1(ApplicationStepV1):
    reason: str
    enforcement_case: str = Field(description="The enforcement case that proved the falsification")
    certificate_no: str | None


class OverdueWarningV1(ApplicationStepV1):
    due_on: str
    working_days_left: int = Field(description="Negative once the time limit is breached")


class SatisfactionAttachedV1(ApplicationStepV1):
    score: int = Field(ge=1, le=5)
    submission_id: str


APPLICATION_OPENED = register(EventType("verification.application.opened", 1, ApplicationOpenedV1))
APPLICATION_OPENED_SUBJECT = "fp.verification.application.opened"

# event type name -> (subject, payload model); each at version 1
STEP_EVENTS: dict[str, tuple[str, type[ApplicationStepV1]]] = {
    "verification.application.checked": ("fp.verification.application.checked", ApplicationCheckedV1),
    "verification.application.information_requested": ("fp.verification.application.information_requested", InformationRequestedV1),
    "verification.application.information_supplied": ("fp.verification.application.information_supplied", InformationSuppliedV1),
    "verification.application.approved": ("fp.verification.application.approved", ApplicationApprovedV1),
    "verification.application.refused": ("fp.verification.application.refused", ApplicationRefusedV1),
    "verification.application.published": ("fp.verification.application.published", DecisionPublishedV1),
    "verification.application.withdrawn": ("fp.verification.application.withdrawn", ApplicationWithdrawnV1),
    "verification.application.overdue_warning": ("fp.verification.application.overdue_warning", OverdueWarningV1),
    "verification.application.satisfaction_attached": ("fp.verification.application.satisfaction_attached", SatisfactionAttachedV1),
    "verification.certificate.issued": ("fp.verification.certificate.issued", CertificateIssuedV1),
    "verification.certificate.revoked": ("fp.verification.certificate.revoked", DecisionRevokedV1),
}
STEP_TYPES: dict[str, EventType] = {name: register(EventType(name, 1, model)) for name, (_, model) in STEP_EVENTS.items()}

# Falsification signals (弄虚作假): an application's own record contradicts another record
# the bureau holds. Enforcement opens a case per subject (or joins the one it has);
# the same pattern on the same application is one signal.
FALSIFICATION_PATTERNS = {
    "certificate_already_held": "证件已由他人持有",  # the child, card or exam qualification is already held under another application
    "declared_children_mismatch": "申报子女与登记不符",  # declared existing children contradict police birth or death records
}


class FalsificationSignalV1(BaseModel):
    signal_id: str = Field(description="FS-<12 upper-case hex>; the same pattern on the same application is one signal")
    pattern: str = Field(description=" | ".join(FALSIFICATION_PATTERNS))
    application_id: str
    application_kind: str
    township_code: str
    subject: str = Field(description="application:<application_id>")
    evidence: list[str] = Field(description="Integration event ids the signal rests on")
    person_refs: list[str]
    detected_on: str = Field(description="YYYY-MM-DD, China time")
    summary: str = Field(description="One line, no personal data (Chinese)")


FALSIFICATION_SIGNAL = register(EventType("verification.application.falsification_signal", 1, FalsificationSignalV1))
FALSIFICATION_SIGNAL_SUBJECT = "fp.verification.application.falsification_signal"
