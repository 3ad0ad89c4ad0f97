"""Inbound contract v1: one pydantic model per subject for the `data` of a record.

The field lists follow CONTRACT.md ("Subjects and required `data` fields (v1)").
Every listed field is required; a field marked nullable there must be present but
may be null. Fields the contract does not list are not declared here: `inbound.py`
keeps them (publishers may add fields) and checks the ones named by convention
(`township_code`, `id_number`, `*_id_number`).

Each model also says which of its fields hold personal or health data that must be
encrypted at rest (`SENSITIVE`) and which resident ID the record is mainly about
(`DATA_SUBJECT`), because intake needs both to pick the data subject's key.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shared.contracts.identity import ResidentIdError, normalise_resident_id
from shared.contracts.townships import is_known_township

# Yuanshi County's local time (China has one time zone and no daylight saving).
CHINA_TIME = timezone(timedelta(hours=8), "UTC+08:00")

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")
_MONEY = re.compile(r"(-?)([0-9]{1,12})(?:\.([0-9]+))?")
MONEY_MESSAGE = 'money must be a decimal string in yuan, e.g. "960.00"'


def _error(code: str, message: str, /, **context: Any) -> PydanticCustomError:
    # Values go through the context, so braces in the input cannot break the template.
    return PydanticCustomError(code, message, context or None)


def strict_date(value: Any) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _error("date_format", 'must be a date string "YYYY-MM-DD"')
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _error("date_value", "is not a real calendar date ({reason})", reason=str(exc)) from None


def aware_datetime(value: Any) -> datetime:
    if not isinstance(value, str) or not value.isascii() or not _DATETIME_START.match(value):
        raise _error(
            "datetime_format",
            'must be an ISO 8601 date-time string with a UTC offset, e.g. "2026-03-02T09:15:00+08:00"',
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        message = "is not a valid ISO 8601 date-time ({reason})"
        raise _error("datetime_value", message, reason=str(exc)) from None
    if parsed.utcoffset() is None:
        raise _error("datetime_naive", 'has no UTC offset; add one, e.g. "2026-03-02T09:15:00+08:00"')
    return parsed


def resident_id(value: Any) -> str:
    if not isinstance(value, str):
        raise _error("resident_id_type", "must be a resident ID number string")
    # NFKC turns full-width digits and X (typed with a Chinese IME) into ASCII.
    text = unicodedata.normalize("NFKC", value)
    if not text.isascii():
        raise _error("resident_id", "is not a valid resident ID number: only digits 0-9 and X are allowed")
    try:
        return normalise_resident_id(text)
    except ResidentIdError as exc:
        raise _error("resident_id", "is not a valid resident ID number: {reason}", reason=str(exc)) from None


def money(value: Any) -> str:
    match = _MONEY.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _error("money_format", MONEY_MESSAGE)
    sign, whole, fraction = match.groups()
    if fraction is not None and len(fraction) > 2:
        raise _error("money_places", "money must have at most 2 decimal places (fen)")
    amount = Decimal(f"{whole}.{fraction or '0'}")
    if sign and amount != 0:
        raise _error("money_negative", "money must not be negative")
    return str(amount.quantize(Decimal("0.01")))


def township_code(value: Any) -> str:
    if not isinstance(value, str):
        raise _error("township_code_type", "must be a township code string, e.g. \"130132100\"")
    if not is_known_township(value):
        raise _error("township_code", "unknown township code {code}", code=repr(value[:40]))
    return value


def _text(max_length: int, min_length: int = 1) -> Any:
    constraints = StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)
    return Annotated[str, constraints]


Date = Annotated[date, BeforeValidator(strict_date)]
AwareDatetime = Annotated[datetime, BeforeValidator(aware_datetime)]
ResidentId = Annotated[str, BeforeValidator(resident_id)]
Money = Annotated[str, BeforeValidator(money)]
TownshipCode = Annotated[str, BeforeValidator(township_code)]
Name = _text(64)
Code = _text(64)  # identifiers issued by other systems: facility, outlet, application...
ShortText = _text(200)
LongText = _text(10_000)
Remark = _text(2_000, min_length=0)  # optional remarks may be an empty string
Sex = Literal["M", "F"]
JsonObject = dict[str, Any]


class InboundData(BaseModel):
    """Base of every subject's `data`: strict JSON types, unknown fields ignored here."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    SENSITIVE: ClassVar[tuple[str, ...]] = ()
    DATA_SUBJECT: ClassVar[str | None] = None

    @field_validator("birth_date", check_fields=False)
    @classmethod
    def _birth_date_is_not_later_than_the_record(cls, value: date, info: ValidationInfo) -> date:
        context = info.context or {}
        today = context.get("today") or datetime.now(CHINA_TIME).date()
        if value > today:
            raise _error("birth_date_future", "birth date is in the future")
        occurred_on = context.get("occurred_on")
        if occurred_on is not None and value > occurred_on:
            message = "birth date is after the date of occurred_at ({day})"
            raise _error("birth_date_after_record", message, day=str(occurred_on))
        return value


