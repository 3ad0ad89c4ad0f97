"""Integration events published by enforcement (subjects fp.enforcement.>)."""

from __future__ import annotations

from datetime import datetime

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
    submission_id: str
    opened_at: datetime


CASE_OPENED = register(EventType("enforcement.case.opened", 1, CaseOpenedV1))
CASE_OPENED_SUBJECT = "fp.enforcement.case.opened"
