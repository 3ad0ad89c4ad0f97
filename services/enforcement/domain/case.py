"""An enforcement case (案件) and its lifecycle, as events.

Pure domain: times and ids are inputs. Lifecycle: opened → triaged → assigned →
investigating (evidence) → referred (optional) → concluded → closed, and reopened
with a reason. Joint operations, disclosures to agencies, signals, deadlines and
social maintenance fee records are events of the same case.

An anonymous tip stays anonymous: the case keeps neither the hotline's record id,
nor the submission, nor the channel, and the tip's text stays encrypted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.enforcement.domain.errors import CaseRuleError
from services.enforcement.domain.fees import FEE_KINDS, check_fee, reconcile
from shared.eventstore.copying import SharesStateWhenCopied
from shared.ids import stable_id

TIP_CATEGORIES = {
    "two_illegals": "两非",
    "subsidy_fraud": "奖扶特扶违规",
    "official_misconduct": "干部违纪",
    "certificate_service": "证件办理",
    "other": "其他",
}
CATEGORIES = {**TIP_CATEGORIES, "falsification": "弄虚作假", "petition": "信访", "administrative_review": "行政复议"}
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("opened", "triaged", "assigned", "investigating", "referred", "concluded", "closed", "reopened")
ORIGINS = ("signal", "hotline_tip", "petition", "officer")
AGENCIES = {"police": "公安局", "health": "卫健局", "drug": "市场监管局(药监)"}
REFERRAL_TARGETS = {"judicial": "移送司法机关", "discipline": "追究责任"}
EVIDENCE_KINDS = ("document", "statement", "linked_fact")
# Why a closed case reopens by itself: the conduct it was about is being signalled again.
SIGNAL_AFTER_CLOSURE = "新信号，重新立案调查 (new signal after closure)"

# Which command each status allows (the status after it is in the event method).
WORKING = ("assigned", "investigating", "referred")
ALLOWED = {
    "triage": ("opened", "triaged", "reopened"),
    "assign": ("triaged", "assigned", "investigating", "reopened"),
    "record_evidence": WORKING,
    "joint_operation": WORKING,
    "refer": ("investigating", "referred"),
    "conclude": WORKING,
    "close": ("concluded",),
    "reopen": ("concluded", "closed"),
}


def case_id_for(origin: str, source_ref: str) -> UUID:
    """One case per originating fact: the same tip can never open two cases."""
    return stable_id("case", origin, source_ref)


def anonymous_case_id(key: bytes, submission_id: str) -> UUID:
    """An anonymous tip's case id: a keyed hash only enforcement can compute, so nobody
    who learns the submission id (it is on intake's stream) can find the tip's case,
    nor its case number (the id's first hex digits)."""
    digest = hmac.new(key, f"anonymous-tip\x1f{submission_id}".encode(), hashlib.sha256).digest()
    return UUID(bytes=digest[:16], version=4)


def case_number(year: int, case_id: UUID) -> str:
    return f"ZF-{year}-{case_id.hex[:8].upper()}"


def evidence_key(evidence: Sequence[str]) -> bytes:
    """What a case remembers of a signal's evidence to know it again: 16 bytes. The list
    itself can be thousands of ids (a skewed sex ratio's evidence is every birth in its
    window); kept in every cached case, they were about half of the cases' memory."""
    return hashlib.blake2b(json.dumps(list(evidence)).encode(), digest_size=16).digest()


def signal_as_kept(signal: dict[str, Any]) -> dict[str, Any]:
    """A signal as the case keeps it in memory: everything but the evidence, and its count.
    The evidence stays in the case's events (see signals_in_full)."""
    kept = {name: value for name, value in signal.items() if name != "evidence"}
    kept["evidence_count"] = len(signal["evidence"])
    return kept


def signals_in_full(events: Iterable[Any]) -> list[dict[str, Any]]:
    """A case's signals with their evidence, in order, from its events (oldest first)."""
    return [e.signal for e in events if isinstance(e, (Case.Opened, Case.SignalJoined)) and e.signal]


class Case(SharesStateWhenCopied, Aggregate):
    """Every event replaces the attributes it changes and never changes one in place, so a
    copy of a cached case shares its state (SharesStateWhenCopied)."""

    @event("Opened")
    def __init__(
        self,
        id: UUID,  # noqa: A002 - eventsourcing takes the aggregate id from this argument
        origin: str,
        source_ref: str,
        case_number: str,
        category: str,
        township_code: str | None,
        anonymous: bool,
        channel: str | None,
        section: str,
        record_id: str | None,
        summary: Any,
        subjects: dict[str, Any] | None = None,
        signal: dict[str, Any] | None = None,
        deadline: dict[str, Any] | None = None,
        opened_by: str | None = None,
    ) -> None:
        self.origin = origin
        self.source_ref = source_ref
        self.case_number = case_number
        self.category = category
        self.township_code = township_code
        self.anonymous = anonymous
        self.channel = channel
        self.section = section
        self.record_id = record_id
        self.summary = summary
        self.subjects = dict(subjects or {})
        # Signals without their evidence (signal_as_kept); the evidence keys tell a repeat.
        self.signals = [signal_as_kept(signal)] if signal else []
        self._evidence_keys = frozenset({evidence_key(signal["evidence"])}) if signal else frozenset()
        self.deadline = dict(deadline) if deadline else None  # {"kind", "received_on", "due_on", "working_days"}
        self.opened_by = opened_by
        self.status = "opened"
        self.priority: str | None = None
        self.assigned_to: str | None = None
        self.evidence: list[dict[str, Any]] = []
        self.joint_operations: list[dict[str, Any]] = []
        self.disclosures: list[dict[str, Any]] = []
        self.referrals: list[dict[str, Any]] = []
        self.conclusion: dict[str, Any] | None = None
        self.fees: list[dict[str, Any]] = []
        self.deadline_alerts: list[str] = []
        self.reopen_reasons: list[str] = []

    # -- rules -------------------------------------------------------------------------
    def _require(self, command: str) -> None:
        if self.status not in ALLOWED[command]:
            allowed = ", ".join(ALLOWED[command])
            raise CaseRuleError("status", f"a case that is {self.status} cannot be {command.replace('_', ' ')}d here; it must be {allowed}")

    @staticmethod
    def _text(field: str, value: str | None, required: bool = True) -> str:
        text = (value or "").strip()
        if required and not text:
            raise CaseRuleError(field, "must not be empty")
        return text

    # -- commands ----------------------------------------------------------------------
    def triage(self, category: str, priority: str, section: str, officer: str, deadline: dict[str, Any] | None = None) -> None:
        """`section` has been checked against the duty register; `deadline` is the
        statutory limit the category carries (petitions, administrative reviews) counted
        from the day the case came in, or None when the category has none."""
        self._require("triage")
        if category not in CATEGORIES:
            raise CaseRuleError("category", f"unknown category {category!r}; one of {', '.join(CATEGORIES)}")
        if priority not in PRIORITIES:
            raise CaseRuleError("priority", f"unknown priority {priority!r}; one of {', '.join(PRIORITIES)}")
        section = self._text("section", section)
        # A case re-triaged into a category with a statutory limit gets that limit. One
        # moved out of it keeps its clock: the petitioner is still owed an answer.
        if deadline and deadline.get("kind") != (self.deadline or {}).get("kind"):
            self._deadline_set(deadline=dict(deadline), officer=officer)
        self._triaged(category=category, priority=priority, section=section, officer=officer)

    @event("DeadlineSet")
    def _deadline_set(self, deadline: dict[str, Any], officer: str) -> None:
        self.deadline = deadline
        self.deadline_alerts = []

    @event("Triaged")
    def _triaged(self, category: str, priority: str, section: str, officer: str) -> None:
        self.category, self.priority, self.section = category, priority, section
        self.status = "triaged"

    def assign(self, assignee: str, officer: str) -> None:
        self._require("assign")
        self._assigned(assignee=self._text("assignee", assignee), officer=officer)

    @event("Assigned")
    def _assigned(self, assignee: str, officer: str) -> None:
        self.assigned_to = assignee
        self.status = "assigned"

    def record_evidence(self, evidence_id: str, kind: str, description: str, linked_event_ids: list[str], officer: str) -> None:
        self._require("record_evidence")
        if kind not in EVIDENCE_KINDS:
            raise CaseRuleError("kind", f"unknown evidence kind {kind!r}; one of {', '.join(EVIDENCE_KINDS)}")
        if kind == "linked_fact" and not linked_event_ids:
            raise CaseRuleError("linked_event_ids", "a linked fact names at least one event id")
        item = {"evidence_id": evidence_id, "kind": kind, "description": self._text("description", description), "linked_event_ids": list(linked_event_ids), "recorded_by": officer}
        self._evidence_recorded(item=item)

    @event("EvidenceRecorded")
    def _evidence_recorded(self, item: dict[str, Any]) -> None:
        self.evidence = [*self.evidence, item]
        if self.status == "assigned":
            self.status = "investigating"

    def request_joint_operation(self, operation_id: str, agency: str, purpose: str, disclosed_fields: list[str], officer: str) -> None:
        """Shares the case with an agency: the request and the disclosure are both events."""
        self._require("joint_operation")
        if agency not in AGENCIES:
            raise CaseRuleError("agency", f"unknown agency {agency!r}; one of {', '.join(AGENCIES)}")
        if any(op["agency"] == agency and op["status"] == "requested" for op in self.joint_operations):
            raise CaseRuleError("agency", f"a joint operation with {agency} is already waiting for its answer")
        self._joint_operation_requested(operation_id=operation_id, agency=agency, purpose=self._text("purpose", purpose), officer=officer)
        self._disclosed(agency=agency, fields=list(disclosed_fields), operation_id=operation_id, officer=officer)

    @event("JointOperationRequested")
    def _joint_operation_requested(self, operation_id: str, agency: str, purpose: str, officer: str) -> None:
        self.joint_operations = [*self.joint_operations, {"operation_id": operation_id, "agency": agency, "purpose": purpose, "status": "requested", "response": None}]

    @event("Disclosed")
    def _disclosed(self, agency: str, fields: list[str], operation_id: str, officer: str) -> None:
        """Who received what (the event's timestamp says when)."""
        self.disclosures = [*self.disclosures, {"agency": agency, "fields": fields, "operation_id": operation_id, "by": officer}]

    def disclose_again(self, agency: str, disclosed_fields: list[str], officer: str) -> None:
        """Share what the case has learnt since the agency's last disclosure: an agency
        sees the case only as of its last disclosure, so sharing more is a new event."""
        self._require("joint_operation")
        operations = [op for op in self.joint_operations if op["agency"] == agency]
        if not operations:
            raise CaseRuleError("agency", f"no joint operation with {agency!r}; request one first")
        self._disclosed(agency=agency, fields=list(disclosed_fields), operation_id=operations[-1]["operation_id"], officer=officer)

    def record_agency_response(self, agency: str, response: str, officer: str) -> None:
        if self.status == "closed":
            raise CaseRuleError("status", "a closed case takes no agency responses; reopen it first")
        if not any(op["agency"] == agency and op["status"] == "requested" for op in self.joint_operations):
            raise CaseRuleError("agency", f"no joint operation with {agency!r} is waiting for an answer")
        self._agency_responded(agency=agency, response=self._text("response", response), officer=officer)

    @event("AgencyResponded")
    def _agency_responded(self, agency: str, response: str, officer: str) -> None:
        self.joint_operations = [
            {**op, "status": "responded", "response": response} if op["agency"] == agency and op["status"] == "requested" else op
            for op in self.joint_operations
        ]

    def refer(self, target: str, authority: str, reason: str, officer: str) -> None:
        self._require("refer")
        if target not in REFERRAL_TARGETS:
            raise CaseRuleError("target", f"unknown referral {target!r}; one of {', '.join(REFERRAL_TARGETS)}")
        if not self.evidence:
            raise CaseRuleError("evidence", "a case is referred only on recorded evidence")
        self._referred(target=target, authority=self._text("authority", authority), reason=self._text("reason", reason), officer=officer)

    @event("Referred")
    def _referred(self, target: str, authority: str, reason: str, officer: str) -> None:
        self.referrals = [*self.referrals, {"target": target, "authority": authority, "reason": reason}]
        self.status = "referred"

    def conclude(self, substantiated: bool, findings: str, concluded_on: str, officer: str) -> None:
        self._require("conclude")
        if substantiated and not self.evidence:
            raise CaseRuleError("substantiated", "a substantiated finding rests on recorded evidence")
        self._concluded(substantiated=substantiated, findings=self._text("findings", findings), concluded_on=concluded_on, officer=officer)

    @event("Concluded")
    def _concluded(self, substantiated: bool, findings: str, concluded_on: str, officer: str) -> None:
        self.conclusion = {"substantiated": substantiated, "findings": findings, "concluded_on": concluded_on}
        self.status = "concluded"

    def close(self, officer: str) -> None:
        self._require("close")
        self._closed(officer=officer)

    @event("Closed")
    def _closed(self, officer: str) -> None:
        self.status = "closed"

    def reopen(self, reason: str, officer: str) -> None:
        self._require("reopen")
        self._reopened(reason=self._text("reason", reason), officer=officer)

    @event("Reopened")
    def _reopened(self, reason: str, officer: str | None) -> None:  # None: reopened by a new signal
        self.reopen_reasons = [*self.reopen_reasons, reason]
        self.conclusion = None
        self.status = "reopened"

    def record_fee(self, fee_kind: str, amount: Decimal, decision_no: str, on: str, officer: str) -> None:
        """A social maintenance fee (社会抚养费) decision, payment or waiver."""
        if self.status == "closed":
            raise CaseRuleError("status", "a closed case takes no fee records; reopen it first")
        if fee_kind not in FEE_KINDS:
            raise CaseRuleError("kind", f"unknown fee record {fee_kind!r}; one of {', '.join(FEE_KINDS)}")
        check_fee(self.fees, fee_kind, amount)
        self._fee_recorded(kind=fee_kind, amount=str(amount), decision_no=self._text("decision_no", decision_no), on=on, officer=officer)

    @event("FeeRecorded")
    def _fee_recorded(self, kind: str, amount: str, decision_no: str, on: str, officer: str) -> None:
        self.fees = [*self.fees, {"kind": kind, "amount": amount, "decision_no": decision_no, "on": on}]

    def fee_reconciliation(self) -> dict[str, str]:
        return {k: str(v) for k, v in reconcile(self.fees).items()}

    def join_signal(self, signal: dict[str, Any]) -> bool:
        """A repeat of a pattern joins this case; the same evidence twice changes nothing.
        A closed case reopens: what it was closed on is happening again."""
        if evidence_key(signal["evidence"]) in self._evidence_keys:
            return False
        self._signal_joined(signal=signal)
        if self.status == "closed":
            self._reopened(reason=SIGNAL_AFTER_CLOSURE, officer=None)
        return True

    @event("SignalJoined")
    def _signal_joined(self, signal: dict[str, Any]) -> None:
        self.signals = [*self.signals, signal_as_kept(signal)]
        self._evidence_keys = self._evidence_keys | {evidence_key(signal["evidence"])}

    def raise_deadline_alert(self, alert: str, as_of: str) -> None:
        """alert is "nearing" or "breached"; each is raised once per deadline."""
        if alert not in self.deadline_alerts:
            self._deadline_alert(alert=alert, as_of=as_of, due_on=(self.deadline or {}).get("due_on"))

    @event("DeadlineAlert")
    def _deadline_alert(self, alert: str, as_of: str, due_on: str | None) -> None:
        self.deadline_alerts = [*self.deadline_alerts, alert]
