"""An enforcement case (案件), opened from a hotline tip for this issue.

Pure domain. An anonymous tip stays anonymous: the case keeps only what the tip
record holds (no caller identity exists in the contract), and its text stays
encrypted. Later issues add triage, assignment, evidence, referrals and closure.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.ids import stable_id

TIP_CATEGORIES = {
    "two_illegals": "两非",
    "subsidy_fraud": "奖扶特扶违规",
    "official_misconduct": "干部违纪",
    "certificate_service": "证件办理",
    "other": "其他",
}


def case_id_for(origin: str, source_ref: str) -> UUID:
    """One case per originating fact: the same tip can never open two cases."""
    return stable_id("case", origin, source_ref)


def case_number(year: int, case_id: UUID) -> str:
    return f"ZF-{year}-{case_id.hex[:8].upper()}"


class Case(Aggregate):
    @staticmethod
    def create_id(origin: str, source_ref: str, **_: Any) -> UUID:
        return case_id_for(origin, source_ref)

    @event("Opened")
    def __init__(
        self,
        origin: str,
        source_ref: str,
        case_number: str,
        category: str,
        township_code: str | None,
        anonymous: bool,
        channel: str,
        section: str,
        record_id: str,
        summary: Any,
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
        self.status = "open"
