"""The inbound contract (CONTRACT.md): what intake accepts, and what it tells publishers."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contracts.identity import make_resident_id, normalise_resident_id
from shared.contracts.inbound import (
    KINDS,
    SOURCE_OF_KIND,
    FieldError,
    ValidRecord,
    kind_of_subject,
    parse_record,
    receipt_source,
)

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "inbound"
MONEY_MESSAGE = 'money must be a decimal string in yuan, e.g. "960.00"'


def sample(kind: str) -> tuple[str, dict]:
    frozen = json.loads((SAMPLES / f"{kind}.v1.json").read_text(encoding="utf-8"))
    return frozen["subject"], copy.deepcopy(frozen["message"])


def encode(message: object) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


def parse(subject: str, message: object, **kwargs) -> ValidRecord | list[FieldError]:
    return parse_record(subject, encode(message), **kwargs)


def errors_of(subject: str, message: object) -> dict[str, str]:
    result = parse(subject, message)
    assert isinstance(result, list), "expected the record to be rejected"
    return {error.field: error.message for error in result}


def accepted(subject: str, message: object) -> ValidRecord:
    result = parse(subject, message)
    assert isinstance(result, ValidRecord), result
    return result


def with_data(kind: str, /, **changes: object) -> tuple[str, dict]:
    subject, message = sample(kind)
    message["data"].update(changes)
    return subject, message


# --- frozen samples ---------------------------------------------------------------

def test_there_is_a_frozen_v1_sample_for_every_kind():
    assert sorted(path.name for path in SAMPLES.glob("*.v1.json")) == sorted(f"{kind}.v1.json" for kind in KINDS)
    assert len(KINDS) == 14


@pytest.mark.parametrize("kind", KINDS)
def test_every_frozen_v1_sample_is_accepted(kind):
    subject, message = sample(kind)
    record = accepted(subject, message)
    assert record.kind == kind
    assert record.source == SOURCE_OF_KIND[kind] == message["source"]
    assert record.schema == message["schema"]
    assert record.record_id == message["record_id"]
    assert record.occurred_at.utcoffset() is not None
    assert record.data == message["data"], "a canonical sample comes back unchanged"
    assert set(record.sensitive_fields) <= set(record.data)
    assert set(record.person_ids) <= set(record.sensitive_fields)
    assert record.data_subject_field is None or record.data_subject_field in record.person_ids


def test_a_birth_record_names_the_mother_as_data_subject_and_lists_both_parents():
    record = accepted(*sample("police.birth.registered"))
    assert record.data_subject_field == "mother_id_number"
    assert set(record.person_ids) == {"mother_id_number", "father_id_number"}
    assert {"child_name", "mother_id_number", "father_id_number"} <= set(record.sensitive_fields)
    assert "sex" not in record.sensitive_fields, "sex ratio statistics need the sex in the clear"
    assert record.township_code == "130132100"


def test_a_township_record_takes_its_township_from_the_subject():
    record = accepted(*sample("township.application.submitted"))
    assert record.township_code == "130132102"
    assert record.kind == "township.application.submitted"
    assert record.subject == "township.130132102.application.submitted"


def test_an_anonymous_drug_sale_has_no_data_subject():
    record = accepted(*with_data("drug.sale.recorded", buyer_id_number=None, prescription_id=None))
    assert record.person_ids == {}
    assert record.data_subject_field is None


# --- resident IDs -----------------------------------------------------------------

def test_identity_accepts_a_known_valid_id_with_an_x_check_digit():
    assert normalise_resident_id("11010519491231002X") == "11010519491231002X"
    assert normalise_resident_id("11010519491231002x") == "11010519491231002X"


def test_a_wrong_check_digit_is_rejected_naming_the_field():
    subject, message = sample("police.birth.registered")
    good = message["data"]["father_id_number"]
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    message["data"]["father_id_number"] = wrong
    errors = errors_of(subject, message)
    assert list(errors) == ["data.father_id_number"]
    assert f"check digit is {wrong[17]!r}, expected {good[17]!r}" in errors["data.father_id_number"]


def test_a_lower_case_x_and_full_width_digits_are_normalised():
    mother = make_resident_id("130132", date(1996, 5, 12), 242)
    assert mother.endswith("X")
    full_width = mother[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "x"
    record = accepted(*with_data("police.birth.registered", mother_id_number=full_width))
    assert record.data["mother_id_number"] == mother
    assert record.person_ids["mother_id_number"] == mother


def test_a_resident_id_of_the_wrong_length_is_rejected_with_the_reason():
    errors = errors_of(*with_data("health.death.reported", id_number="13013219410417315"))
    assert "must be 18 characters, got 17" in errors["data.id_number"]


# --- money ------------------------------------------------------------------------

@pytest.mark.parametrize("amount", [960.0, 960, 960.5])
def test_money_as_a_float_is_rejected(amount):
    errors = errors_of(*with_data("township.followup.recorded", amount_confirmed=amount))
    assert errors == {"data.amount_confirmed": MONEY_MESSAGE}


@pytest.mark.parametrize(("sent", "stored"), [("960", "960.00"), ("960.5", "960.50"), ("0", "0.00"), ("1200.00", "1200.00")])
def test_money_strings_are_stored_in_canonical_form(sent, stored):
    record = accepted(*with_data("township.followup.recorded", amount_confirmed=sent))
    assert record.data["amount_confirmed"] == stored


@pytest.mark.parametrize(("amount", "reason"), [
    ("960.005", "at most 2 decimal places"), ("-5.00", "must not be negative"),
    ("960,00", MONEY_MESSAGE), ("", MONEY_MESSAGE), ("1e3", MONEY_MESSAGE), (" 960.00", MONEY_MESSAGE),
])
def test_malformed_money_is_rejected(amount, reason):
    errors = errors_of(*with_data("township.followup.recorded", amount_confirmed=amount))
    assert reason in errors["data.amount_confirmed"]


# --- envelope ---------------------------------------------------------------------

def test_all_errors_are_reported_together():
    subject, message = sample("police.birth.registered")
    message.update(record_id="", source="health", occurred_at="2026-03-02 09:15:00")
    message["data"].update(sex="male", birth_order=0, township_code="999999999")
    del message["data"]["child_name"]
    errors = errors_of(subject, message)
    assert set(errors) == {"record_id", "source", "occurred_at", "data.sex", "data.birth_order",
                           "data.township_code", "data.child_name"}
    assert errors["data.child_name"] == "required field is missing"


def test_source_must_match_subject():
    subject, message = sample("health.ultrasound.recorded")
    message["source"] = "police"
    errors = errors_of(subject, message)
    assert list(errors) == ["source"]
    assert "expected 'health'" in errors["source"]


def test_an_unknown_source_name_is_rejected():
    subject, message = sample("health.ultrasound.recorded")
    message["source"] = "hospital"
    assert list(errors_of(subject, message)) == ["source"]


@pytest.mark.parametrize("subject", [
    "county.police.birth.deleted", "county.township.application.submitted", "township.application.submitted",
    "county", "", "fp.intake.police.birth.registered", "county.police.birth.registered.extra",
])
def test_unknown_subject_is_rejected(subject):
    _, message = sample("police.birth.registered")
    errors = errors_of(subject, message)
    assert list(errors) == ["subject"]
    assert "unknown subject" in errors["subject"]


def test_an_unknown_township_in_the_subject_is_rejected():
    _, message = sample("township.application.submitted")
    errors = errors_of("township.130132999.application.submitted", message)
    assert errors == {"subject": "unknown township code '130132999' in the subject"}


def test_the_township_schema_leaves_out_the_township_code_but_may_name_the_same_one():
    subject, message = sample("township.application.submitted")
    assert message["schema"] == "township.application.submitted/v1"
    message["schema"] = "township.130132102.application.submitted/v1"
    assert accepted(subject, message).schema == "township.130132102.application.submitted/v1"
    message["schema"] = "township.130132100.application.submitted/v1"
    assert list(errors_of(subject, message)) == ["schema"]


@pytest.mark.parametrize(("schema", "reason"), [
    ("county.police.birth.registered/v2", "unsupported schema version"),
    ("county.police.birth.registered", "has no version"),
    ("county.police.residence.registered/v1", "does not match the subject"),
])
def test_schema_must_match_the_subject_and_be_v1(schema, reason):
    subject, message = sample("police.birth.registered")
    message["schema"] = schema
    errors = errors_of(subject, message)
    assert reason in errors["schema"]
    assert "county.police.birth.registered/v1" in errors["schema"]


def test_naive_occurred_at_is_rejected():
    subject, message = sample("police.birth.registered")
    message["occurred_at"] = "2026-03-02T09:15:00"
    errors = errors_of(subject, message)
    assert list(errors) == ["occurred_at"]
    assert "UTC offset" in errors["occurred_at"]


def test_occurred_at_in_utc_is_accepted_and_kept_aware():
    subject, message = sample("police.birth.registered")
    message["occurred_at"] = "2026-03-02T01:15:00Z"
    record = accepted(subject, message)
    assert record.occurred_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("record_id", ["", "PSB 2026", "PSB-\n1", "x" * 129, 123, None, "编号-1"])
def test_record_id_must_be_short_printable_text_without_whitespace(record_id):
    subject, message = sample("police.birth.registered")
    message["record_id"] = record_id
    assert list(errors_of(subject, message)) == ["record_id"]


@pytest.mark.parametrize("missing", ["record_id", "schema", "source", "occurred_at", "data"])
def test_every_envelope_field_is_required(missing):
    subject, message = sample("pension.status.changed")
    del message[missing]
    assert errors_of(subject, message) == {missing: "required field is missing"}


@pytest.mark.parametrize(("raw", "reason"), [
    (b"\xff\xfe{}", "not valid UTF-8"), (b"{", "not valid JSON"), (b"[1, 2]", "must be a JSON object, got an array"),
    (b'"text"', "got a string"), (b"null", "got null"), (b'{"a": NaN}', "NaN is not allowed"), (b"", "not valid JSON"),
    (b"[" * 5000 + b"]" * 5000, "deeper than 32 levels"), (b'{"a":' * 40 + b"1" + b"}" * 40, "deeper than 32 levels"),
])
def test_a_body_that_is_not_a_utf8_json_object_is_one_whole_body_error(raw, reason):
    result = parse_record("county.police.birth.registered", raw)
    assert isinstance(result, list) and len(result) == 1
    assert result[0].field == ""
    assert reason in result[0].message


def test_a_leading_byte_order_mark_is_tolerated():
    subject, message = sample("health.death.reported")
    assert isinstance(parse_record(subject, b"\xef\xbb\xbf" + encode(message)), ValidRecord)


def test_an_unpaired_surrogate_escape_is_rejected_where_it_is():
    subject, message = sample("hotline.tip.received")
    raw = encode(message).replace("南佐镇".encode(), b"\\ud800")
    result = parse_record(subject, raw)
    assert [error.field for error in result] == ["data.text"]


# --- data fields ------------------------------------------------------------------

def test_extra_data_fields_are_kept():
    record = accepted(*with_data("health.death.reported", cause="心力衰竭", hospital={"id": "YSX-HOSP-001"}))
    assert record.data["cause"] == "心力衰竭"
    assert record.data["hospital"] == {"id": "YSX-HOSP-001"}
    assert {"cause", "hospital"} <= set(record.sensitive_fields), "unknown fields are treated as sensitive"


def test_an_extra_id_number_field_is_checked_and_listed_as_a_person():
    child = make_resident_id("130132", date(2026, 2, 26), 248)
    record = accepted(*with_data("police.birth.registered", child_id_number=child.lower()))
    assert record.person_ids["child_id_number"] == child
    wrong = child[:17] + ("1" if child[17] == "0" else "0")
    errors = errors_of(*with_data("police.birth.registered", child_id_number=wrong))
    assert list(errors) == ["data.child_id_number"]


def test_an_extra_township_code_must_be_known_and_match_a_township_subject():
    assert accepted(*with_data("health.death.reported", township_code="130132107")).township_code == "130132107"
    assert list(errors_of(*with_data("health.death.reported", township_code="130132999"))) == ["data.township_code"]
    assert accepted(*with_data("township.followup.recorded", township_code="130132200")).township_code == "130132200"
    errors = errors_of(*with_data("township.followup.recorded", township_code="130132201"))
    assert errors == {"data.township_code": "does not match the township code in the subject"}


@pytest.mark.parametrize(("kind", "field"), [
    ("police.birth.registered", "father_id_number"), ("health.termination.recorded", "medical_indication"),
    ("drug.sale.recorded", "prescription_id"), ("drug.sale.recorded", "buyer_id_number"),
    ("hotline.tip.received", "township_code"), ("petitions.petition.received", "petitioner_id_number"),
    ("petitions.petition.received", "township_code"), ("online_hall.satisfaction.rated", "comment"),
    ("township.application.submitted", "spouse_id_number"),
])
def test_nullable_fields_must_be_present_but_may_be_null(kind, field):
    record = accepted(*with_data(kind, **{field: None}))
    assert record.data[field] is None
    assert field not in record.person_ids
    subject, message = sample(kind)
    del message["data"][field]
    assert errors_of(subject, message) == {f"data.{field}": "required field is missing"}


def test_a_null_required_field_is_rejected():
    errors = errors_of(*with_data("police.birth.registered", mother_id_number=None))
    assert list(errors) == ["data.mother_id_number"]


def test_an_unknown_township_code_in_data_is_rejected():
    errors = errors_of(*with_data("police.residence.registered", township_code="130132300"))
    assert errors == {"data.township_code": "unknown township code '130132300'"}


@pytest.mark.parametrize("value", ["2026/02/26", "20260226", "2026-2-6", "26-02-2026", "2026-02-26T00:00:00+08:00",
                                   20260226, "2026-02-30", "２０２６-02-26"])
def test_dates_must_be_real_and_written_yyyy_mm_dd(value):
    errors = errors_of(*with_data("health.death.reported", died_on=value))
    assert list(errors) == ["data.died_on"]


def test_sold_at_needs_an_offset():
    assert list(errors_of(*with_data("drug.sale.recorded", sold_at="2026-03-06T11:09:41"))) == ["data.sold_at"]
    assert list(errors_of(*with_data("drug.sale.recorded", sold_at=1772766581))) == ["data.sold_at"]


def test_a_birth_date_in_the_future_is_rejected():
    subject, message = sample("township.beneficiary.reported")
    errors = {e.field: e.message for e in parse(subject, message, today=date(1965, 10, 18))}
    assert errors == {"data.birth_date": "birth date is in the future"}


def test_a_birth_date_after_the_record_occurred_is_rejected():
    subject, message = sample("police.birth.registered")
    message["data"]["birth_date"] = "2026-03-03"
    errors = errors_of(subject, message)
    assert errors == {"data.birth_date": "birth date is after the date of occurred_at (2026-03-02)"}


@pytest.mark.parametrize(("kind", "field", "value"), [
    ("police.birth.registered", "sex", "m"), ("police.residence.registered", "sex", "女"),
    ("pension.status.changed", "status", "dead"), ("hotline.tip.received", "channel", "email"),
    ("hotline.tip.received", "category", "fraud"), ("township.application.submitted", "kind", "rebirth"),
    ("township.beneficiary.reported", "program", "Reward"), ("township.followup.recorded", "method", "sms"),
])
def test_enumerations_accept_only_the_contract_values(kind, field, value):
    assert list(errors_of(*with_data(kind, **{field: value}))) == [f"data.{field}"]


@pytest.mark.parametrize(("kind", "field", "value"), [
    ("police.birth.registered", "birth_order", 0), ("police.birth.registered", "birth_order", "2"),
    ("police.birth.registered", "birth_order", 2.0), ("police.birth.registered", "birth_order", True),
    ("health.ultrasound.recorded", "gestation_weeks", 0), ("health.ultrasound.recorded", "gestation_weeks", 46),
    ("drug.sale.recorded", "quantity", 0), ("online_hall.satisfaction.rated", "score", 6),
    ("online_hall.satisfaction.rated", "score", 0), ("township.beneficiary.reported", "year", 1948),
    ("township.beneficiary.reported", "year", 2101), ("hotline.tip.received", "anonymous", "yes"),
    ("hotline.tip.received", "anonymous", 1),
])
def test_numbers_and_flags_must_be_json_values_of_the_right_type_and_range(kind, field, value):
    assert list(errors_of(*with_data(kind, **{field: value}))) == [f"data.{field}"]


@pytest.mark.parametrize(("kind", "field"), [("township.application.submitted", "details"),
                                             ("township.beneficiary.reported", "reason")])
@pytest.mark.parametrize("value", [[], "text", 1, None])
def test_details_and_reason_must_be_json_objects(kind, field, value):
    errors = errors_of(*with_data(kind, **{field: value}))
    assert list(errors) == [f"data.{field}"]


@pytest.mark.parametrize(("kind", "field"), [
    ("police.birth.registered", "child_name"), ("township.beneficiary.reported", "name"),
    ("hotline.tip.received", "text"), ("petitions.petition.received", "subject"),
    ("health.ultrasound.recorded", "facility_id"),
])
@pytest.mark.parametrize("value", ["", "   "])
def test_names_text_and_identifiers_must_not_be_empty(kind, field, value):
    assert errors_of(*with_data(kind, **{field: value})) == {f"data.{field}": "must not be empty"}


def test_text_is_stripped_and_remarks_may_be_empty():
    record = accepted(*with_data("township.followup.recorded", notes=""))
    assert record.data["notes"] == ""
    assert accepted(*with_data("police.birth.registered", child_name=" 王子涵 ")).data["child_name"] == "王子涵"


def test_overlong_text_is_rejected():
    assert list(errors_of(*with_data("police.birth.registered", child_name="王" * 65))) == ["data.child_name"]


def test_data_must_be_a_json_object():
    subject, message = sample("health.death.reported")
    message["data"] = ["130132194104173154"]
    assert errors_of(subject, message) == {"data": "must be a JSON object"}


# --- subjects and receipts --------------------------------------------------------

def test_kind_of_subject_drops_the_county_prefix_and_the_township_code():
    assert kind_of_subject("county.police.birth.registered") == "police.birth.registered"
    assert kind_of_subject("township.130132100.application.submitted") == "township.application.submitted"
    assert kind_of_subject("county.online_hall.satisfaction.rated") == "online_hall.satisfaction.rated"
    assert kind_of_subject("county.police.birth") is None
    assert kind_of_subject("county.township.application.submitted") is None
    assert SOURCE_OF_KIND["township.migrant.certificate_presented"] == "township"


def test_the_receipt_goes_to_the_subject_source_which_the_broker_vouches_for():
    subject, message = sample("health.death.reported")
    assert receipt_source(subject, encode(message)) == "health"
    message["source"] = "pension"  # a health record claiming to be the pension roll's
    assert receipt_source(subject, encode(message)) == "health"
    message["source"] = "nobody"
    assert receipt_source(subject, encode(message)) == "health"
    assert receipt_source("county.drug.unknown.thing", b"\xff") == "drug"
    assert receipt_source("township.999.anything", b'{"source": "police"}') == "township"
    assert receipt_source("elsewhere.x", b'{"source": "police"}') == "police"
    assert receipt_source("elsewhere.x", b"{}") == "unknown"


@pytest.mark.parametrize(("kind", "claimed"), [
    ("police.birth.registered", "health"),
    ("health.death.reported", "township"),
    ("township.application.submitted", "police"),
    ("hotline.tip.received", "petitions"),
])
def test_a_source_that_disagrees_with_the_subject_is_rejected_naming_source(kind, claimed):
    subject, message = sample(kind)
    message["source"] = claimed
    errors = errors_of(subject, message)
    assert list(errors) == ["source"]
    assert f"expected {SOURCE_OF_KIND[kind]!r}" in errors["source"]
    assert receipt_source(subject, encode(message)) == SOURCE_OF_KIND[kind]


# --- robustness -------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
subjects = st.sampled_from(
    ["county.police.birth.registered", "township.130132100.application.submitted", "township.x.followup.recorded"]
) | st.text(max_size=40)


def assert_a_record_or_errors(result: object) -> None:
    assert isinstance(result, ValidRecord) or (
        isinstance(result, list) and result and all(isinstance(error, FieldError) for error in result)
    )


@settings(max_examples=300, database=None)
@given(subject=subjects, raw=st.binary(max_size=200))
def test_parse_record_never_raises_on_arbitrary_bytes(subject, raw):
    assert_a_record_or_errors(parse_record(subject, raw))
    assert isinstance(receipt_source(subject, raw), str)


@settings(max_examples=300, database=None)
@given(subject=subjects, body=json_values)
def test_parse_record_never_raises_on_arbitrary_json(subject, body):
    assert_a_record_or_errors(parse_record(subject, json.dumps(body).encode()))


@settings(max_examples=500, database=None)
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_parse_record_never_raises_when_one_field_of_a_sample_is_replaced(kind, data):
    subject, message = sample(kind)
    target = data.draw(st.sampled_from([message, message["data"]]))
    field = data.draw(st.sampled_from(sorted(target)) | st.text(max_size=12))
    target[field] = data.draw(json_values)
    result = parse_record(subject, encode(message))
    assert_a_record_or_errors(result)
    if isinstance(result, ValidRecord):
        json.dumps(result.data, ensure_ascii=False).encode("utf-8")
