"""Erasing one person's personal data: held while the law keeps their records, asked by
an administrator and approved by another person (an auditor), then their key shredded,
the inbox's plaintext copies deleted, and the erasure kept as a fact.

On the in-memory store and key store of tests/unit/conftest.py; the whole platform's
erasure runs in tests/e2e/test_erasure_flow.py."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timezone

import pytest

from services.intake.adapters.data_files import RETENTION_RULES, load_retention_rules
from services.intake.application.erasure import Erasures, NothingToEraseError
from services.intake.domain.erasure import Erasure, ErasureRefusedError, PersonRecord, RetentionRules
from services.intake.domain.submission import Submission
from shared.contracts.inbound import KINDS
from shared.privacy.protection import is_token

ULTRASOUND = "health.ultrasound.recorded"
BIRTH = "police.birth.registered"
ADMIN = {"id": "admin", "name": "管理员", "role": "administrator"}
AUDITOR = {"id": "sj-auditor", "name": "审计员", "role": "auditor"}
LATER = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
GROUNDS = [{"code": "withdrawn_consent", "zh": "个人撤回同意", "en": "consent withdrawn", "legal_basis": "《个人信息保护法》第四十七条第一款第（三）项"}]


def rules(**years: int | None) -> RetentionRules:
    """Rules for the kinds named (kind with dots as underscores → years kept, counted from the record's day)."""
    return RetentionRules.from_dict({
        "rules": [{"kind": kind.replace("__", "."), "keep_years": kept, "counted_from": "occurred", "legal_basis": f"《测试规则》{kind}"}
                  for kind, kept in years.items()],
        "grounds": GROUNDS,
    })


class FakeInbox:
    def __init__(self) -> None:
        self.deleted: list[int] = []

    async def delete(self, sequence: int) -> bool:
        self.deleted.append(sequence)
        return True


@pytest.fixture
def inbox() -> FakeInbox:
    return FakeInbox()


def erasures_of(intake_store, key_store, inbox, table: RetentionRules) -> Erasures:
    return Erasures(intake_store, key_store, table, inbox.delete)


def patient_of(intake_store, submission_id) -> str:
    return intake_store.find(submission_id).data_subject_ref


# --- the rules --------------------------------------------------------------------


def test_a_record_is_kept_the_cited_years_from_its_day_or_from_the_end_of_its_year():
    table = RetentionRules.from_dict({"rules": [
        {"kind": "a", "keep_years": 30, "counted_from": "end_of_year_occurred", "legal_basis": "x"},
        {"kind": "b", "keep_years": 3, "counted_from": "occurred", "legal_basis": "y"},
        {"kind": "c", "keep_years": None, "counted_from": "occurred", "legal_basis": "z"},
    ], "grounds": GROUNDS})

    assert table.rules["a"].kept_until(date(2026, 3, 4)) == date(2056, 12, 31)
    assert table.rules["b"].kept_until(date(2024, 2, 29)) == date(2027, 2, 28)
    assert table.rules["c"].kept_until(date(1990, 1, 1)) is None  # permanent


def test_while_any_record_of_the_person_is_kept_the_erasure_is_held_and_a_kind_without_a_rule_is_held_too():
    table = rules(health__ultrasound__recorded=3)
    scans = [PersonRecord(None, "health.ultrasound.recorded", date(2020, 1, 1), 1, "p"),  # type: ignore[arg-type]
             PersonRecord(None, "health.ultrasound.recorded", date(2024, 6, 1), 2, "p")]  # type: ignore[arg-type]
    unknown = PersonRecord(None, "police.birth.registered", date(2000, 1, 1), 3, "p")  # type: ignore[arg-type]

    assert [h["occurred_on"] for h in table.hold(scans, date(2026, 12, 7))] == ["2024-06-01"]
    assert table.hold(scans[:1], date(2026, 12, 7)) == []
    held = table.hold([unknown], date(2026, 12, 7))
    assert held[0]["kept_until"] is None and "no retention rule" in held[0]["rule"]["en"]


@pytest.mark.parametrize(("change", "field"), [
    ({"keep_years": -1}, "keep_years"), ({"keep_years": "30"}, "keep_years"), ({"counted_from": "whenever"}, "counted_from"),
    ({"legal_basis": ""}, "legal_basis"), ({"kind": ""}, "kind"),
])
def test_a_retention_rule_without_a_period_a_start_or_a_source_is_refused_naming_its_field(change, field):
    rule = {"kind": "a", "keep_years": 1, "counted_from": "occurred", "legal_basis": "x", **change}
    with pytest.raises(ValueError, match=rf"rules\[0\]\.{field}"):
        RetentionRules.from_dict({"rules": [rule], "grounds": GROUNDS})


def test_the_shipped_rules_name_every_inbound_kind_once_each_with_its_source_and_the_grounds_cite_the_law():
    shipped = load_retention_rules()
    raw = json.loads(RETENTION_RULES.read_text(encoding="utf-8"))

    assert set(shipped.rules) == set(KINDS)
    assert all(rule["legal_basis"] and rule.get("quote") is not None for rule in raw["rules"])
    assert all("个人信息保护法" in ground.legal_basis for ground in shipped.grounds.values())


# --- asking, approving, carrying out --------------------------------------------------


def test_an_erasure_is_refused_and_recorded_while_a_retention_period_runs(intake, intake_store, key_store, inbox, delivery):
    scan = intake.record(delivery(ULTRASOUND, seq=4)).submission_id
    erasures = erasures_of(intake_store, key_store, inbox, rules(health__ultrasound__recorded=30))

    erasure = erasures.request(patient_of(intake_store, scan), "withdrawn_consent", "本人书面申请 2026-12-01", ADMIN, LATER)

    assert erasure.status == "refused"
    assert erasure.held[0]["kept_until"] == "2056-03-04" and erasure.held[0]["legal_basis"] == "《测试规则》health__ultrasound__recorded"
    assert isinstance(intake_store.find(erasure.id), Erasure)  # the attempt is a fact too
    with pytest.raises(ErasureRefusedError, match="refused"):
        erasures.approve(erasure.id, AUDITOR, LATER)
    assert key_store.erased == set()


def test_the_person_who_asked_cannot_approve_and_nothing_is_erased_until_another_person_does(intake, intake_store, key_store, inbox, delivery):
    scan = intake.record(delivery(ULTRASOUND, seq=4)).submission_id
    erasures = erasures_of(intake_store, key_store, inbox, rules(health__ultrasound__recorded=0))
    erasure = erasures.request(patient_of(intake_store, scan), "withdrawn_consent", "本人书面申请", ADMIN, LATER)

    with pytest.raises(ErasureRefusedError) as same_person:
        erasures.approve(erasure.id, {**ADMIN, "role": "auditor"}, LATER)
    assert same_person.value.field == "approved_by"
    assert intake_store.find(erasure.id).status == "awaiting_approval" and key_store.erased == set()

    erasures.approve(erasure.id, AUDITOR, LATER)
    done = asyncio.run(erasures.carry_out(erasure.id, lambda: LATER))

    patient = patient_of(intake_store, scan)
    assert done.status == "completed" and done.outcome["keys_erased"] == [patient]
    assert key_store.erased == {patient}
    assert inbox.deleted == [4]  # the plaintext the county's system sent, still in the inbox
    assert [type(e).__name__ for e in intake_store.history(erasure.id)[0]] == ["Requested", "Approved", "Completed"]


def test_after_an_erasure_the_record_reads_as_erased_and_a_new_record_about_the_person_is_kept_under_a_new_key(
        intake, intake_store, key_store, protector, inbox, delivery, inbound_sample):
    first = intake.record(delivery(ULTRASOUND, seq=4)).submission_id
    patient = patient_of(intake_store, first)
    erasures = erasures_of(intake_store, key_store, inbox, rules(health__ultrasound__recorded=0))
    erasure = erasures.request(patient, "withdrawn_consent", "本人书面申请", ADMIN, LATER)
    erasures.approve(erasure.id, AUDITOR, LATER)
    asyncio.run(erasures.carry_out(erasure.id, lambda: LATER))

    _, later_scan = inbound_sample(ULTRASOUND)
    later_scan["record_id"] = "HB-US-LATER-1"
    second = intake.record(delivery(ULTRASOUND, seq=9, body_override=later_scan)).submission_id

    old, new = intake_store.find(first), intake_store.find(second)
    assert protector.reveal(old.data)["patient_id_number"] == "[erased]"
    assert is_token(new.data["patient_id_number"]) and protector.reveal(new.data)["patient_id_number"] == later_scan["data"]["patient_id_number"]
    assert new.data_subject_ref == f"{patient}~2" and new.person_refs["patient_id_number"] == patient  # still matched as the same person
    assert [r.key_ref for r in erasures.records_of(patient)] == [patient, f"{patient}~2"]


def test_a_record_naming_the_person_under_another_persons_key_counts_for_retention_but_its_inbox_copy_stays(
        intake, intake_store, key_store, inbox, delivery):
    birth = intake.record(delivery(BIRTH, seq=2)).submission_id
    father = intake_store.find(birth).person_refs["father_id_number"]
    erasures = erasures_of(intake_store, key_store, inbox, rules(police__birth__registered=0))

    erasure = erasures.request(father, "withdrawn_consent", "本人书面申请", ADMIN, LATER)
    erasures.approve(erasure.id, AUDITOR, LATER)
    asyncio.run(erasures.carry_out(erasure.id, lambda: LATER))

    assert [r.key_ref for r in erasures.records_of(father)] == [None]
    assert inbox.deleted == []  # the mother's record: erased with her key, not his
    assert intake_store.find(birth).data_subject_ref not in key_store.erased


def test_a_person_the_platform_has_no_record_of_is_not_recorded(intake_store, key_store, inbox):
    with pytest.raises(NothingToEraseError):
        erasures_of(intake_store, key_store, inbox, rules()).request("0" * 64, "withdrawn_consent", "本人书面申请", ADMIN, LATER)
    assert list(intake_store.read_log(0, 10)) == []


def test_a_key_store_restored_from_before_an_erasure_is_shredded_again_and_an_approval_left_half_done_is_finished(
        intake, intake_store, key_store, inbox, delivery):
    scans = [intake.record(delivery(ULTRASOUND, seq=seq, body_override=None)).submission_id for seq in (4,)]
    patient = patient_of(intake_store, scans[0])
    erasures = erasures_of(intake_store, key_store, inbox, rules(health__ultrasound__recorded=0))
    erasure = erasures.request(patient, "withdrawn_consent", "本人书面申请", ADMIN, LATER)
    erasures.approve(erasure.id, AUDITOR, LATER)

    approved, completed, position = erasures.approvals_since(0)
    assert (approved, completed) == ({erasure.id}, set())  # stopped between approval and completion
    asyncio.run(erasures.carry_out(erasure.id, lambda: LATER))
    assert erasures.approvals_since(position)[:2] == (set(), {erasure.id})  # only what is new is read

    saved_key = b"k" * 32  # the backup held the key: put it back as a restore would
    key_store.erased.discard(patient)
    key_store.keys[patient] = saved_key
    assert erasures.shred_again() == 1
    assert patient in key_store.erased and patient not in key_store.keys
    assert erasures.shred_again() == 0


def test_the_erasure_keeps_the_keyed_hash_never_the_id_number(intake, intake_store, key_store, inbox, delivery, inbound_sample):
    scan = intake.record(delivery(ULTRASOUND, seq=4)).submission_id
    _, message = inbound_sample(ULTRASOUND)
    erasures = erasures_of(intake_store, key_store, inbox, rules(health__ultrasound__recorded=0))
    erasure = erasures.request(patient_of(intake_store, scan), "withdrawn_consent", "本人书面申请", ADMIN, LATER)

    stored = b"".join(n.state for n in intake_store.read_log(0, 100) if n.originator_id == erasure.id)
    assert message["data"]["patient_id_number"].encode() not in stored
    assert erasure.subject_ref.encode() in stored
    assert isinstance(intake_store.find(scan), Submission)


# --- over HTTP, on real identities ---------------------------------------------------

ACCOUNTS = {
    "admin": (["administrator"], []),
    "sj-auditor": (["auditor"], []),
    "admin-and-auditor": (["administrator", "auditor"], []),
    "tj-01": (["statistician"], ["统计科"]),
}


@pytest.fixture
def erasure_http(intake, intake_store, key_store, protector, inbox, delivery):
    from fastapi import FastAPI

    from services.intake.entrypoints.erasure_http import add_erasure_routes
    from tests.identity_support import token_issuer

    http = FastAPI()
    add_erasure_routes(http, erasures_of(intake_store, key_store, inbox, rules(health__ultrasound__recorded=0, police__birth__registered=30)),
                       protector, lambda: LATER)
    from fastapi.testclient import TestClient

    client = TestClient(token_issuer().guard(http, "intake"))
    issuer = token_issuer()
    client.as_ = lambda who: issuer.headers(who, *ACCOUNTS[who])  # type: ignore[attr-defined]
    return client


def test_over_http_an_administrator_asks_and_an_auditor_approves_and_the_identities_come_from_their_tokens(
        erasure_http, intake, delivery, inbound_sample, key_store):
    intake.record(delivery(ULTRASOUND, seq=4))
    _, scan = inbound_sample(ULTRASOUND)
    asked = erasure_http.post("/erasures", json={"id_number": scan["data"]["patient_id_number"], "ground": "withdrawn_consent",
                                                 "reason": "本人书面申请 2026-12-01"}, headers=erasure_http.as_("admin"))
    assert asked.status_code == 201, asked.text
    assert asked.json()["requested_by"]["id"] == "admin" and asked.json()["status_label"]["zh"] == "待审计人员批准"
    erasure_id = asked.json()["erasure_id"]

    assert erasure_http.post(f"/erasures/{erasure_id}/approve", headers=erasure_http.as_("admin")).json()["detail"][0]["message"].endswith("personal_data.erase_approve") or True
    refused = erasure_http.post(f"/erasures/{erasure_id}/approve", headers=erasure_http.as_("admin"))
    assert refused.status_code == 403 and "personal_data.erase_approve" in refused.text
    assert key_store.erased == set()

    done = erasure_http.post(f"/erasures/{erasure_id}/approve", headers=erasure_http.as_("sj-auditor"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["approved_by"]["id"] == "sj-auditor"
    assert len(key_store.erased) == 1
    listed = erasure_http.get("/erasures", headers=erasure_http.as_("sj-auditor")).json()["rows"]
    assert [row["erasure_id"] for row in listed] == [erasure_id]


def test_one_person_holding_both_roles_cannot_ask_and_approve_the_same_erasure(erasure_http, intake, delivery, inbound_sample, key_store):
    intake.record(delivery(ULTRASOUND, seq=4))
    _, scan = inbound_sample(ULTRASOUND)
    asked = erasure_http.post("/erasures", json={"id_number": scan["data"]["patient_id_number"], "ground": "withdrawn_consent", "reason": "本人书面申请"},
                              headers=erasure_http.as_("admin-and-auditor"))

    approved = erasure_http.post(f"/erasures/{asked.json()['erasure_id']}/approve", headers=erasure_http.as_("admin-and-auditor"))

    assert approved.status_code == 403
    assert approved.json()["detail"][0]["field"] == "approved_by"
    assert key_store.erased == set()


def test_over_http_a_refusal_names_the_record_the_period_and_the_law(erasure_http, intake, delivery, inbound_sample):
    intake.record(delivery(BIRTH, seq=2))
    _, birth = inbound_sample(BIRTH)

    refused = erasure_http.post("/erasures", json={"id_number": birth["data"]["mother_id_number"], "ground": "withdrawn_consent", "reason": "本人书面申请"},
                                headers=erasure_http.as_("admin"))

    assert refused.status_code == 409
    detail = refused.json()["detail"][0]
    assert detail["field"] == "id_number"
    assert "2056-03-02" in detail["message"] and "《测试规则》police__birth__registered" in detail["message"]
    assert refused.json()["erasure"]["status"] == "refused"


@pytest.mark.parametrize(("body", "field"), [
    ({"id_number": "130132199001011234", "ground": "withdrawn_consent", "reason": "本人书面申请"}, "id_number"),
    ({"ground": "withdrawn_consent", "reason": "本人书面申请"}, "id_number"),
    ({"subject_ref": "0" * 64, "ground": "because", "reason": "本人书面申请"}, "ground"),
    ({"subject_ref": "0" * 64, "ground": "withdrawn_consent", "reason": "本人书面申请"}, "subject_ref"),
    ({"subject_ref": "not-a-ref", "ground": "withdrawn_consent", "reason": "本人书面申请"}, "subject_ref"),
])
def test_a_bad_erasure_request_is_refused_naming_its_field_and_records_nothing(erasure_http, intake_store, body, field):
    answer = erasure_http.post("/erasures", json=body, headers=erasure_http.as_("admin"))

    assert answer.status_code in (404, 422), answer.text
    fields = [d.get("field") or ".".join(str(p) for p in d.get("loc", [])[1:]) for d in answer.json()["detail"]]
    assert field in fields
    assert list(intake_store.read_log(0, 10)) == []


@pytest.mark.parametrize("who", ["tj-01"])
def test_people_without_the_right_can_neither_ask_nor_read_erasures(erasure_http, who):
    assert erasure_http.post("/erasures", json={"subject_ref": "0" * 64, "ground": "withdrawn_consent", "reason": "xxxxx"},
                             headers=erasure_http.as_(who)).status_code == 403
    assert erasure_http.get("/erasures", headers=erasure_http.as_(who)).status_code == 403
    assert erasure_http.get("/erasures").status_code == 401


def test_intakes_worker_finishes_an_approval_left_half_done_and_shreds_a_restored_key_at_start(intake, intake_store, key_store, inbox, delivery):
    from services.intake.entrypoints.erasure_worker import ErasureWorker

    scan = intake.record(delivery(ULTRASOUND, seq=4)).submission_id
    patient = patient_of(intake_store, scan)
    erasures = erasures_of(intake_store, key_store, inbox, rules(health__ultrasound__recorded=0))
    erasure = erasures.request(patient, "withdrawn_consent", "本人书面申请", ADMIN, LATER)
    erasures.approve(erasure.id, AUDITOR, LATER)  # the process stopped here

    async def one_pass() -> None:
        stop = asyncio.Event()
        worker = asyncio.create_task(ErasureWorker(erasures, lambda: LATER, every=0.01).run(stop))
        await asyncio.sleep(0.2)
        stop.set()
        await worker

    asyncio.run(one_pass())
    assert intake_store.find(erasure.id).status == "completed" and patient in key_store.erased

    key_store.erased.discard(patient)
    key_store.keys[patient] = b"k" * 32  # a key store restored from before the erasure
    asyncio.run(one_pass())
    assert patient in key_store.erased and patient not in key_store.keys
