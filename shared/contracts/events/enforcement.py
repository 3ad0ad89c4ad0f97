"""Integration events published by enforcement (subjects fp.enforcement.>).

- `fp.enforcement.case.opened`: a case was opened (tip, petition, signal, officer).
- `fp.enforcement.case.<change>`: every later change of a case (the enforcement
  team's case stream), e.g. `fp.enforcement.case.triaged`, `...case.deadline_breached`.
- `fp.enforcement.shared.<agency>`: what one agency (police, health, drug) receives
  of a case it works jointly, already redacted for its role.

No payload ever carries a tipster's identity, a tip's or petition's text, or a
resident ID number; people appear only as person_refs (keyed hashes), and only in
what is shared with the police.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.contracts.integration import EventType, register


class CaseOpenedV1(BaseModel):
    case_id: str
    case_number: str = Field(description="Human-readable, ZF-<year>-<8 upper-case hex of the case id>")
    origin: str = Field(description="hotline_tip | petition | signal | officer")
    category: str
    township_code: str | None
    anonymous: bool = Field(description="An anonymous tip never carries anything that could identify the tipster")
    section: str
    submission_id: str | None = Field(description="The intake submission that opened it; null for anonymous tips, signals and cases opened by hand")
    opened_at: datetime
    # Added within v1 (optional, so earlier v1 messages still read): the link back to the signal.
    signal_id: str | None = Field(None, description="The subsidy signal (SG-…) that opened the case; null otherwise")


CASE_CHANGES = (
    "triaged", "assigned", "evidence_recorded", "joint_operation_requested", "disclosed", "agency_responded",
    "referred", "concluded", "closed", "reopened", "fee_recorded", "signal_joined", "deadline_nearing", "deadline_breached",
)


class CaseUpdatedV1(BaseModel):
    case_id: str
    case_number: str
    change: str = Field(description=" | ".join(CASE_CHANGES))
    status: str = Field(description="opened | triaged | assigned | investigating | referred | concluded | closed | reopened")
    category: str
    section: str
    township_code: str | None
    priority: str | None
    assigned_to: str | None
    due_on: str | None = Field(description="Statutory answer date (YYYY-MM-DD) of petitions and administrative reviews")
    officer: str | None = Field(description="The officer who made the change; null for automatic changes")
    details: dict[str, Any] = Field(description="What changed (no personal data): e.g. the evidence's linked event ids, the agency and fields disclosed")
    occurred_at: datetime


class CaseSharedV1(BaseModel):
    case_id: str
    case_number: str
    agency: str = Field(description="police | health | drug")
    operation_id: str
    fields: list[str] = Field(description="The fields this agency's role allows, and nothing more")
    view: dict[str, Any] = Field(description="The case as this agency may see it")
    shared_at: datetime


CASE_OPENED = register(EventType("enforcement.case.opened", 1, CaseOpenedV1))
CASE_UPDATED = register(EventType("enforcement.case.updated", 1, CaseUpdatedV1))
CASE_SHARED = register(EventType("enforcement.case.shared", 1, CaseSharedV1))
CASE_OPENED_SUBJECT = "fp.enforcement.case.opened"
CASE_STREAM_SUBJECTS = "fp.enforcement.case.>"


def case_change_subject(change: str) -> str:
    return f"fp.enforcement.case.{change}"


def shared_subject(agency: str) -> str:
    return f"fp.enforcement.shared.{agency}"
