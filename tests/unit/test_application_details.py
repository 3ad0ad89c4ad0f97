"""The details of each application kind are validated at intake, field by field, while
every object CONTRACT.md allows is still accepted."""

from __future__ import annotations

import json

import pytest
from applications_support import details_for

from cli.demo.records import generate_demo_records
from shared.contracts.inbound import FieldError, parse_record

KINDS = ("rebirth_approval", "first_child_registration", "only_child_honor_certificate", "exam_bonus_qualification")


def parse(inbound_sample, kind: str, details):
    subject, message = inbound_sample("township.application.submitted")
    message["data"].update(kind=kind, details=details)
    return parse_record(subject, json.dumps(message, ensure_ascii=False).encode())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("details", [{}, {"anything": "else"}, "complete"])
def test_any_object_the_contract_allows_is_accepted_for_every_kind(inbound_sample, kind, details):
    record = parse(inbound_sample, kind, details_for(kind) if details == "complete" else details)
    assert not isinstance(record, list), record


def test_the_frozen_sample_and_the_demo_applications_pass(inbound_sample):
    subject, message = inbound_sample("township.application.submitted")
    assert not isinstance(parse_record(subject, json.dumps(message).encode()), list)
    applications = [(s, e) for s, e in generate_demo_records(year=2025) if s.endswith("application.submitted")]
    assert {e["data"]["kind"] for _, e in applications} == set(KINDS)
    assert [parse_record(s, json.dumps(e, ensure_ascii=False).encode()) for s, e in applications if
            isinstance(parse_record(s, json.dumps(e, ensure_ascii=False).encode()), list)] == []


@pytest.mark.parametrize(("kind", "details", "error"), [
    ("rebirth_approval", {"existing_children": "two"}, FieldError("data.details.existing_children", "must be a list of children or a number")),
    ("rebirth_approval", {"existing_children": [{"id_number": "130132199001011230"}]},
     FieldError("data.details.existing_children.0.id_number", "is not a valid resident ID number: check digit is '0', expected '5'")),
    ("rebirth_approval", {"existing_children": [{"status": "sick"}]},
     FieldError("data.details.existing_children.0.status", "must be 'healthy', 'disabled' or 'deceased'")),
    ("first_child_registration", {"marriage_registered_on": "2026-02-30"},
     FieldError("data.details.marriage_registered_on", "is not a real calendar date (day is out of range for month)")),
    ("first_child_registration", {"household_type": "城镇"}, FieldError("data.details.household_type", "must be 'urban' or 'rural'")),
    ("only_child_honor_certificate", {"child": {"birth_date": 20200115}}, FieldError("data.details.child.birth_date", 'must be a date string "YYYY-MM-DD"')),
    ("exam_bonus_qualification", {"exam": "college"}, FieldError("data.details.exam", "must be 'zhongkao' or 'gaokao'")),
    ("exam_bonus_qualification", {"documents": "审定表"}, FieldError("data.details.documents", "must be a valid list")),
    ("exam_bonus_qualification", {"submitted_by": {"name": "周"}}, FieldError("data.details.submitted_by.id", "required field is missing")),
])
def test_a_bad_detail_is_reported_as_data_details_field(inbound_sample, kind, details, error):
    assert parse(inbound_sample, kind, details) == [error]


def test_detail_errors_are_reported_together_with_the_others(inbound_sample):
    subject, message = inbound_sample("township.application.submitted")
    message["data"].update(received_on="yesterday", details={"reason": 7})
    errors = parse_record(subject, json.dumps(message).encode())
    assert [e.field for e in errors] == ["data.received_on", "data.details.reason"]
