"""Erasure of one person's personal data (个人信息删除, by crypto-shredding their key).

Pure: no I/O. Today, ids and the people acting are inputs.

- Retention (保存期限): each kind of record is kept as long as a cited rule says
  (`services/intake/retention.json`); while any rule runs for any record of the person,
  erasure is refused, and the refusal names the record kind, the date and the rule.
- Four eyes: an administrator asks (with a lawful ground and a reason), an auditor who
  is not the same person approves; only then is the key erased.
- The erasure is itself a fact in intake's store (covered by its hash chain): who, when,
  which subject (its keyed hash, never the ID number), the ground and what was done.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.ids import stable_id

COUNTED_FROM = ("occurred", "end_of_year_occurred")


@dataclass(frozen=True)
class RetentionRule:
    kind: str
    records_zh: str
    records_en: str
    keep_years: int | None  # None: kept permanently
    counted_from: str
    legal_basis: str
    verified: bool

    def kept_until(self, occurred_on: date) -> date | None:
        """The last day the record must be kept (None: for ever)."""
        if self.keep_years is None:
            return None
        start = date(occurred_on.year, 12, 31) if self.counted_from == "end_of_year_occurred" else occurred_on
        year = start.year + self.keep_years
        day = min(start.day, 28) if (start.month, start.day) == (2, 29) else start.day
        return date(year, start.month, day)


@dataclass(frozen=True)
class ErasureGround:
    code: str
    zh: str
    en: str
    legal_basis: str


@dataclass(frozen=True)
class RetentionRules:
    rules: Mapping[str, RetentionRule]
    grounds: Mapping[str, ErasureGround]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetentionRules:
        rules: dict[str, RetentionRule] = {}
        for index, raw in enumerate(data.get("rules", [])):
            where = f"rules[{index}]"
            kind = raw.get("kind")
            if not isinstance(kind, str) or not kind:
                raise ValueError(f"{where}.kind: a record kind is required")
            if kind in rules:
                raise ValueError(f"{where}.kind: {kind!r} has two rules")
            years = raw.get("keep_years")
            if years is not None and (not isinstance(years, int) or isinstance(years, bool) or years < 0):
                raise ValueError(f"{where}.keep_years: a whole number of years, or null for permanent")
            if raw.get("counted_from") not in COUNTED_FROM:
                raise ValueError(f"{where}.counted_from: one of {', '.join(COUNTED_FROM)}")
            if not raw.get("legal_basis"):
                raise ValueError(f"{where}.legal_basis: every rule cites its source")
            records = raw.get("records") or {}
            rules[kind] = RetentionRule(kind, records.get("zh", kind), records.get("en", kind), years, raw["counted_from"],
                                        raw["legal_basis"], bool(raw.get("verified")))
        grounds: dict[str, ErasureGround] = {}
        for index, raw in enumerate(data.get("grounds", [])):
            if not raw.get("code") or not raw.get("legal_basis"):
                raise ValueError(f"grounds[{index}]: code and legal_basis are required")
            grounds[raw["code"]] = ErasureGround(raw["code"], raw.get("zh", raw["code"]), raw.get("en", raw["code"]), raw["legal_basis"])
        if not grounds:
            raise ValueError("grounds: at least one lawful ground for erasure")
        return cls(rules, grounds)

    def hold(self, records: Iterable[PersonRecord], today: date) -> list[dict[str, Any]]:
        """The records that must still be kept today, each with its rule (empty: erasable).
        A record of a kind no rule names is held: nothing is erased on a guess."""
        held: list[dict[str, Any]] = []
        for record in records:
            rule = self.rules.get(record.kind)
            if rule is None:
                held.append({**record.described(), "kept_until": None, "legal_basis": None,
                             "rule": {"zh": "无保存期限规则，不予删除", "en": "no retention rule names this kind: not erased"}})
                continue
            until = rule.kept_until(record.occurred_on)
            if until is None or until >= today:
                held.append({**record.described(), "kept_until": until.isoformat() if until else None, "legal_basis": rule.legal_basis,
                             "verified": rule.verified, "rule": {"zh": rule.records_zh, "en": rule.records_en}})
        return held


@dataclass(frozen=True)
class PersonRecord:
    """One accepted record that names the person (as its data subject or otherwise)."""

    submission_id: UUID
    kind: str
    occurred_on: date
    inbox_sequence: int
    key_ref: str | None  # the person's key the record's personal fields are encrypted under; None: another's

    def described(self) -> dict[str, Any]:
        return {"submission_id": str(self.submission_id), "kind": self.kind, "occurred_on": self.occurred_on.isoformat()}


class ErasureRefusedError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


STATUS_LABELS = {
    "awaiting_approval": {"zh": "待审计人员批准", "en": "awaiting an auditor's approval"},
    "refused": {"zh": "保存期限未满，不予删除", "en": "refused: a retention period runs"},
    "approved": {"zh": "已批准，删除执行中", "en": "approved, being carried out"},
    "completed": {"zh": "已删除", "en": "erased"},
}


def erasure_id(subject_ref: str, requested_at: str) -> UUID:
    return stable_id("erasure", subject_ref, requested_at)


class Erasure(Aggregate):
    """个人信息删除申请: one request to erase one data subject's key."""

    @staticmethod
    def create_id(subject_ref: str, requested_at: str, **_: Any) -> UUID:
        return erasure_id(subject_ref, requested_at)

    @event("Requested")
    def __init__(self, subject_ref: str, ground: str, reason: str, requested_by: dict[str, str], requested_at: str,
                 records: list[dict[str, Any]]) -> None:
        self.subject_ref = subject_ref  # the keyed hash (person_ref); the ID number is never kept
        self.ground = ground
        self.reason = reason
        self.requested_by = requested_by
        self.requested_at = requested_at
        self.records = records
        self.status = "awaiting_approval"
        self.held: list[dict[str, Any]] = []
        self.approved_by: dict[str, str] | None = None
        self.outcome: dict[str, Any] | None = None

    @event("Refused")
    def refuse(self, held: list[dict[str, Any]], on: str) -> None:
        self.status = "refused"
        self.held = held
        self.refused_on = on

    @event("Approved")
    def _approve(self, approved_by: dict[str, str], approved_at: str) -> None:
        self.status = "approved"
        self.approved_by = approved_by
        self.approved_at = approved_at

    def approve(self, approved_by: dict[str, str], approved_at: str, held: Sequence[dict[str, Any]]) -> None:
        """An auditor's approval, refused (nothing changes) when it is not theirs to give."""
        if self.status != "awaiting_approval":
            raise ErasureRefusedError("erasure_id", f"此申请{STATUS_LABELS[self.status]['zh']}，不能批准 / this request is {STATUS_LABELS[self.status]['en']}: nothing to approve")
        if approved_by["id"] == self.requested_by["id"]:
            raise ErasureRefusedError("approved_by", "申请人不能批准自己的删除申请（须两人办理） / who asked for an erasure cannot approve it: it takes two people")
        if held:
            raise ErasureRefusedError("erasure_id", retention_message(held))
        self._approve(approved_by, approved_at)

    @event("Completed")
    def complete(self, keys_erased: list[str], inbox_messages_deleted: int, completed_at: str) -> None:
        self.status = "completed"
        self.outcome = {"keys_erased": keys_erased, "inbox_messages_deleted": inbox_messages_deleted, "completed_at": completed_at}


def retention_message(held: Sequence[dict[str, Any]]) -> str:
    first = held[0]
    until_zh = f"至 {first['kept_until']}" if first.get("kept_until") else "永久"
    until_en = f"until {first['kept_until']}" if first.get("kept_until") else "permanently"
    basis = first.get("legal_basis") or "—"
    more = f"（另有 {len(held) - 1} 件） " if len(held) > 1 else ""
    more_en = f" (and {len(held) - 1} more)" if len(held) > 1 else ""
    return (f"保存期限未满：{first['rule']['zh']}（{first['kind']}，{first['occurred_on']}）须保存{until_zh}，依据{basis}{more}"
            f" / a retention period runs: {first['rule']['en']} ({first['kind']}, {first['occurred_on']}) is kept {until_en} under {basis}{more_en}")
