"""The request bodies of the subsidy endpoints (each names the officer and may give `on`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.verification.entrypoints.http import CommandIn, ReasonIn, Text
from shared.contracts.townships import TOWNSHIPS

Program = Literal["reward", "special"]
Year = Annotated[int, Field(ge=2000, le=2100)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


def known_township(code: str | None) -> str | None:
    if code is not None and code not in TOWNSHIPS:
        raise ValueError(f"{code} is not a township of the county")
    return code


class EnrolmentIn(CommandIn):
    program: Program
    year: Year


class ConfirmAllIn(EnrolmentIn):
    township_code: str | None = Field(None, description="Default: every township")

    @field_validator("township_code")
    @classmethod
    def _known(cls, code: str | None) -> str | None:
        return known_township(code)


class RefuseBeneficiaryIn(EnrolmentIn):
    reasons: list[ReasonIn] = Field([], description="Default: every failed or missing finding")


class SuspendIn(CommandIn):
    effective_on: date = Field(description="No payment is disbursed on or after this day")
    cause: Literal["fraud"] = Field(description="Officers suspend for proven fraud; deaths and the pension roll suspend by themselves")
    reason: Text
    enforcement_case: Reference | None = None


class ReinstateIn(CommandIn):
    reason: Text


class CycleIn(EnrolmentIn):
    pass


class ComputeIn(CommandIn):
    townships: list[str] | None = Field(None, min_length=1, description="Default: every township with confirmed beneficiaries")

    @field_validator("townships")
    @classmethod
    def _known(cls, codes: list[str] | None) -> list[str] | None:
        return [known_township(code) for code in codes] if codes else codes  # type: ignore[misc]


class BatchItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_id: Reference
    bank_reference: Reference
    disbursed_on: date


class BatchIn(CommandIn):
    batch_id: Reference
    payments: list[BatchItemIn] = Field(min_length=1, max_length=1000, description="One bank batch, recorded whole or not at all")


class ReturnIn(CommandIn):
    reason: Text
    outcome: Literal["returned", "failed"]


class ReissueIn(CommandIn):
    bank_reference: Reference
