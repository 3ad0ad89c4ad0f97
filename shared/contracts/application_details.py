"""`details` of `township.<code>.application.submitted`, per application kind (v1).

CONTRACT.md says only "details (object, by kind)", so every field here is optional:
any object the contract allows is still accepted. A field that *is* present must have
the documented type (resident IDs with a valid check digit, real dates...), and an
error names it as `data.details.<field>`. Fields not listed are kept as sent.
Verification reports a missing field it needs as a finding ("information needed"),
never as a rejection. The README ("Applications and certificates") documents them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.contracts.inbound_models import (
    Date,
    Name,
    ResidentId,
    Sex,
    ShortText,
    _text,
)

DocumentName = _text(100)
ChildStatus = Literal["healthy", "disabled", "deceased"]
HouseholdType = Literal["urban", "rural"]  # 户籍性质: 城镇 / 农村


class TownshipOfficerV1(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)
    id: _text(64)  # type: ignore[valid-type]
    name: Name | None = None


class DetailsV1(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)
    documents: list[DocumentName] | None = Field(None, description="Supporting documents filed (材料), by name")
    submitted_by: TownshipOfficerV1 | None = Field(None, description="The township officer who filed it")


class ChildV1(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)
    name: Name | None = None
    sex: Sex | None = None
    birth_date: Date | None = None
    id_number: ResidentId | None = None
    status: ChildStatus | None = Field(None, description="healthy | disabled (病残, certified) | deceased")


class RebirthApprovalDetailsV1(DetailsV1):
    """再生育审批: the couple's existing children and why they ask to have another."""

    existing_children: list[ChildV1] | int | None = Field(None, description="The children, or (older filings) their number")
    reason: ShortText | None = Field(None, description="申请理由, free text; its category decides the rule")
    marriage_registered_on: Date | None = None


class FirstChildRegistrationDetailsV1(DetailsV1):
    """第一个子女生育登记卡: a married couple registering their first child."""

    marriage_registered_on: Date | None = None
    expected_due_date: Date | None = None
    household_type: HouseholdType | None = None


class OnlyChildHonorCertificateDetailsV1(DetailsV1):
    """独生子女父母光荣证: parents who commit to one child."""

    child: ChildV1 | None = None
    household_type: HouseholdType | None = None
    commitment: ShortText | None = Field(None, description="The couple's written commitment (承诺)")


class ExamBonusQualificationDetailsV1(DetailsV1):
    """农村独生子女中高考加分资格: the 《河北省农村独生子女审定表》 for a student."""

    student_name: Name | None = None
    student_id_number: ResidentId | None = None
    exam: Literal["zhongkao", "gaokao"] | None = Field(None, description="中考 or 高考")
    exam_year: int | None = Field(None, ge=2000, le=2100, description="Default: the year the township received it")
    household_type: HouseholdType | None = None
    form: ShortText | None = None


DETAILS_MODELS_V1: dict[str, type[DetailsV1]] = {
    "rebirth_approval": RebirthApprovalDetailsV1,
    "first_child_registration": FirstChildRegistrationDetailsV1,
    "only_child_honor_certificate": OnlyChildHonorCertificateDetailsV1,
    "exam_bonus_qualification": ExamBonusQualificationDetailsV1,
}


def parse_details(kind: str, details: Any) -> DetailsV1:
    """The details of an application as the model of its kind (raises ValidationError)."""
    return DETAILS_MODELS_V1[kind].model_validate(details if isinstance(details, dict) else {})


def details_errors(kind: Any, details: Any) -> list[dict[str, Any]]:
    """pydantic error dicts with locations under `details`, or [] (also for unknown kinds)."""
    model = DETAILS_MODELS_V1.get(kind) if isinstance(kind, str) else None
    if model is None or not isinstance(details, dict):
        return []
    try:
        model.model_validate(details)
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            untagged = _untagged(error, details)
            if untagged is not None and untagged not in errors:
                errors.append(untagged)
        return errors
    return []


_UNION_TAGS = {"int": int, "list[ChildV1]": list}


def _untagged(error: dict[str, Any], details: dict[str, Any]) -> dict[str, Any] | None:
    """pydantic tags errors inside `list | int` with the member it tried; keep only those
    of the member the value's type picks, without the tag (None: drop the error)."""
    loc = error["loc"]
    if len(loc) > 1 and loc[1] in _UNION_TAGS:
        value = details.get(loc[0])
        if not isinstance(value, (list, int)) or isinstance(value, bool):
            return {"type": "union_type", "loc": ("details", loc[0]), "msg": "must be a list of children or a number", "input": value}
        if not isinstance(value, _UNION_TAGS[loc[1]]):
            return None
        loc = (loc[0], *loc[2:])
    return dict(error, loc=("details", *loc))
