"""Intake's use case: a record is validated, then accepted or rejected, exactly once.

On the in-memory store of tests/unit/conftest.py; tests/integration/test_store_checks_on_every_backend.py
runs the tests that touch the store again on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json

import pytest

from services.intake.application.handlers import (
    Accepted,
    AlreadyHandled,
    Duplicate,
    IntakeUseCase,
    Rejected,
)
from services.intake.domain.submission import RejectedRecord, Submission, submission_id
from shared.contracts.inbound import KINDS, ValidRecord, parse_record
from shared.privacy.protection import is_token

APPLICATION = "township.application.submitted"
TIP = "hotline.tip.received"
BIRTH = "police.birth.registered"


def stored_events(store) -> list:
    return [store.decode(notification) for notification in store.read_log(0, 100)]


def encode(message: dict) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode()


@pytest.fixture
def invalid_birth(inbound_sample):
    """invalid_birth(): a birth record with four faults, each a different way to be wrong."""

    def make() -> dict:
        _, message = inbound_sample(BIRTH)
        message["data"].update(sex="X", birth_order=0, mother_id_number="130132199605122421")
        del message["data"]["township_code"]
        return message

    return make


# --- accepted ---------------------------------------------------------------------


def test_a_valid_record_is_accepted_as_a_submission_keyed_by_its_source_and_record_id(intake, intake_store, delivery):
    outcome = intake.record(delivery(APPLICATION, seq=7))

    assert outcome == Accepted(submission_id("township", "JSB-130132102-2026-0057"))
    submission = intake_store.find(outcome.submission_id)
    assert isinstance(submission, Submission)
    assert (submission.source, submission.record_id, submission.kind) == ("township", "JSB-130132102-2026-0057", APPLICATION)
    assert submission.inbox_sequence == 7
    assert submission.township_code == "130132102"
    assert submission.received_at == "2026-03-09T01:30:00+00:00"
    assert [type(event) for event in stored_events(intake_store)] == [Submission.Accepted]


def test_a_rebirth_application_is_routed_to_the_regulations_section(intake, intake_store, delivery):
    outcome = intake.record(delivery(APPLICATION))

    submission = intake_store.find(outcome.submission_id)
    assert submission.routing == {"section": "法规科", "section_en": "Regulations Section", "duty_no": 4, "item_no": 1}


def test_a_hotline_tip_is_routed_to_the_enforcement_brigade(intake, intake_store, delivery):
    outcome = intake.record(delivery(TIP))

    submission = intake_store.find(outcome.submission_id)
    assert submission.routing == {"section": "执法大队", "section_en": "Enforcement Brigade", "duty_no": 9, "item_no": 1}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_routed_to_the_section_the_duty_register_names(intake, intake_store, delivery, duty_register, kind, inbound_sample):
    outcome = intake.record(delivery(kind))

    assert isinstance(outcome, Accepted)
    subject, message = inbound_sample(kind)
    expected = duty_register.route(kind, message["data"]["kind"] if kind == APPLICATION else None)
    routing = intake_store.find(outcome.submission_id).routing
    assert (routing["section"], routing["duty_no"], routing["item_no"]) == (expected.section, expected.duty_no, expected.item_no)


# --- personal data ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_sensitive_field_is_stored_as_an_encrypted_token_of_its_value(intake, intake_store, delivery, protector, kind, inbound_sample):
    subject, message = inbound_sample(kind)
    record = parse_record(subject, encode(message))
    assert isinstance(record, ValidRecord)

    outcome = intake.record(delivery(kind))

    stored = intake_store.find(outcome.submission_id).data
    for field in record.sensitive_fields:
        if record.data.get(field) is None:
            assert stored.get(field) is None
            continue
        assert is_token(stored[field]), field
        assert stored[field]["subject"] == intake_store.find(outcome.submission_id).data_subject_ref
        assert protector.decrypt(stored[field]) == record.data[field]
    for field in set(record.data) - set(record.sensitive_fields):
        assert stored[field] == record.data[field], "fields that are not personal stay readable"


@pytest.mark.parametrize("kind", KINDS)
def test_no_plain_resident_id_number_or_personal_text_appears_anywhere_in_the_stored_event(intake, intake_store, delivery, kind, inbound_sample):
    subject, message = inbound_sample(kind)
    record = parse_record(subject, encode(message))
    plain_values = [value for field, value in record.data.items() if field in record.sensitive_fields and isinstance(value, str)]

    intake.record(delivery(kind))

    [notification] = intake_store.read_log(0, 100)
    event_repr = repr(intake_store.decode(notification))
    for value in plain_values:
        assert value not in event_repr
        assert value.encode() not in notification.state
        assert value.encode("unicode_escape") not in notification.state


def test_the_keyed_person_refs_of_every_id_number_are_stored_instead_of_the_numbers(intake, intake_store, delivery, protector, inbound_sample):
    _, message = inbound_sample(APPLICATION)
    applicant, spouse = message["data"]["applicant_id_number"], message["data"]["spouse_id_number"]

    outcome = intake.record(delivery(APPLICATION))

    submission = intake_store.find(outcome.submission_id)
    assert submission.person_refs == {
        "applicant_id_number": protector.person_ref(applicant),
        "spouse_id_number": protector.person_ref(spouse),
    }
    assert submission.data_subject_ref == protector.person_ref(applicant), "the applicant is the data subject"
    assert applicant not in repr(stored_events(intake_store))
    assert spouse not in repr(stored_events(intake_store))


def test_a_birth_record_names_the_mother_as_its_data_subject_and_encrypts_the_childs_name(intake, intake_store, delivery, protector, inbound_sample):
    _, message = inbound_sample(BIRTH)

    outcome = intake.record(delivery(BIRTH))

    submission = intake_store.find(outcome.submission_id)
    assert submission.data_subject_ref == protector.person_ref(message["data"]["mother_id_number"])
    assert is_token(submission.data["child_name"])
    assert "王子涵" not in repr(stored_events(intake_store))


def test_an_anonymous_tip_is_encrypted_under_a_key_of_its_own_record(intake, intake_store, delivery, protector):
    outcome = intake.record(delivery(TIP))

    submission = intake_store.find(outcome.submission_id)
    assert submission.person_refs == {}
    assert submission.data_subject_ref == protector.subject_ref_for_record("hotline", "HL-2026-000642")
    assert submission.data["text"]["subject"] == submission.data_subject_ref
    assert submission.data["anonymous"] is True


# --- the same record again ----------------------------------------------------------


def test_the_same_record_id_on_a_later_inbox_sequence_is_a_duplicate_of_the_first_submission(intake, intake_store, delivery):
    first = intake.record(delivery(APPLICATION, seq=1))

    again = intake.record(delivery(APPLICATION, seq=9))

    assert isinstance(again, Duplicate)
    assert again.first.id == first.submission_id
    assert again.first.inbox_sequence == 1
    assert len(stored_events(intake_store)) == 1, "a duplicate never becomes a second fact"


def test_a_record_published_twice_keeps_its_first_submission_even_if_the_second_differs(intake, intake_store, delivery, inbound_sample):
    _, message = inbound_sample(APPLICATION)
    first = intake.record(delivery(APPLICATION, seq=1))
    message["data"]["received_on"] = "2026-03-07"

    again = intake.record(delivery(APPLICATION, seq=2, body_override=message))

    assert isinstance(again, Duplicate)
    assert intake_store.find(first.submission_id).data["received_on"] == "2026-03-06"


def test_the_same_inbox_sequence_redelivered_is_already_handled_and_adds_no_event(intake, intake_store, delivery):
    intake.record(delivery(APPLICATION, seq=3))
    head = intake_store.log_head()

    outcome = intake.record(delivery(APPLICATION, seq=3))

    assert outcome == AlreadyHandled()
    assert intake_store.log_head() == head


def test_the_same_record_id_from_another_source_is_a_different_submission(intake, intake_store, delivery, inbound_sample):
    _, tip = inbound_sample(TIP)
    _, petition = inbound_sample("petitions.petition.received")
    petition["record_id"] = tip["record_id"]

    first = intake.record(delivery(TIP, seq=1))
    second = intake.record(delivery("petitions.petition.received", seq=2, body_override=petition))

    assert isinstance(second, Accepted)
    assert second.submission_id != first.submission_id


# --- rejected ---------------------------------------------------------------------


def test_an_invalid_record_is_rejected_with_every_field_error(intake, intake_store, delivery, invalid_birth):
    outcome = intake.record(delivery(BIRTH, seq=5, body_override=invalid_birth()))

    assert isinstance(outcome, Rejected)
    rejected = intake_store.find(outcome.rejection_id)
    assert isinstance(rejected, RejectedRecord)
    assert [error["field"] for error in rejected.errors] == [
        "data.sex",
        "data.birth_order",
        "data.mother_id_number",
        "data.township_code",
    ]
    assert all(error["message"] for error in rejected.errors)
    assert (rejected.inbox_stream, rejected.inbox_sequence) == ("COUNTY_INBOX", 5)
    assert (rejected.source, rejected.record_id, rejected.subject) == ("police", "PSB-2026-000123", "county.police.birth.registered")


def test_a_rejected_record_keeps_its_raw_bytes_encrypted(intake, intake_store, delivery, protector, invalid_birth):
    inbound = delivery(BIRTH, seq=5, body_override=invalid_birth())

    outcome = intake.record(inbound)

    rejected = intake_store.find(outcome.rejection_id)
    assert is_token(rejected.raw)
    assert base64.b64decode(protector.decrypt(rejected.raw)) == inbound.body
    assert protector.decrypt(rejected.raw) == base64.b64encode(inbound.body).decode()
    assert "130132199605122421" not in repr(stored_events(intake_store))
    assert "王子涵" not in repr(stored_events(intake_store))


def test_a_rejected_record_is_not_blocked_or_changed_by_a_later_valid_record_with_its_record_id(intake, intake_store, delivery, invalid_birth):
    rejected = intake.record(delivery(BIRTH, seq=5, body_override=invalid_birth()))
    errors_before = intake_store.find(rejected.rejection_id).errors

    corrected = intake.record(delivery(BIRTH, seq=6))

    assert isinstance(corrected, Accepted)
    kept = intake_store.find(rejected.rejection_id)
    assert kept.version == 1
    assert kept.errors == errors_before
    assert [type(event) for event in stored_events(intake_store)] == [RejectedRecord.Rejected, Submission.Accepted]


def test_a_redelivered_invalid_message_is_already_handled(intake, intake_store, delivery, invalid_birth):
    intake.record(delivery(BIRTH, seq=5, body_override=invalid_birth()))
    head = intake_store.log_head()

    outcome = intake.record(delivery(BIRTH, seq=5, body_override=invalid_birth()))

    assert outcome == AlreadyHandled()
    assert intake_store.log_head() == head


def test_the_same_invalid_record_on_another_inbox_sequence_is_rejected_again(intake, intake_store, delivery, invalid_birth):
    first = intake.record(delivery(BIRTH, seq=5, body_override=invalid_birth()))

    second = intake.record(delivery(BIRTH, seq=6, body_override=invalid_birth()))

    assert isinstance(second, Rejected)
    assert second.rejection_id != first.rejection_id


def test_a_record_that_is_not_json_at_all_is_rejected_with_the_whole_body_field(intake, intake_store, delivery, protector):
    inbound = delivery(BIRTH, seq=8, body_override=b"\x00not json{")

    outcome = intake.record(inbound)

    assert isinstance(outcome, Rejected)
    rejected = intake_store.find(outcome.rejection_id)
    assert [error["field"] for error in rejected.errors] == [""]
    assert rejected.record_id is None
    assert rejected.source == "police", "the receipt goes to the source the subject implies"
    assert base64.b64decode(protector.decrypt(rejected.raw)) == b"\x00not json{"


def test_a_rejection_keeps_the_record_id_it_claims_only_if_it_could_be_an_id(intake, intake_store, delivery, invalid_birth):
    message = invalid_birth()
    message["record_id"] = "has spaces in it"

    outcome = intake.record(delivery(BIRTH, seq=4, body_override=message))

    rejected = intake_store.find(outcome.rejection_id)
    assert rejected.record_id == "has spaces in it"
    assert "record_id" in [error["field"] for error in rejected.errors]

    message["record_id"] = 42
    outcome = intake.record(delivery(BIRTH, seq=5, body_override=message))
    assert intake_store.find(outcome.rejection_id).record_id is None


def test_an_intake_use_case_with_another_store_sees_nothing_of_the_first(protector, duty_register, delivery, new_intake_store):
    one, other = new_intake_store(), new_intake_store()
    IntakeUseCase(one, protector, duty_register).record(delivery(APPLICATION))

    assert isinstance(IntakeUseCase(other, protector, duty_register).record(delivery(APPLICATION)), Accepted)
