"""Verification on a real nats-server and a real store (SQLite and PostgreSQL): accepted
applications are opened and checked with the key store, officers' steps are relayed,
and certificates issued concurrently get unique, gap-free numbers."""

from __future__ import annotations

import asyncio
import json

import httpx
from support import collect, running

from services.intake.adapters.outbox import translate as intake_translate
from services.intake.bootstrap import IntakeStore
from services.intake.domain.submission import Submission
from services.verification.bootstrap import VerificationStore
from services.verification.bootstrap import bootstrap as verification_bootstrap
from services.verification.domain.application_file import application_file_id
from services.verification.settings import VerificationSettings
from shared.contracts.identity import make_resident_id
from shared.privacy.keys import open_protector
from tests.identity_support import acting_officers

N = 6


def an_application(n: int, protector) -> Submission:
    from datetime import date

    wife = make_resident_id("130132", date(1994, 1, n), 2 * n)
    details = {"marriage_registered_on": "2025-10-01", "household_type": "urban", "documents": ["结婚证", "户口簿"]}
    subject_ref = protector.person_ref(wife)
    data = {"application_id": f"APP-INT-{n}", "kind": "first_child_registration", "received_on": "2026-03-02",
            "applicant_id_number": protector.encrypt(subject_ref, wife, "applicant_id_number"), "spouse_id_number": None,
            "details": protector.encrypt(subject_ref, details, "details")}
    return Submission(
        source="township", record_id=f"TS-INT-{n}", schema="township.application.submitted/v1",
        kind="township.application.submitted", subject="township.130132100.application.submitted",
        inbox_sequence=n, occurred_at="2026-03-03T09:00:00+08:00", received_at="2026-03-03T01:00:01+00:00",
        township_code="130132100",
        routing={"section": "县直科", "section_en": "County-Direct Section", "duty_no": 4, "item_no": 2},
        data=data, person_refs={"applicant_id_number": subject_ref}, data_subject_ref=subject_ref,
    )


def announced_by_intake(store_url: str, keystore_url: str, key_dir, submissions) -> list:
    """What intake announces for the submissions `submissions(protector)` makes: saved in an
    intake store, then translated as its outbox relay would."""
    protector = open_protector(keystore_url, key_dir)
    intake = IntakeStore(store_url)
    intake.save(*submissions(protector))
    messages = [intake_translate(n.id, intake.decode(n))[0] for n in intake.read_log(0, 100)]
    intake.close()
    protector.close()
    return messages


def verification_settings(nats_server, store_url: str, keystore_url: str, key_dir, today: str = "2026-03-10") -> VerificationSettings:
    return VerificationSettings(nats_url=nats_server.url, store_url=store_url.replace("store.db", "verification.db"),
                                keystore_url=keystore_url, key_dir=key_dir, today=today)


async def test_applications_are_checked_decided_and_numbered_without_gaps_under_concurrency(nats_server, js, store_url, key_dir, tmp_path):
    keystore_url = f"sqlite:///{tmp_path / 'keys.db'}"
    messages = announced_by_intake(store_url, keystore_url, key_dir, lambda protector: [an_application(n, protector) for n in range(1, N + 1)])
    settings = verification_settings(nats_server, store_url, keystore_url, key_dir)
    service = verification_bootstrap(settings)
    async with running(service):
        for message in messages:
            await js.publish(message.subject, message.body, headers={"Nats-Msg-Id": message.message_id})
        checked = await collect(js, "fp.verification.application.checked", N)
        assert {c["payload"]["blocking"] for c in checked} == {False}
        assert {f["rule"]: f["outcome"] for f in checked[0]["payload"]["findings"]}["FC-1"] == "pass", "details were decrypted"

        transport = httpx.ASGITransport(app=service.http)
        async with httpx.AsyncClient(transport=transport, base_url="http://verification", auth=acting_officers("FG-01")) as http:
            for n in range(1, N + 1):
                for step, officer in (("approve", "XZ-02"), ("publish", "XZ-04")):
                    response = await http.post(f"/applications/APP-INT-{n}/{step}", json={"officer": {"id": officer, "section": "县直科"}})
                    assert response.status_code == 200, response.text
            issued = await asyncio.gather(*[
                http.post(f"/applications/APP-INT-{n}/issue-certificate", json={"officer": {"id": "XZ-04", "section": "县直科"}})
                for n in range(1, N + 1)])
            assert all(r.status_code == 200 for r in issued), [r.text for r in issued]
            codes = [r.json()["certificate"]["code"] for r in issued]
            verified = [(await http.get(f"/certificates/verify/{code}")).json() for code in codes]
        certificates = await collect(js, "fp.verification.certificate.issued", N)

    numbers = sorted(r.json()["certificate"]["number"] for r in issued)
    assert numbers == [f"130132-DJ-2026-{n:05d}" for n in range(1, N + 1)]
    assert sorted(c["payload"]["certificate_no"] for c in certificates) == numbers
    assert all(v["genuine"] and v["current"] for v in verified) and len(set(codes)) == N
    store = VerificationStore(settings.store_url)
    file = store.find(application_file_id("APP-INT-1"))
    assert [type(e).__name__ for e in store.events.get(file.id)] == [
        "Opened", "DocumentsChecked", "Approved", "Published", "CertificateIssued"]
    assert json.dumps(file.facts).find("1994") == -1, "no birth date or ID number is recorded"
    store.close()