class BirthRegistered(InboundData):
    SENSITIVE = ("child_name", "mother_id_number", "father_id_number")
    DATA_SUBJECT = "mother_id_number"
    child_name: Name
    sex: Sex
    birth_date: Date
    birth_order: int = Field(ge=1, le=30)
    mother_id_number: ResidentId
    father_id_number: ResidentId | None
    township_code: TownshipCode


class ResidenceRegistered(InboundData):
    SENSITIVE = ("id_number", "name", "origin")
    DATA_SUBJECT = "id_number"
    id_number: ResidentId
    name: Name
    sex: Sex
    birth_date: Date
    origin: ShortText
    arrived_on: Date
    township_code: TownshipCode


class UltrasoundRecorded(InboundData):
    SENSITIVE = ("patient_id_number", "gestation_weeks")
    DATA_SUBJECT = "patient_id_number"
    facility_id: Code
    operator_id: Code
    patient_id_number: ResidentId
    gestation_weeks: int = Field(ge=1, le=45)
    performed_on: Date


class TerminationRecorded(InboundData):
    SENSITIVE = ("patient_id_number", "gestation_weeks", "medical_indication")
    DATA_SUBJECT = "patient_id_number"
    facility_id: Code
    patient_id_number: ResidentId
    gestation_weeks: int = Field(ge=1, le=45)
    medical_indication: Remark | None
    performed_on: Date


class DeathReported(InboundData):
    SENSITIVE = ("id_number",)
    DATA_SUBJECT = "id_number"
    id_number: ResidentId
    died_on: Date


class DrugSaleRecorded(InboundData):
    SENSITIVE = ("prescription_id", "buyer_id_number")
    DATA_SUBJECT = "buyer_id_number"
    outlet_id: Code
    drug_code: Code
    quantity: int = Field(ge=1, le=100_000)
    prescription_id: Code | None
    buyer_id_number: ResidentId | None
    sold_at: AwareDatetime


class PensionStatusChanged(InboundData):
    SENSITIVE = ("id_number",)
    DATA_SUBJECT = "id_number"
    id_number: ResidentId
    status: Literal["active", "deceased", "suspended"]
    effective_on: Date


class TipReceived(InboundData):
    SENSITIVE = ("text",)
    channel: Literal["phone", "web", "letter"]
    anonymous: bool
    category: Literal["two_illegals", "subsidy_fraud", "official_misconduct", "certificate_service", "other"]
    township_code: TownshipCode | None
    text: LongText


class PetitionReceived(InboundData):
    SENSITIVE = ("petitioner_id_number", "subject", "text")
    DATA_SUBJECT = "petitioner_id_number"
    petitioner_id_number: ResidentId | None
    township_code: TownshipCode | None
    subject: ShortText
    text: LongText


