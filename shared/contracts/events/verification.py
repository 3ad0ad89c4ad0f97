"""Integration events published by verification (subjects fp.verification.>)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

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


APPLICATION_OPENED = register(EventType("verification.application.opened", 1, ApplicationOpenedV1))
APPLICATION_OPENED_SUBJECT = "fp.verification.application.opened"
