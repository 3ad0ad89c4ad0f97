"""What intake announces for each event in its store: integration events, receipts and
dead letters, with message ids that stay the same however often the relay retries."""

from __future__ import annotations

import base64
import json

import pytest

from services.intake.adapters.outbox import translate
from services.intake.domain.submission import submission_id
from shared.contracts.inbound import KINDS
from shared.contracts.integration import read_event
from shared.contracts.events.intake import SubmissionAcceptedV1, SubmissionRejectedV1
from shared.privacy.protection import is_token

APPLICATION = "township.application.submitted"
BIRTH = "police.birth.registered"
RECEIPT_FIELDS = {"record_id", "accepted", "submission_id", "errors", "duplicate"}


def by_subject(messages) -> dict:
    return {message.subject: message for message in messages}


def body_of(message) -> dict:
    return json.loads(message.body)


@pytest.fixture
def invalid_birth(inbound_sample):
    _, message = inbound_sample(BIRTH)
    message["data"].update(sex="X", mother_id_number="130132199605122421")
    return message


def personal_strings(value) -> list[str]:
    """Every string leaf of a record's data: what a receipt must never repeat."""
    if isinstance(value, dict):
        return [text for child in value.values() for text in personal_strings(child)]
    if isinstance(value, list):
        return [text for child in value for text in personal_strings(child)]
    return [value] if isinstance(value, str) and len(value) > 3 else []


# --- accepted -----------------------------------------------------------------------


def test_an_accepted_submission_is_announced_on_its_kinds_subject_and_receipted_to_its_source(announced, delivery):
    messages = announced(delivery(APPLICATION))

    assert [message.subject for message in messages] == [
        "fp.intake.accepted.township.application.submitted",
        "fp.receipts.township",
    ]
    event = read_event(messages[0].body)
    assert event.envelope.type == "intake.submission.accepted"
    assert event.envelope.producer == "intake"
    assert event.envelope.correlation_id == "JSB-130132102-2026-0057"
    assert isinstance(event.payload, SubmissionAcceptedV1)
    assert event.payload.submission_id == str(submission_id("township", "JSB-130132102-2026-0057"))
    assert event.payload.section == "法规科"
    assert (event.payload.duty_no, event.payload.item_no) == (4, 1)