async def test_a_satisfaction_rating_waits_for_its_application_then_is_attached(nats_server, js, store_url, key_dir, tmp_path):
    keystore_url = f"sqlite:///{tmp_path / 'keys.db'}"
    protector = open_protector(keystore_url, key_dir)
    intake = IntakeStore(store_url)
    rating = Submission(
        source="online_hall", record_id="OH-INT-1", schema="county.online_hall.satisfaction.rated/v1",
        kind="online_hall.satisfaction.rated", subject="county.online_hall.satisfaction.rated", inbox_sequence=99,
        occurred_at="2026-03-12T10:00:00+08:00", received_at="2026-03-12T02:00:01+00:00", township_code=None,
        routing={"section": "县直科", "section_en": "County-Direct Section", "duty_no": 4, "item_no": 2},
        data={"application_id": "APP-INT-1", "score": 5, "comment": None}, person_refs={}, data_subject_ref="rec-x",
    )
    intake.save(rating, an_application(1, protector))
    rated_message, application_message = [intake_translate(n.id, intake.decode(n))[0] for n in intake.read_log(0, 10)]
    intake.close()
    protector.close()
    settings = verification_settings(nats_server, store_url, keystore_url, key_dir, today="2026-03-12")
    service = verification_bootstrap(settings)
    async with running(service):
        await js.publish(rated_message.subject, rated_message.body, headers={"Nats-Msg-Id": rated_message.message_id})
        await asyncio.sleep(0.3)  # the rating arrives first: it is retried, not lost
        await js.publish(application_message.subject, application_message.body, headers={"Nats-Msg-Id": application_message.message_id})
        [attached] = await collect(js, "fp.verification.application.satisfaction_attached", 1, timeout=30)
    assert (attached["payload"]["score"], attached["payload"]["section"], attached["payload"]["township_code"]) == (5, "县直科", "130132100")


def an_honor_application(n: int, child: str, protector) -> Submission:
    """Couple n asks for an honor certificate for `child` (several couples may name the same child)."""
    from datetime import date

    wife = make_resident_id("130132", date(1990, 2, n), 2 * n)
    details = {"child": {"name": "李一诺", "sex": "F", "birth_date": "2020-01-15", "id_number": child}, "household_type": "urban",
               "commitment": "夫妻双方自愿终身只生育一个子女", "documents": ["户口簿", "出生医学证明"]}
    subject_ref = protector.person_ref(wife)
    submission = an_application(n, protector)
    submission_data = {"application_id": f"APP-OC-{n}", "kind": "only_child_honor_certificate", "received_on": "2026-03-02",
                       "applicant_id_number": protector.encrypt(subject_ref, wife, "applicant_id_number"), "spouse_id_number": None,
                       "details": protector.encrypt(subject_ref, details, "details")}
    return Submission(
        source="township", record_id=f"TS-OC-{n}", schema=submission.schema, kind=submission.kind, subject=submission.subject,
        inbox_sequence=100 + n, occurred_at=submission.occurred_at, received_at=submission.received_at, township_code="130132100",
        routing=submission.routing, data=submission_data, person_refs={"applicant_id_number": subject_ref}, data_subject_ref=subject_ref,
    )


async def test_approvals_racing_for_one_childs_certificate_give_one_holder_and_a_falsification_signal(nats_server, js, store_url, key_dir, tmp_path):
    from datetime import date

    keystore_url = f"sqlite:///{tmp_path / 'keys.db'}"
    child = make_resident_id("130132", date(2020, 1, 15), 14)
    messages = announced_by_intake(store_url, keystore_url, key_dir, lambda protector: [an_honor_application(n, child, protector) for n in range(1, 4)])
    settings = verification_settings(nats_server, store_url, keystore_url, key_dir)
    service = verification_bootstrap(settings)
    async with running(service):
        for message in messages:
            await js.publish(message.subject, message.body, headers={"Nats-Msg-Id": message.message_id})
        checked = await collect(js, "fp.verification.application.checked", 3)
        assert {c["payload"]["blocking"] for c in checked} == {False}, "all three pass while none is approved"

        transport = httpx.ASGITransport(app=service.http)
        async with httpx.AsyncClient(transport=transport, base_url="http://verification", auth=acting_officers("FG-01")) as http:
            decided = await asyncio.gather(*[
                http.post(f"/applications/APP-OC-{n}/approve", json={"officer": {"id": "XZ-02", "section": "县直科"}}) for n in range(1, 4)])
        signals = await collect(js, "fp.verification.application.falsification_signal", 2)

    approved = [f"APP-OC-{n}" for n, r in enumerate(decided, start=1) if r.status_code == 200]
    assert len(approved) == 1, [r.text for r in decided]
    refused = [r.json()["detail"][0] for r in decided if r.status_code != 200]
    assert [r.status_code for r in decided].count(409) == 2
    assert all(p["field"] == "findings" and "OC-2" in p["message"] and approved[0] in p["message"] for p in refused)
    assert sorted(s["payload"]["application_id"] for s in signals) == sorted({f"APP-OC-{n}" for n in range(1, 4)} - set(approved))
    assert {s["payload"]["pattern"] for s in signals} == {"certificate_already_held"}
