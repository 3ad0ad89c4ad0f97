"""The bodies of officers' HTTP commands (JSON). FastAPI answers 422 naming the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Text = Field(min_length=1, max_length=4000)


class Officer(BaseModel):
    """Optional since v1.1: the officer is the bearer token's subject. When sent, `id` must
    be the subject and `section` one of the token's sections (403 otherwise)."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, min_length=1, max_length=64)
    section: str | None = Field(None, min_length=1, max_length=32, description="e.g. 执法大队; picks the section of an officer of several")


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")
    officer: Officer | None = None


class Triage(Command):
    category: str
    priority: Literal["low", "normal", "high", "urgent"]
    section: str | None = Field(None, description="Owning section, one the duty register gives this category's work to; default: the category's owner in the register")


class Assign(Command):
    assignee: str = Field(min_length=1, max_length=64)


class Evidence(Command):
    kind: Literal["document", "statement", "linked_fact"]
    description: str = Text
    linked_event_ids: list[str] = Field(default_factory=list, description="Integration event ids, e.g. intake-123")


class JointOperation(Command):
    agency: Literal["police", "health", "drug"]
    purpose: str = Text


class Disclosure(Command):
    """Share with an agency, within its joint operation, what the case learnt since."""

    agency: Literal["police", "health", "drug"]


class AgencyResponse(Command):
    agency: Literal["police", "health", "drug"]
    response: str = Text


class Refer(Command):
    target: Literal["judicial", "discipline"] = Field(description="judicial: 移送司法机关; discipline: 追究责任")
    authority: str = Field(min_length=1, max_length=200)
    reason: str = Text


class Conclude(Command):
    substantiated: bool
    findings: str = Text
    concluded_on: date | None = None


class Close(Command):
    pass


class Reopen(Command):
    reason: str = Text


class Fee(Command):
    kind: Literal["assessed", "paid", "waived"]
    amount: str = Field(pattern=r"^\d{1,9}(\.\d{1,2})?$", description="Yuan as a decimal string, e.g. \"12000.00\" (never a float)")
    decision_no: str = Field(min_length=1, max_length=64)
    on: date

    def yuan(self) -> Decimal:
        return Decimal(self.amount)


class OpenCase(Command):
    reference: str = Field(min_length=1, max_length=64, description="The officer's register number; the same reference never opens two cases")
    category: str
    township_code: str | None = None
    summary: str = Text
    received_on: date
