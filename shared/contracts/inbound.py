"""Inbound contract (CONTRACT.md): validate one record from another county system.

`parse_record(subject, raw)` turns the NATS subject and raw bytes of an inbound
message into a `ValidRecord`, or into the complete list of `FieldError`s that the
receipt sends back to the publisher. It never raises.

Decisions (where CONTRACT.md is silent):
- The `schema` names the subject and version. County subjects: the subject plus
  "/v1" ("county.police.birth.registered/v1"). Township subjects carry the
  township code, but a schema describes a message shape, not a township, so the
  schema is the subject without the code: "township.application.submitted/v1".
  "township.<code>.application.submitted/v1" is accepted too when <code> is the
  code in the subject.
- `record_id` is 1-128 printable ASCII characters without whitespace, because it is
  also the `Nats-Msg-Id` header.
- The body must be UTF-8 JSON (a leading byte-order mark is tolerated); NaN,
  Infinity, nesting deeper than 32 levels and unpaired surrogate escapes are
  rejected, so a valid record can always be stored and re-encoded.
- Fields that `data` does not declare are kept as sent. Those named by convention
  are still checked: `township_code` must be a known township (and on a township
  subject equal the subject's code); `id_number` and `*_id_number` must be valid
  resident IDs (they are normalised and listed in `person_ids`). Undeclared
  fields other than `township_code` count as sensitive: we cannot know what they hold.
- `data_subject_field` is None when the model's data-subject field is null (an
  anonymous drug sale, a petition without an ID number).
- Text is stripped; names, tip and petition text and identifiers must not be empty,
  while remarks (`comment`, `notes`, `medical_indication`) may be "".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import PydanticCustomError

from shared.contracts.inbound_models import (
    DATA_MODELS_V1,
    AwareDatetime,
    aware_datetime,
    resident_id,
    township_code,
)
from shared.contracts.townships import is_known_township

Source = Literal["police", "health", "drug", "pension", "petitions", "hotline", "online_hall", "township"]
SOURCES: tuple[str, ...] = get_args(Source)
KINDS: tuple[str, ...] = tuple(DATA_MODELS_V1)
SOURCE_OF_KIND: dict[str, str] = {kind: kind.split(".", 1)[0] for kind in KINDS}
MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path from the envelope root ("data.sex"); "" for the whole body
    message: str


@dataclass(frozen=True)
class ValidRecord:
    record_id: str
    source: str
    schema: str
    kind: str
    subject: str
    occurred_at: datetime
    township_code: str | None
    data: dict
    person_ids: dict[str, str]
    data_subject_field: str | None
    sensitive_fields: tuple[str, ...]


class Envelope(BaseModel):
    """The part of every inbound message that does not depend on the subject."""

    model_config = ConfigDict(strict=True, extra="ignore")
    record_id: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[!-~]+$")]
    schema_: str = Field(alias="schema")
    source: Source
    occurred_at: AwareDatetime
    data: dict[str, Any]


def kind_of_subject(subject: str) -> str | None:
    """The kind of a subject, or None: "county.police.birth.registered" ->
    "police.birth.registered", "township.130132100.application.submitted" ->
    "township.application.submitted". Township codes are checked by parse_record."""
    if not isinstance(subject, str):
        return None
    parts = subject.split(".")
    if parts[0] == "county" and len(parts) > 1:
        kind = ".".join(parts[1:])
        return kind if kind in DATA_MODELS_V1 and SOURCE_OF_KIND[kind] != "township" else None
    if parts[0] == "township" and len(parts) > 2 and parts[1]:
        kind = "township." + ".".join(parts[2:])
        return kind if kind in DATA_MODELS_V1 else None
    return None


def receipt_source(subject: str, raw: bytes) -> str:
    """Where to send the receipt, even for an invalid record: the source the subject
    implies, else the envelope's source if it names a known source, else "unknown".
    The subject comes first because the broker vouches for it (only the police may
    publish on county.police.>, CONTRACT.md Authentication): a record claiming another
    source is rejected (`source`), and its receipt goes to who really sent it, never
    to the source it claims."""
    kind = kind_of_subject(subject)
    if kind is not None:
        return SOURCE_OF_KIND[kind]
    parts = subject.split(".") if isinstance(subject, str) else []
    if parts[:1] == ["township"]:
        return "township"
    if len(parts) > 1 and parts[0] == "county" and parts[1] in SOURCES and parts[1] != "township":
        return parts[1]
    try:
        body = json.loads(bytes(raw).decode("utf-8-sig"))
        if isinstance(body, dict) and body.get("source") in SOURCES:
            return body["source"]
    except (ValueError, TypeError, RecursionError):
        pass
    return "unknown"


def parse_record(subject: str, raw: bytes, *, today: date | None = None) -> ValidRecord | list[FieldError]:
    """Validate one inbound message. `today` is the county's local date (default: the
    clock), against which birth dates must not lie in the future."""
    body = _load_json_object(raw)
    if isinstance(body, FieldError):
        return [body]
    kind = kind_of_subject(subject)
    errors = _subject_errors(subject, kind)
    try:
        Envelope.model_validate(body)
        bad: set[str] = set()
    except ValidationError as exc:
        envelope_errors = _field_errors(exc, prefix="")
        errors += envelope_errors
        bad = {error.field.split(".")[0] for error in envelope_errors}
    if kind is None:
        return errors
    subject_code = subject.split(".")[1] if SOURCE_OF_KIND[kind] == "township" else None
    if "schema" not in bad:
        errors += _schema_errors(body["schema"], kind, subject_code)
    if "source" not in bad and body["source"] != SOURCE_OF_KIND[kind]:
        message = f"{body['source']!r} does not match the subject; expected {SOURCE_OF_KIND[kind]!r}"
        errors.append(FieldError("source", message))
    occurred_at = aware_datetime(body["occurred_at"]) if "occurred_at" not in bad else None
    data: dict[str, Any] | None = None
    if "data" not in bad:
        context = {"today": today, "occurred_on": occurred_at.date() if occurred_at else None, "occurred_at": occurred_at}
        data = _validate_data(kind, body["data"], subject_code, context, errors)
    if errors or data is None or occurred_at is None:
        return errors
    model = DATA_MODELS_V1[kind]
    extras = tuple(name for name in data if name not in model.model_fields and name != "township_code")
    person_ids = {name: value for name, value in data.items() if _is_id_field(name) and value is not None}
    return ValidRecord(
        record_id=body["record_id"],
        source=body["source"],
        schema=body["schema"],
        kind=kind,
        subject=subject,
        occurred_at=occurred_at,
        township_code=subject_code or data.get("township_code"),
        data=data,
        person_ids=person_ids,
        data_subject_field=model.DATA_SUBJECT if model.DATA_SUBJECT in person_ids else None,
        sensitive_fields=model.SENSITIVE + extras,
    )


def _load_json_object(raw: bytes) -> dict[str, Any] | FieldError:
    try:
        text = bytes(raw).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return FieldError("", f"message body is not valid UTF-8 (bad byte at offset {exc.start})")
    except TypeError:
        return FieldError("", "message body must be bytes")
    try:
        body = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        return FieldError("", f"message body nests JSON deeper than {MAX_JSON_DEPTH} levels")
    except ValueError as exc:
        return FieldError("", f"message body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return FieldError("", f"message body must be a JSON object, got {_json_type(body)}")
    return _check_tree(body) or body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _check_tree(body: dict[str, Any]) -> FieldError | None:
    stack: list[tuple[str, Any, int]] = [("", body, 1)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return FieldError("", f"message body nests JSON deeper than {MAX_JSON_DEPTH} levels")
        for key, child in _children(value):
            child_path = f"{path}.{key}" if path else str(key)
            for text in (key, child):
                if isinstance(text, str) and not _encodable(text):
                    return FieldError(child_path, "contains an unpaired UTF-16 surrogate (\\ud800-\\udfff)")
            stack.append((child_path, child, depth + 1))
    return None


def _children(value: Any) -> Any:
    if isinstance(value, dict):
        return value.items()
    return enumerate(value) if isinstance(value, list) else ()


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _subject_errors(subject: str, kind: str | None) -> list[FieldError]:
    if kind is None:
        shown = repr(subject[:200]) if isinstance(subject, str) else repr(type(subject).__name__)
        known = ", ".join(_subject_pattern(known_kind) for known_kind in KINDS)
        return [FieldError("subject", f"unknown subject {shown}; expected one of {known}")]
    if SOURCE_OF_KIND[kind] == "township" and not is_known_township(subject.split(".")[1]):
        return [FieldError("subject", f"unknown township code {subject.split('.')[1][:40]!r} in the subject")]
    return []


def _subject_pattern(kind: str) -> str:
    if kind.startswith("township."):
        return kind.replace("township.", "township.<code>.", 1)
    return f"county.{kind}"


def _schema_errors(schema: str, kind: str, subject_code: str | None) -> list[FieldError]:
    expected = f"{kind}/v1" if subject_code is not None else f"county.{kind}/v1"
    accepted = {expected}
    if subject_code is not None:
        accepted.add(expected.replace("township.", f"township.{subject_code}.", 1))
    if schema in accepted:
        return []
    shown = repr(schema[:200])
    if "/" not in schema:
        problem = f"schema {shown} has no version"
    elif schema.rsplit("/", 1)[0] in {name.rsplit("/", 1)[0] for name in accepted}:
        problem = f"unsupported schema version {shown}"
    else:
        problem = f"schema {shown} does not match the subject"
    return [FieldError("schema", f"{problem}; expected {expected!r}")]


def _validate_data(kind: str, raw_data: dict[str, Any], subject_code: str | None,
                   context: dict[str, Any], errors: list[FieldError]) -> dict[str, Any] | None:
    model = DATA_MODELS_V1[kind]
    declared: dict[str, Any] | None = None
    try:
        declared = model.model_validate(raw_data, context=context).model_dump(mode="json")
    except ValidationError as exc:
        errors += _field_errors(exc, prefix="data.")
    extras: dict[str, Any] = {}
    for name, value in raw_data.items():
        if name in model.model_fields:
            continue
        extras[name] = value
        if value is None:
            continue
        checker = township_code if name == "township_code" else resident_id if _is_id_field(name) else None
        if checker is None:
            continue
        try:
            extras[name] = checker(value)
        except PydanticCustomError as exc:
            errors.append(FieldError(f"data.{name}", exc.message()))
    code = raw_data.get("township_code")
    if subject_code is not None and code is not None and code != subject_code and is_known_township(code):
        errors.append(FieldError("data.township_code", "does not match the township code in the subject"))
    return None if declared is None else {**declared, **extras}


def _is_id_field(name: str) -> bool:
    return name == "id_number" or name.endswith("_id_number")


_MESSAGES = {
    "missing": "required field is missing",
    "dict_type": "must be a JSON object",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "string_too_short": "must not be empty",
}


def _field_errors(exc: ValidationError, prefix: str) -> list[FieldError]:
    errors = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        path = ".".join(str(part) for part in error["loc"])
        errors.append(FieldError((prefix + path) if path else prefix.rstrip("."), _message(error)))
    return errors


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "string_pattern_mismatch":
        return "must be printable ASCII characters without whitespace"
    message = _MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))
    if message.startswith("Input should be"):  # pydantic's wording, made to match ours
        return "must be" + message.removeprefix("Input should be")
    return message


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