def test_the_receipt_of_an_accepted_record_says_accepted_and_names_the_submission(announced, delivery):
    receipt = by_subject(announced(delivery(APPLICATION)))["fp.receipts.township"]

    assert body_of(receipt) == {
        "record_id": "JSB-130132102-2026-0057",
        "accepted": True,
        "submission_id": str(submission_id("township", "JSB-130132102-2026-0057")),
        "duplicate": False,
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_announced_on_fp_intake_accepted_and_receipted_on_its_source(announced, delivery, inbound_sample, kind):
    _, message = inbound_sample(kind)

    event, receipt = announced(delivery(kind))

    assert event.subject == f"fp.intake.accepted.{kind}"
    assert receipt.subject == f"fp.receipts.{message['source']}"
    assert read_event(event.body).payload.kind == kind


def test_the_accepted_event_carries_the_encrypted_data_and_person_refs_as_stored(announced, delivery, intake_store):
    event = read_event(announced(delivery(APPLICATION))[0].body)

    submission = intake_store.find(submission_id("township", "JSB-130132102-2026-0057"))
    assert event.payload.data == submission.data
    assert event.payload.person_refs == submission.person_refs
    assert event.payload.data_subject_ref == submission.data_subject_ref
    assert is_token(event.payload.data["applicant_id_number"])


def test_the_accepted_event_names_its_schema_field_schema_as_the_asyncapi_document_does(announced, delivery):
    payload = body_of(announced(delivery(APPLICATION))[0])["payload"]

    assert SubmissionAcceptedV1.model_json_schema(by_alias=True)["properties"].keys() >= {"schema"}
    assert payload.get("schema") == "township.application.submitted/v1"
    assert "schema_" not in payload


def test_message_ids_are_stable_per_notification(announced, delivery, intake_store):
    announced(delivery(APPLICATION, seq=1))
    announced(delivery("hotline.tip.received", seq=2))

    for notification in intake_store.read_log(0, 100):
        event = intake_store.decode(notification)
        first = translate(notification.id, event)
        again = translate(notification.id, event)
        assert [m.message_id for m in first] == [f"intake-{notification.id}", f"intake-{notification.id}-receipt"]
        assert [m.message_id for m in again] == [m.message_id for m in first]
        assert [m.body for m in again] == [m.body for m in first], "a retried relay publishes the same bytes"
        assert body_of(first[0])["event_id"] == f"intake-{notification.id}"


def test_trace_headers_carry_the_record_id_as_correlation(announced, delivery):
    event, receipt = announced(delivery(APPLICATION))

    assert event.headers == {"Fp-Correlation-Id": "JSB-130132102-2026-0057", "Fp-Causation-Id": event.message_id}
    assert receipt.headers["Fp-Correlation-Id"] == "JSB-130132102-2026-0057"


def test_a_duplicate_adds_nothing_to_the_outbox(announced, delivery):
    announced(delivery(APPLICATION, seq=1))

    assert announced(delivery(APPLICATION, seq=2)) == []
    assert announced(delivery(APPLICATION, seq=1)) == []


# --- rejected -----------------------------------------------------------------------


def test_a_rejected_record_yields_a_rejection_event_a_receipt_and_a_dead_letter(announced, delivery, invalid_birth):
    messages = announced(delivery(BIRTH, seq=4, body_override=invalid_birth))

    assert [message.subject for message in messages] == [
        "fp.intake.rejected.police",
        "fp.receipts.police",
        "fp.dlq.intake.rejected.police",
    ]
    notification_id = messages[0].message_id.removeprefix("intake-")
    assert [message.message_id for message in messages] == [
        f"intake-{notification_id}",
        f"intake-{notification_id}-receipt",
        f"intake-{notification_id}-dlq",
    ]


def test_the_rejection_event_lists_every_field_error(announced, delivery, invalid_birth):
    event = read_event(announced(delivery(BIRTH, seq=4, body_override=invalid_birth))[0].body)

    assert event.envelope.type == "intake.submission.rejected"
    assert isinstance(event.payload, SubmissionRejectedV1)
    assert event.payload.record_id == "PSB-2026-000123"
    assert event.payload.source == "police"
    assert [error.field for error in event.payload.errors] == ["data.sex", "data.mother_id_number"]


def test_the_receipt_of_a_rejected_record_says_not_accepted_with_the_errors(announced, delivery, invalid_birth):
    receipt = by_subject(announced(delivery(BIRTH, seq=4, body_override=invalid_birth)))["fp.receipts.police"]

    body = body_of(receipt)
    assert body["record_id"] == "PSB-2026-000123"
    assert body["accepted"] is False
    assert "submission_id" not in body
    assert [error["field"] for error in body["errors"]] == ["data.sex", "data.mother_id_number"]
    assert all(set(error) == {"field", "message"} and error["message"] for error in body["errors"])


@pytest.mark.parametrize(("kind", "claimed", "sender"), [(BIRTH, "health", "police"), (APPLICATION, "police", "township")])
def test_a_record_claiming_another_source_is_rejected_naming_source_and_receipted_to_its_sender(announced, delivery, inbound_sample, kind, claimed, sender):
    # The broker lets only the police publish on county.police.> (CONTRACT.md, Authentication):
    # the subject says who sent it, so the receipt goes there, never to the source claimed.
    _, message = inbound_sample(kind)
    message["source"] = claimed
    messages = by_subject(announced(delivery(kind, seq=5, body_override=message)))

    assert f"fp.receipts.{claimed}" not in messages
    body = body_of(messages[f"fp.receipts.{sender}"])
    assert body["accepted"] is False
    assert [error["field"] for error in body["errors"]] == ["source"]
    assert f"expected '{sender}'" in body["errors"][0]["message"]


def test_a_rejection_receipt_names_the_record_id_null_when_none_could_be_read(announced, delivery):
    receipt = by_subject(announced(delivery(BIRTH, seq=4, body_override=b"not json")))["fp.receipts.police"]

    body = body_of(receipt)
    assert body["accepted"] is False
    assert "record_id" in body, 'CONTRACT.md: every receipt is {"record_id": ..., "accepted": ...}'
    assert body["record_id"] is None


def test_the_dead_letter_of_a_rejected_record_holds_its_raw_bytes_only_as_an_encrypted_token(
    announced, delivery, invalid_birth, protector
):
    inbound = delivery(BIRTH, seq=4, body_override=invalid_birth)

    dead_letter = by_subject(announced(inbound))["fp.dlq.intake.rejected.police"]

    body = body_of(dead_letter)
    assert (body["service"], body["reason"]) == ("intake", "validation")
    assert (body["stream"], body["stream_sequence"], body["subject"]) == ("COUNTY_INBOX", 4, "county.police.birth.registered")
    assert body["record_id"] == "PSB-2026-000123"
    assert is_token(body["raw"])
    assert base64.b64decode(protector.decrypt(body["raw"])) == inbound.body
    assert b"130132199605122421" not in dead_letter.body
    assert "王子涵".encode() not in dead_letter.body


def test_a_message_without_a_record_id_is_correlated_by_its_place_in_the_inbox(announced, delivery):
    messages = announced(delivery(BIRTH, seq=11, body_override=b"[]"))

    event = read_event(messages[0].body)
    assert event.envelope.correlation_id == "COUNTY_INBOX:11"
    assert event.payload.record_id is None


# --- receipts never carry personal data -----------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_receipt_of_an_accepted_record_carries_no_personal_data(announced, delivery, inbound_sample, kind):
    _, message = inbound_sample(kind)

    receipt = announced(delivery(kind))[1]

    assert set(body_of(receipt)) <= RECEIPT_FIELDS
    text = receipt.body.decode()
    for value in personal_strings(message["data"]):
        assert value not in text, value


def test_the_receipt_of_a_rejected_record_carries_no_personal_data(announced, delivery, invalid_birth):
    receipt = by_subject(announced(delivery(BIRTH, seq=4, body_override=invalid_birth)))["fp.receipts.police"]

    assert set(body_of(receipt)) <= RECEIPT_FIELDS
    text = receipt.body.decode()
    for value in personal_strings(invalid_birth["data"]):
        assert value not in text, value


def test_events_that_are_not_announced_translate_to_nothing():
    assert translate(1, object()) == ()
