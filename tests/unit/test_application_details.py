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


def received(inbound_sample, received_on: str, occurred_at: str):
    subject, message = inbound_sample("township.application.submitted")
    message["occurred_at"] = occurred_at
    message["data"]["received_on"] = received_on
    return parse_record(subject, json.dumps(message, ensure_ascii=False).encode())


def test_a_received_on_later_than_the_day_the_township_reported_it_is_rejected_naming_data_received_on(inbound_sample):
    errors = received(inbound_sample, "2026-03-10", "2026-03-09T09:30:00+08:00")

    assert errors == [FieldError("data.received_on", "received_on 2026-03-10 is after the day the township reported it (occurred_at, China date 2026-03-09)")]


@pytest.mark.parametrize(("received_on", "occurred_at"), [
    ("2026-03-09", "2026-03-09T09:30:00+08:00"),  # received and reported the same day
    ("2026-03-06", "2026-03-09T09:30:00+08:00"),
    ("2026-03-10", "2026-03-09T17:30:00+00:00"),  # 01:30 on the 10th in China
])
def test_a_received_on_on_or_before_the_china_date_of_the_report_is_accepted(inbound_sample, received_on, occurred_at):
    assert not isinstance(received(inbound_sample, received_on, occurred_at), list)


def test_the_report_day_is_the_china_date_of_occurred_at_not_the_date_in_its_own_offset(inbound_sample):
    # 00:30 on the 10th in UTC+9 is 23:30 on the 9th in China: the township reported it on the 9th.
    errors = received(inbound_sample, "2026-03-10", "2026-03-10T00:30:00+09:00")
    assert [e.field for e in errors] == ["data.received_on"] and "China date 2026-03-09" in errors[0].message
