"""An application file (申请件): one township application the county must decide.

Pure domain. Lifecycle (each step an event naming the officer and section):

    submitted ─▶ checked ─▶ information_requested ─▶ information_supplied ─▶ checked
       │            ├──▶ approved ─▶ published ─▶ certificate_issued ─▶ revoked
       │            └──▶ refused  ─▶ published
       └── withdrawn (by the applicant, before a decision)

Segregation of duties (decided here, documented in the README): the township officer
who filed an application, and any county officer who checked it or asked for more
information, may not approve or refuse it; an officer may not revoke a decision they
made. Dates (`on`) are inputs and never go backwards.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.verification.domain.errors import RuleViolation
from services.verification.domain.policy import blocking
from shared.ids import stable_id

APPLICATION_KINDS = {
    "rebirth_approval": "再生育审批",
    "first_child_registration": "第一个子女生育登记卡",
    "only_child_honor_certificate": "独生子女父母光荣证",
    "exam_bonus_qualification": "农村独生子女中高考加分资格",
}
OPEN = ("submitted", "checked", "information_requested", "information_supplied")
ENFORCEMENT_SECTION = "执法大队"
Officer = dict[str, str]  # {"id": ..., "section": ...}


def application_file_id(application_id: str) -> UUID:
    return stable_id("application", application_id)


class ApplicationFile(Aggregate):
    @staticmethod
    def create_id(application_id: str, **_: Any) -> UUID:
        return application_file_id(application_id)

    @event("Opened")
    def __init__(
        self,
        application_id: str,
        application_kind: str,
        township_code: str,
        section: str,
        submission_id: str,
        record_id: str,
        received_on: str,
        applicant_ref: str,
        spouse_ref: str | None,
        details: Any,
        submitted_on: str | None = None,
        submitted_by: str | None = None,
        intake_event_id: str | None = None,
    ) -> None:
        self.application_id = application_id
        self.application_kind = application_kind
        self.township_code = township_code
        self.section = section
        self.submission_ids = [submission_id]
        self.record_id = record_id  # the inbound record that opened it (correlation id)
        self.received_on = received_on
        self.applicant_ref = applicant_ref
        self.spouse_ref = spouse_ref
        self.details = details
        self.status = "submitted"
        self.submitted_on = submitted_on or received_on  # the county's clock starts here
        self.submitted_by = submitted_by  # the township officer who filed it
        self.intake_event_id = intake_event_id  # intake's accepted event: evidence a signal can cite
        self.last_acted_on = self.submitted_on
        self.policy_version: str | None = None
        self.time_limit: int | None = None
        self.findings: list[dict[str, str]] = []
        self.facts: dict[str, Any] = {}
        self.documents: list[str] = []
        self.pauses: list[list[str | None]] = []
        self.reviewers: list[str] = []
        self.decision: dict[str, Any] | None = None
        self.decided_by: str | None = None
        self.stopped_on: str | None = None
        self.published_on: str | None = None
        self.certificate: dict[str, Any] | None = None
        self.revocation: dict[str, Any] | None = None
        self.warned_due_dates: list[str] = []
        self.ratings: list[dict[str, Any]] = []

    # --- queries ------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def blocking_findings(self) -> list[dict[str, str]]:
        return blocking(self.findings)

    # --- guards -------------------------------------------------------------------

    def _expect(self, allowed: tuple[str, ...], action: str) -> None:
        if self.status not in allowed:
            raise RuleViolation("status", f"cannot {action} an application that is {self.status} (allowed when {' or '.join(allowed)})")

    def _expect_day(self, on: date) -> None:
        if on.isoformat() < self.last_acted_on:
            raise RuleViolation("on", f"{on} is before the application's last step ({self.last_acted_on})", 422)

    def _expect_owner(self, officer: Officer, action: str, also: tuple[str, ...] = ()) -> None:
        if officer["section"] != self.section and officer["section"] not in also:
            raise RuleViolation("officer.section", f"{officer['section']} may not {action}: {APPLICATION_KINDS.get(self.application_kind, self.application_kind)} belongs to {self.section}", 403)

    def _expect_independent_decider(self, officer: Officer) -> None:
        if self.submitted_by is not None and officer["id"] == self.submitted_by:
            raise RuleViolation("officer.id", "segregation of duties: the officer who filed the application may not decide it")
        if officer["id"] in self.reviewers:
            raise RuleViolation("officer.id", "segregation of duties: an officer who checked this application or asked for information may not decide it")

    # --- commands -----------------------------------------------------------------

    @event("ResubmissionNoted")
    def note_resubmission(self, submission_id: str) -> None:
        """The township sent the same application again under another record."""
        self.submission_ids = [*self.submission_ids, submission_id]

    def check_documents(self, policy_version: str, time_limit: int, findings: list[dict[str, str]], facts: dict[str, Any],
                        on: date, officer: Officer | None) -> None:
        self._expect(("submitted", "checked", "information_supplied"), "check")
        self._expect_day(on)
        if officer is not None:
            self._expect_owner(officer, "check it")
        self._documents_checked(policy_version=policy_version, time_limit=time_limit, findings=findings, facts=facts,
                                checked_on=on.isoformat(), officer=officer)

    @event("DocumentsChecked")
    def _documents_checked(self, policy_version: str, time_limit: int, findings: list[dict[str, str]], facts: dict[str, Any],
                           checked_on: str, officer: Officer | None) -> None:
        self.policy_version, self.time_limit, self.findings, self.facts = policy_version, time_limit, findings, facts
        self.status, self.last_acted_on = "checked", checked_on
        if officer is not None and officer["id"] not in self.reviewers:
            self.reviewers = [*self.reviewers, officer["id"]]

    def request_information(self, items: list[str], on: date, officer: Officer) -> None:
        self._expect(("submitted", "checked", "information_supplied"), "request information for")
        self._expect_day(on)
        self._expect_owner(officer, "request information")
        if not items:
            raise RuleViolation("items", "name at least one item the applicant must supply", 422)
        self._information_requested(items=items, requested_on=on.isoformat(), officer=officer)

    @event("InformationRequested")
    def _information_requested(self, items: list[str], requested_on: str, officer: Officer) -> None:
        self.status, self.last_acted_on = "information_requested", requested_on
        self.pauses = [*self.pauses, [requested_on, None]]  # the clock stops
        self.requested_items = items
        if officer["id"] not in self.reviewers:
            self.reviewers = [*self.reviewers, officer["id"]]

    def supply_information(self, documents: list[str], note: str | None, on: date, officer: Officer) -> None:
        self._expect(("information_requested",), "supply information for")
        self._expect_day(on)
        self._expect_owner(officer, "record supplied information")
        if not documents and not note:
            raise RuleViolation("documents", "list the documents supplied (or add a note)", 422)
        self._information_supplied(documents=documents, note=note, supplied_on=on.isoformat(), officer=officer)

    @event("InformationSupplied")
    def _information_supplied(self, documents: list[str], note: str | None, supplied_on: str, officer: Officer) -> None:
        self.status, self.last_acted_on = "information_supplied", supplied_on
        self.documents = [*self.documents, *[d for d in documents if d not in self.documents]]
        self.pauses = [*self.pauses[:-1], [self.pauses[-1][0], supplied_on]]  # the clock runs again

    def expect_approver(self, on: date, officer: Officer) -> None:
        """Who may approve, when: checked before registers are asked (nothing is re-checked
        for an officer who may not approve anyway)."""
        self._expect(("checked",), "approve")
        self._expect_day(on)
        self._expect_owner(officer, "approve it")
        self._expect_independent_decider(officer)

    def approve(self, on: date, officer: Officer, note: str | None) -> None:
        self.expect_approver(on, officer)
        if self.blocking_findings():
            rules = ", ".join(f"{f['rule']} ({f['outcome']})" for f in self.blocking_findings())
            raise RuleViolation("findings", f"cannot approve while findings block it: {rules}")
        cited = [f["rule"] for f in self.findings]
        self._approved(decided_on=on.isoformat(), policy_version=self.policy_version, rules=cited, note=note, officer=officer)

    @event("Approved")
    def _approved(self, decided_on: str, policy_version: str | None, rules: list[str], note: str | None, officer: Officer) -> None:
        self.status, self.last_acted_on, self.stopped_on = "approved", decided_on, decided_on
        self.decision = {"outcome": "approved", "on": decided_on, "policy_version": policy_version, "rules": rules, "note": note}
        self.decided_by = officer["id"]
        self._close_pause(decided_on)

    def refuse(self, on: date, officer: Officer, reasons: list[dict[str, str]], known_rules: set[str]) -> None:
        self._expect(OPEN, "refuse")
        self._expect_day(on)
        self._expect_owner(officer, "refuse it")
        self._expect_independent_decider(officer)
        if not reasons:
            reasons = [{"rule": f["rule"], "message": f["message"]} for f in self.findings if f["outcome"] == "fail"]
        if not reasons:
            raise RuleViolation("reasons", "a refusal must cite at least one rule of the policy table", 422)
        unknown = [r["rule"] for r in reasons if r["rule"] not in known_rules]
        if unknown:
            raise RuleViolation("reasons", f"unknown rule(s) {', '.join(unknown)} in policy version {self.policy_version}", 422)
        self._refused(decided_on=on.isoformat(), policy_version=self.policy_version, reasons=reasons, officer=officer)

    @event("Refused")
    def _refused(self, decided_on: str, policy_version: str | None, reasons: list[dict[str, str]], officer: Officer) -> None:
        self.status, self.last_acted_on, self.stopped_on = "refused", decided_on, decided_on
        self.decision = {"outcome": "refused", "on": decided_on, "policy_version": policy_version, "reasons": reasons}
        self.decided_by = officer["id"]
        self._close_pause(decided_on)

    def publish(self, on: date, officer: Officer) -> None:
        self._expect(("approved", "refused"), "publish")
        self._expect_day(on)
        self._expect_owner(officer, "publish it")
        self._published(published_on=on.isoformat(), officer=officer)

    @event("Published")
    def _published(self, published_on: str, officer: Officer) -> None:
        self.status, self.last_acted_on, self.published_on = "published", published_on, published_on

    def issue_certificate(self, certificate_no: str, verification_code: str, on: date, officer: Officer) -> None:
        if self.status != "published" or not self.decision or self.decision["outcome"] != "approved":
            raise RuleViolation("status", f"a certificate is issued only for an approved, published decision (this one is {self.status})")
        self._expect_day(on)
        self._expect_owner(officer, "issue its certificate")
        self._certificate_issued(certificate_no=certificate_no, verification_code=verification_code, issued_on=on.isoformat(), officer=officer)

    @event("CertificateIssued")
    def _certificate_issued(self, certificate_no: str, verification_code: str, issued_on: str, officer: Officer) -> None:
        self.status, self.last_acted_on = "certificate_issued", issued_on
        self.certificate = {"number": certificate_no, "code": verification_code, "issued_on": issued_on}

    def withdraw(self, on: date, reason: str | None, officer: Officer) -> None:
        self._expect(OPEN, "withdraw")
        self._expect_day(on)
        self._expect_owner(officer, "withdraw it")  # recorded on the applicant's behalf by the owning section
        self._withdrawn(withdrawn_on=on.isoformat(), reason=reason, officer=officer)

    @event("Withdrawn")
    def _withdrawn(self, withdrawn_on: str, reason: str | None, officer: Officer) -> None:
        self.status, self.last_acted_on, self.stopped_on = "withdrawn", withdrawn_on, withdrawn_on
        self._close_pause(withdrawn_on)

    def revoke(self, on: date, reason: str, enforcement_case: str, officer: Officer) -> None:
        self._expect(("approved", "published", "certificate_issued"), "revoke")
        if not self.decision or self.decision["outcome"] != "approved":
            raise RuleViolation("status", "only an approval can be revoked")
        self._expect_day(on)
        self._expect_owner(officer, "revoke it", also=(ENFORCEMENT_SECTION,))
        if officer["id"] == self.decided_by:
            raise RuleViolation("officer.id", "segregation of duties: an officer may not revoke their own decision")
        self._revoked(revoked_on=on.isoformat(), reason=reason, enforcement_case=enforcement_case, officer=officer)

    @event("Revoked")
    def _revoked(self, revoked_on: str, reason: str, enforcement_case: str, officer: Officer) -> None:
        self.status, self.last_acted_on = "revoked", revoked_on
        self.revocation = {"on": revoked_on, "reason": reason, "enforcement_case": enforcement_case}

    @event("OverdueWarningRaised")
    def warn_overdue(self, as_of: str, due_on: str, working_days_left: int) -> None:
        self.warned_due_dates = [*self.warned_due_dates, due_on]

    @event("SatisfactionRated")
    def rate(self, score: int, comment: Any, submission_id: str, rated_on: str) -> None:
        self.ratings = [*self.ratings, {"score": score, "comment": comment, "submission_id": submission_id, "rated_on": rated_on}]

    def _close_pause(self, on: str) -> None:
        if self.pauses and self.pauses[-1][1] is None:
            self.pauses = [*self.pauses[:-1], [self.pauses[-1][0], on]]
