"""What verification announces for each event in its store.

A step event carries only what the step added; the application's kind, township and
section come from the file as it stood at that event (read from the store), so the
announcement is the same however often the relay republishes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from services.verification.adapters.subsidy_outbox import translate_subsidy
from services.verification.domain.application_file import ApplicationFile
from services.verification.domain.falsification import FalsificationSignal
from shared.contracts.events.verification import (
    APPLICATION_OPENED,
    APPLICATION_OPENED_SUBJECT,
    FALSIFICATION_SIGNAL,
    FALSIFICATION_SIGNAL_SUBJECT,
    STEP_EVENTS,
    STEP_TYPES,
    ApplicationOpenedV1,
    FalsificationSignalV1,
)
from shared.contracts.integration import OutgoingMessage, announce
from shared.eventstore.application import ServiceApplication
from shared.eventstore.states import StatesAfter

SERVICE = "verification"


def _checked(e: Any, _: ApplicationFile) -> dict[str, Any]:
    blocking = any(f["outcome"] in ("fail", "missing") for f in e.findings)
    return {"policy_version": e.policy_version, "time_limit_working_days": e.time_limit, "findings": e.findings, "blocking": blocking}


# domain event class name -> (integration event type, the step's day, its own fields)
STEPS: dict[str, tuple[str, str, Callable[[Any, ApplicationFile], dict[str, Any]]]] = {
    "DocumentsChecked": ("verification.application.checked", "checked_on", _checked),
    "InformationRequested": ("verification.application.information_requested", "requested_on", lambda e, _: {"items": e.items}),
    "InformationSupplied": ("verification.application.information_supplied", "supplied_on", lambda e, _: {"documents": e.documents}),
    "Approved": ("verification.application.approved", "decided_on", lambda e, _: {"policy_version": e.policy_version, "rules": e.rules}),
    "Refused": ("verification.application.refused", "decided_on", lambda e, _: {"policy_version": e.policy_version, "reasons": e.reasons}),
    "Published": ("verification.application.published", "published_on", lambda e, f: {"decision": f.decision["outcome"]}),
    "Withdrawn": ("verification.application.withdrawn", "withdrawn_on", lambda e, _: {"reason": e.reason}),
    "OverdueWarningRaised": ("verification.application.overdue_warning", "as_of", lambda e, _: {"due_on": e.due_on, "working_days_left": e.working_days_left}),
    "SatisfactionRated": ("verification.application.satisfaction_attached", "rated_on", lambda e, _: {"score": e.score, "submission_id": e.submission_id}),
    "CertificateIssued": ("verification.certificate.issued", "issued_on", lambda e, _: {"certificate_no": e.certificate_no}),
    "Revoked": ("verification.certificate.revoked", "revoked_on", lambda e, f: {
        "reason": e.reason, "enforcement_case": e.enforcement_case, "certificate_no": (f.certificate or {}).get("number")}),
}


def make_translate(store: ServiceApplication) -> Callable[[int, Any], Sequence[OutgoingMessage]]:
    state_after = StatesAfter(store)

    def translate(notification_id: int, event: Any) -> Sequence[OutgoingMessage]:
        kind, _, name = type(event).__qualname__.partition(".")
        if kind == "ApplicationFile":
            # Every event of a file goes through state_after, announced or not: the file's
            # next event then costs one mutate, not a replay from the store (those replays
            # were a twentieth of verification's CPU at 500 records/s, py-spy).
            file = state_after(event)
            if isinstance(event, ApplicationFile.Opened):
                return (opened(notification_id, event),)
            return (step(notification_id, event, file, *STEPS[name]),) if name in STEPS else ()
        if isinstance(event, (FalsificationSignal.Raised, FalsificationSignal.EvidenceJoined)):
            return (falsification(notification_id, event, state_after(event)),)
        return translate_subsidy(state_after, notification_id, event) or ()

    return translate


def step(notification_id: int, event: Any, file: ApplicationFile, type_name: str, day: str,
         fields: Callable[[Any, ApplicationFile], dict[str, Any]]) -> OutgoingMessage:
    officer = getattr(event, "officer", None) or {}
    subject, model = STEP_EVENTS[type_name]
    payload = model(
        application_id=file.application_id, application_kind=file.application_kind, township_code=file.township_code,
        section=file.section, on=getattr(event, day), officer_id=officer.get("id"), officer_section=officer.get("section"),
        **fields(event, file),
    )
    return announce(
        event,
        event_type=STEP_TYPES[type_name],
        event_id=f"{SERVICE}-{notification_id}",
        producer=SERVICE,
        correlation_id=file.record_id,
        causation_id=f"officer:{officer['id']}" if officer else getattr(event, "submission_id", file.submission_ids[-1]),
        payload=payload,
        subject=subject,
    )


def opened(notification_id: int, event: Any) -> OutgoingMessage:
    return announce(
        event,
        event_type=APPLICATION_OPENED,
        event_id=f"{SERVICE}-{notification_id}",
        producer=SERVICE,
        correlation_id=event.record_id,
        causation_id=event.submission_id,
        payload=ApplicationOpenedV1(
            application_id=event.application_id,
            application_kind=event.application_kind,
            township_code=event.township_code,
            section=event.section,
            submission_id=event.submission_id,
            received_on=event.received_on,
            applicant_ref=event.applicant_ref,
            spouse_ref=event.spouse_ref,
            opened_at=event.timestamp,
        ),
        subject=APPLICATION_OPENED_SUBJECT,
    )


def falsification(notification_id: int, event: Any, signal: FalsificationSignal) -> OutgoingMessage:
    """Raised, and again (same signal_id, all its evidence) when new evidence joins it."""
    return announce(
        event,
        event_type=FALSIFICATION_SIGNAL,
        event_id=f"{SERVICE}-{notification_id}",
        producer=SERVICE,
        correlation_id=signal.application_id,
        causation_id=signal.evidence[-1] if signal.evidence else signal.application_id,
        payload=FalsificationSignalV1(
            signal_id=signal.signal_id, pattern=signal.pattern, application_id=signal.application_id,
            application_kind=signal.application_kind, township_code=signal.township_code, subject=signal.subject,
            evidence=signal.evidence, person_refs=signal.person_refs, detected_on=signal.detected_on, summary=signal.summary,
        ),
        subject=FALSIFICATION_SIGNAL_SUBJECT,
    )