class SatisfactionRated(InboundData):
    SENSITIVE = ("comment",)
    application_id: Code
    score: int = Field(ge=1, le=5)
    comment: Remark | None


class ApplicationSubmitted(InboundData):
    SENSITIVE = ("applicant_id_number", "spouse_id_number", "details")
    DATA_SUBJECT = "applicant_id_number"
    application_id: Code
    kind: Literal[
        "rebirth_approval",
        "first_child_registration",
        "only_child_honor_certificate",
        "exam_bonus_qualification",
    ]
    applicant_id_number: ResidentId
    spouse_id_number: ResidentId | None
    received_on: Date
    details: JsonObject

    @field_validator("received_on")
    @classmethod
    def _received_no_later_than_the_report(cls, value: date, info: ValidationInfo) -> date:
        """The township cannot have received an application after it reported it: a later
        received_on would start the county's clock in the future (China date of occurred_at)."""
        occurred_at = (info.context or {}).get("occurred_at")
        reported_on = occurred_at.astimezone(CHINA_TIME).date() if isinstance(occurred_at, datetime) else None
        if reported_on is not None and value > reported_on:
            message = "received_on {received_on} is after the day the township reported it (occurred_at, China date {day})"
            raise _error("received_on_after_record", message, received_on=str(value), day=str(reported_on))
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _details_follow_their_kind(cls, raw: Any, handler: Any) -> Any:
        """`details` is validated by the model of its `kind` (application_details.py);
        its errors are reported as data.details.<field> with the others."""
        from shared.contracts.application_details import details_errors

        errors: list[Any] = []
        try:
            validated = handler(raw)
        except ValidationError as exc:
            errors, validated = list(exc.errors(include_url=False)), None
        if isinstance(raw, dict):
            errors += details_errors(raw.get("kind"), raw.get("details"))
        if errors:
            line_errors = [
                {"type": PydanticCustomError(e["type"], "{message}", {"message": e["msg"]}), "loc": e["loc"], "input": e.get("input")}
                for e in errors
            ]
            raise ValidationError.from_exception_data(cls.__name__, line_errors)  # type: ignore[arg-type]
        return validated


class BeneficiaryReported(InboundData):
    SENSITIVE = ("id_number", "name", "reason")
    DATA_SUBJECT = "id_number"
    program: Literal["reward", "special"]
    id_number: ResidentId
    name: Name
    birth_date: Date
    reason: JsonObject
    year: int = Field(ge=1949, le=2100)


class FollowupRecorded(InboundData):
    SENSITIVE = ("notes",)
    payment_id: Code
    method: Literal["phone", "visit"]
    amount_confirmed: Money
    visited_on: Date
    notes: Remark


class MigrantCertificatePresented(InboundData):
    SENSITIVE = ("id_number", "certificate_no")
    DATA_SUBJECT = "id_number"
    id_number: ResidentId
    certificate_no: Code
    presented_on: Date


# kind (the subject without "county." or the township code) -> model of its v1 data.
DATA_MODELS_V1: dict[str, type[InboundData]] = {
    "police.birth.registered": BirthRegistered,
    "police.residence.registered": ResidenceRegistered,
    "health.ultrasound.recorded": UltrasoundRecorded,
    "health.termination.recorded": TerminationRecorded,
    "health.death.reported": DeathReported,
    "drug.sale.recorded": DrugSaleRecorded,
    "pension.status.changed": PensionStatusChanged,
    "hotline.tip.received": TipReceived,
    "petitions.petition.received": PetitionReceived,
    "online_hall.satisfaction.rated": SatisfactionRated,
    "township.application.submitted": ApplicationSubmitted,
    "township.beneficiary.reported": BeneficiaryReported,
    "township.followup.recorded": FollowupRecorded,
    "township.migrant.certificate_presented": MigrantCertificatePresented,
}
