"""Reporting's projections (pure: counts and copies of facts), personal data protection
(keyed person refs, per-person encryption, crypto-shredding) and the stream topology."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from services.reporting.domain.projections import Update, Increment, Upsert, changes_for
from shared.contracts.integration import read_event
from shared.messaging.topology import STREAMS, stream_for_subject, subject_matches
from shared.privacy.keystore import KeyErasedError
from shared.privacy.protection import PersonalDataProtector, is_token

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "integration"
ID_A = "13013219920625146X"
ID_B = "130132199002021531"


def frozen(event_type: str):
    return read_event((SAMPLES / f"{event_type}.v1.json").read_bytes())


def frozen_with(event_type: str, **payload_changes):
    envelope = json.loads((SAMPLES / f"{event_type}.v1.json").read_text(encoding="utf-8"))
    envelope["payload"].update(payload_changes)
    return read_event(json.dumps(envelope, ensure_ascii=False).encode())


# --- projections ------------------------------------------------------------------------


def test_each_application_step_moves_the_application_row_to_its_new_state():
    approved = frozen("verification.application.approved")
    assert changes_for(approved) == [Update("rm_applications", {"application_id": approved.payload.application_id}, {"status": "approved"})]
    issued = frozen("verification.certificate.issued")
    assert changes_for(issued)[0].values == {"status": "certificate_issued"}


def test_an_overdue_warning_or_a_rating_does_not_change_the_application_state():
    assert changes_for(frozen("verification.application.overdue_warning")) == []
    assert changes_for(frozen("verification.application.satisfaction_attached")) == []


def test_a_case_update_moves_the_case_row_to_the_status_it_reports():
    updated = frozen("enforcement.case.updated")
    assert changes_for(updated) == [Update("rm_cases", {"case_id": updated.payload.case_id}, {"status": updated.payload.status})]



def test_an_accepted_submission_increments_rm_submissions_by_township_source_kind_and_section():
    assert changes_for(frozen("intake.submission.accepted"))[0] == Increment(
        "rm_submissions",
        {"township_code": "130132102", "source": "township", "kind": "township.application.submitted", "section": "法规科"},
        "accepted",
        1,
    )


def test_an_accepted_submission_is_listed_for_drill_down_without_personal_data():
    record = changes_for(frozen("intake.submission.accepted"))[1]
    assert record.table == "rm_submission_records" and set(record.values) == {"record_id", "source", "kind", "township_code", "section", "occurred_at"}


def test_an_accepted_submission_without_a_township_counts_under_an_empty_township():
    change = changes_for(frozen_with("intake.submission.accepted", township_code=None))[0]

    assert change.key["township_code"] == ""


def test_a_rejection_increments_rm_rejections_by_source():
    assert changes_for(frozen("intake.submission.rejected")) == [Increment("rm_rejections", {"source": "police"}, "rejected", 1)]


def test_an_opened_application_upserts_its_row_with_values_only_from_the_event():
    received = frozen("verification.application.opened")

    assert changes_for(received) == [
        Upsert(
            "rm_applications",
            {"application_id": "APP-130132102-2026-0057"},
            {
                "application_kind": "rebirth_approval",
                "township_code": "130132102",
                "section": "法规科",
                "status": "submitted",
                "received_on": "2026-03-06",
                "opened_at": received.payload.opened_at.isoformat(),
            },
        )
    ]
    assert received.payload.opened_at.isoformat().startswith("2026-03-09T01:30:01.042")


def test_an_opened_case_upserts_its_row_with_values_only_from_the_event():
    received = frozen("enforcement.case.opened")

    assert changes_for(received) == [
        Upsert(
            "rm_cases",
            {"case_id": received.payload.case_id},
            {
                "case_number": received.payload.case_number,
                "origin": "hotline_tip",
                "category": "two_illegals",
                "township_code": "130132105",
                "section": "执法大队",
                "status": "opened",
                "opened_at": received.payload.opened_at.isoformat(),
            },
        )
    ]


def test_an_application_row_never_carries_a_person_ref():
    [change] = changes_for(frozen("verification.application.opened"))

    assert not {"applicant_ref", "spouse_ref"} & set(change.values)


@pytest.mark.parametrize(
    "event_type",
    ["intake.submission.accepted", "intake.submission.rejected", "verification.application.opened", "enforcement.case.opened"],
)
def test_a_rebuild_gives_the_same_changes_as_the_live_projection(event_type):
    assert changes_for(frozen(event_type)) == changes_for(frozen(event_type))


def test_an_event_the_read_models_do_not_track_changes_nothing():
    received = frozen("intake.submission.accepted")

    assert changes_for(type(received)(envelope=received.envelope, payload=object())) == []  # type: ignore[arg-type]


# --- person refs --------------------------------------------------------------------------


def test_a_person_ref_is_stable_for_the_same_number(protector, key_store):
    other_protector = PersonalDataProtector(key_store, matching_key=b"k" * 32)

    assert protector.person_ref(ID_A) == protector.person_ref(ID_A) == other_protector.person_ref(ID_A)
    assert protector.person_ref(ID_A) != protector.person_ref(ID_B)
    assert len(protector.person_ref(ID_A)) == 64
    assert ID_A not in protector.person_ref(ID_A)


def test_a_person_ref_differs_under_another_matching_key(protector, key_store):
    elsewhere = PersonalDataProtector(key_store, matching_key=b"m" * 32)

    assert elsewhere.person_ref(ID_A) != protector.person_ref(ID_A)


def test_the_subject_ref_of_a_record_about_no_one_is_stable_and_not_a_person_ref(protector):
    ref = protector.subject_ref_for_record("hotline", "HL-2026-000642")

    assert ref == protector.subject_ref_for_record("hotline", "HL-2026-000642")
    assert ref != protector.subject_ref_for_record("hotline", "HL-2026-000643")
    assert ref.startswith("rec-") and len(ref) <= 64, "it fits the key store's subject_ref column"


# --- protect / reveal -----------------------------------------------------------------------


def test_protect_then_reveal_gives_back_the_record(protector):
    data = {"name": "王秀兰", "id_number": ID_A, "details": {"children": 2}, "township_code": "130132100", "note": None}
    subject = protector.person_ref(ID_A)

    protected = protector.protect(data, ("name", "id_number", "details", "note"), subject)

    assert is_token(protected["name"]) and is_token(protected["id_number"]) and is_token(protected["details"])
    assert protected["township_code"] == "130132100", "fields that are not sensitive stay as they are"
    assert protected["note"] is None, "a null field has nothing to encrypt"
    assert protected["id_number"]["subject"] == subject
    assert ID_A not in json.dumps(protected) and "王秀兰" not in json.dumps(protected, ensure_ascii=False)
    assert protector.reveal(protected) == data
    assert data["id_number"] == ID_A, "protect leaves its input alone"


def test_the_same_value_encrypts_differently_each_time(protector):
    subject = protector.person_ref(ID_A)

    assert protector.encrypt(subject, ID_A, "id_number")["ct"] != protector.encrypt(subject, ID_A, "id_number")["ct"]


def test_a_token_moved_to_another_field_cannot_be_decrypted(protector):
    token = protector.encrypt(protector.person_ref(ID_A), ID_A, "id_number")

    with pytest.raises(InvalidTag):
        protector.decrypt({**token, "field": "name"})


def test_after_erasing_a_subjects_key_their_fields_reveal_as_erased_while_others_still_reveal(protector, key_store):
    a, b = protector.person_ref(ID_A), protector.person_ref(ID_B)
    record_a = protector.protect({"id_number": ID_A, "name": "王秀兰", "year": 2026}, ("id_number", "name"), a)
    record_b = protector.protect({"id_number": ID_B, "name": "李建国", "year": 2026}, ("id_number", "name"), b)

    key_store.erase(a)

    assert protector.reveal(record_a) == {"id_number": "[erased]", "name": "[erased]", "year": 2026}
    assert protector.reveal(record_b) == {"id_number": ID_B, "name": "李建国", "year": 2026}
    with pytest.raises(KeyErasedError):
        protector.decrypt(record_a["id_number"])


def test_a_token_of_a_subject_the_key_store_never_knew_reveals_as_erased(protector, key_store):
    foreign = PersonalDataProtector(type(key_store)(), matching_key=b"k" * 32)  # another office's key store
    token = foreign.encrypt("someone-else", ID_A, "id_number")

    assert protector.reveal({"id_number": token}) == {"id_number": "[erased]"}


def test_raw_bytes_are_encrypted_under_a_key_of_their_own(protector, key_store):
    raw = protector.encrypt_raw("COUNTY_INBOX:5", b'{"id_number": "13013219920625146X"}')

    assert raw["subject"] == protector.subject_ref_for_record("raw", "COUNTY_INBOX:5")
    assert raw["field"] == "raw"
    key_store.erase(protector.person_ref(ID_A))
    assert protector.reveal({"raw": raw})["raw"] == "eyJpZF9udW1iZXIiOiAiMTMwMTMyMTk5MjA2MjUxNDZYIn0="


def test_closing_the_protector_closes_its_key_store(protector, key_store):
    protector.close()

    assert key_store.closed


# --- topology -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "stream"),
    [
        ("county.police.birth.registered", "COUNTY_INBOX"),
        ("county.hotline.tip.received", "COUNTY_INBOX"),
        ("township.130132100.application.submitted", "COUNTY_INBOX"),
        ("township.130132206.migrant.certificate_presented", "COUNTY_INBOX"),
        ("fp.receipts.police", "RECEIPTS"),
        ("fp.receipts.township", "RECEIPTS"),
        ("fp.intake.accepted.township.application.submitted", "FP_INTAKE"),
        ("fp.intake.rejected.police", "FP_INTAKE"),
        ("fp.verification.application.opened", "FP_VERIFICATION"),
        ("fp.enforcement.case.opened", "FP_ENFORCEMENT"),
        ("fp.dlq.intake.rejected.police", "DEAD_LETTERS"),
        ("fp.dlq.verification.intake", "DEAD_LETTERS"),
    ],
)
def test_every_platform_subject_maps_to_the_stream_that_captures_it(subject, stream):
    assert stream_for_subject(subject) == stream


@pytest.mark.parametrize("subject", ["fp.reporting.rebuilt", "city.police.birth.registered", "county", "fp.receipts", ""])
def test_an_unknown_subject_raises_lookup_error(subject):
    with pytest.raises(LookupError, match="no stream"):
        stream_for_subject(subject)


def test_no_two_streams_capture_the_same_subject():
    samples = ["county.a.b", "township.1.a", "fp.receipts.x", "fp.intake.x", "fp.verification.x", "fp.enforcement.x", "fp.dlq.x"]
    for subject in samples:
        capturing = [spec.name for spec in STREAMS if any(subject_matches(p, subject) for p in spec.subjects)]
        assert len(capturing) == 1, (subject, capturing)


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("fp.receipts.*", "fp.receipts.police", True),
        ("fp.receipts.*", "fp.receipts.police.extra", False),
        ("fp.receipts.*", "fp.receipts", False),
        ("township.*.application.submitted", "township.130132100.application.submitted", True),
        ("township.*.application.submitted", "township.130132100.followup.recorded", False),
        ("county.>", "county.police.birth.registered", True),
        ("county.>", "county.x", True),
        ("county.>", "county", False),
        ("fp.>", "fpx.intake", False),
        (">", "anything.at.all", True),
        ("fp.intake.accepted", "fp.intake.accepted", True),
        ("fp.intake.accepted", "fp.intake.rejected", False),
        ("fp.intake", "fp.intake.accepted", False),
    ],
)
def test_subject_matches_handles_star_and_greater_than(pattern, subject, matches):
    assert subject_matches(pattern, subject) is matches
