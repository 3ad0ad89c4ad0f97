"""Integration events published by intake (subjects fp.intake.>)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.contracts.integration import EventType, register


class SubmissionAcceptedV1(BaseModel):
    submission_id: str
    record_id: str = Field(description="The publisher's record id; for an anonymous tip the submission id (the call record stays with the hotline)")
    source: str
    schema_: str = Field(alias="schema", serialization_alias="schema")
    kind: str = Field(description="e.g. police.birth.registered, township.application.submitted")
    township_code: str | None
    section: str = Field(description="Owning section (责任科室) from the duty register")
    section_en: str
    duty_no: int
    item_no: int
    occurred_at: datetime
    received_at: datetime
    data: dict[str, Any] = Field(description="The record's data; personal fields are encrypted tokens")
    person_refs: dict[str, str] = Field(description="Keyed hashes of the resident IDs in data, by field")
    data_subject_ref: str

    model_config = {"populate_by_name": True}


class FieldErrorV1(BaseModel):
    field: str
    message: str


class SubmissionRejectedV1(BaseModel):
    rejection_id: str
    record_id: str | None
    source: str
    subject: str
    received_at: datetime
    errors: list[FieldErrorV1]


SUBMISSION_ACCEPTED = register(EventType("intake.submission.accepted", 1, SubmissionAcceptedV1))
SUBMISSION_REJECTED = register(EventType("intake.submission.rejected", 1, SubmissionRejectedV1))


def accepted_subject(kind: str) -> str:
    return f"fp.intake.accepted.{kind}"


def rejected_subject(source: str) -> str:
    return f"fp.intake.rejected.{source}"
