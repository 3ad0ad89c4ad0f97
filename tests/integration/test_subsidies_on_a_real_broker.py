"""Reward and special assistance on a real nats-server and a real store (SQLite and
PostgreSQL): a beneficiary report, a death and a follow-up published as inbound records
flow through intake into verification, officers run the cycle over HTTP, and the
integration events (signals included) arrive on fp.verification.>; a case opened from a
signal links back to it."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import httpx
from support import collect, running, sample

from services.intake.bootstrap import bootstrap as intake_bootstrap
from services.intake.settings import IntakeSettings
from services.verification.bootstrap import bootstrap as verification_bootstrap
from services.verification.settings import VerificationSettings
from shared.contracts.events.enforcement import CASE_OPENED, CASE_OPENED_SUBJECT, CaseOpenedV1
from shared.contracts.identity import make_resident_id
from shared.contracts.integration import make_event
from tests.identity_support import acting_officers

ELDER = make_resident_id("130132", date(1958, 4, 2), 7)
ASSIST, CHIEF, FINANCE = ({"id": "FZ-01", "section": "扶助中心"}, {"id": "FZ-02", "section": "扶助中心"},
                          {"id": "CW-01", "section": "财务科"})  # demo accounts (cli/demo/accounts.json)


def record(kind: str, record_id: str, occurred_at: str, **data) -> tuple[str, dict]:
    subject, message = sample(kind)
    return subject, dict(message, record_id=record_id, occurred_at=occurred_at, data={**message["data"], **data})


async def publish(js, subject: str, message: dict) -> None:
    await js.publish(subject, json.dumps(message, ensure_ascii=False).encode(), headers={"Nats-Msg-Id": message["record_id"]})


async def test_a_year_of_one_beneficiary_flows_from_the_county_to_signals(nats_server, js, store_url, key_dir):
    intake = intake_bootstrap(IntakeSettings(nats_url=nats_server.url, store_url=store_url, keystore_url=store_url, key_dir=key_dir))
    verification = verification_bootstrap(VerificationSettings(
        nats_url=nats_server.url, store_url=store_url.replace("store.db", "verification.db"), keystore_url=store_url, key_dir=key_dir,
        today="2026-06-30"))
    async with running(intake), running(verification):
        await publish(js, *record("township.beneficiary.reported", "JSB-INT-B1", "2026-03-02T10:00:00+08:00", program="reward",
                                  id_number=ELDER, birth_date="1958-04-02", reason={"type": "only_child", "household_type": "rural"}))
        [checked] = await collect(js, "fp.verification.beneficiary.checked", 1)
        assert checked["payload"]["outcome"] == "eligible", "the encrypted reason was read through the key store"
        beneficiary_id = checked["payload"]["beneficiary_id"]

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=verification.http), base_url="http://verification", auth=acting_officers("FZ-01")) as http:
            steps = [
                (f"/beneficiaries/{beneficiary_id}/confirm", ASSIST, {"program": "reward", "year": 2026, "on": "2026-03-20"}),
                ("/payment-cycles", ASSIST, {"program": "reward", "year": 2026, "on": "2026-04-01"}),
                ("/payment-cycles/2026-reward/compute", ASSIST, {"on": "2026-04-01"}),
                ("/payment-cycles/2026-reward/approve", CHIEF, {"on": "2026-04-02"}),
                ("/payment-cycles/2026-reward/batches", FINANCE, {"on": "2026-05-10", "batch_id": "BOC-2026-05", "payments": [
                    {"payment_id": "PAY-2026-RW-000001", "bank_reference": "BOC-778899", "disbursed_on": "2026-05-10"}]}),
            ]
            for path, officer, body in steps:
                response = await http.post(path, json={"officer": officer, **body})
                assert response.status_code == 200, (path, response.text)

            await publish(js, *record("health.death.reported", "HB-DR-INT-1", "2026-06-01T08:30:00+08:00", id_number=ELDER, died_on="2026-05-03"))
            await publish(js, *record("township.followup.recorded", "JSB-INT-F1", "2026-06-20T16:45:00+08:00", payment_id="PAY-2026-RW-000001",
                                      amount_confirmed="600.00", visited_on="2026-06-20"))
            signals = await collect(js, "fp.verification.subsidy.signal_raised", 2)
            cycle = (await http.get("/payment-cycles/2026-reward")).json()
            history = (await http.get("/history/PAY-2026-RW-000001")).json()

        by_pattern = {s["payload"]["pattern"]: s["payload"] for s in signals}
        assert set(by_pattern) == {"paid_after_death", "followup_shortfall"}
        assert by_pattern["followup_shortfall"]["amount"] == "360.00" and by_pattern["paid_after_death"]["offence"] == "fraudulent_collection"
        assert all(p["evidence"][0].startswith("intake-") for p in by_pattern.values())

        opened = CaseOpenedV1(case_id="case-1", case_number="ZF-2026-00000001", origin="signal", category="subsidy_fraud",
                              township_code="130132204", anonymous=False, section="执法大队", submission_id=None,
                              opened_at=datetime(2026, 6, 21, 1, tzinfo=timezone.utc), signal_id=by_pattern["paid_after_death"]["signal_id"])
        message = make_event(event_type=CASE_OPENED, event_id="enforcement-1", producer="enforcement", aggregate_id="case-1", aggregate_version=1,
                             occurred_at=opened.opened_at, correlation_id="x", causation_id="y", payload=opened, subject=CASE_OPENED_SUBJECT)
        await js.publish(message.subject, message.body, headers={"Nats-Msg-Id": message.message_id})
        [linked] = await collect(js, "fp.verification.subsidy.signal_linked", 1)
        payments = await collect(js, "fp.verification.payment.>", 4)
        suspended = await collect(js, "fp.verification.beneficiary.suspended", 1)

    assert linked["payload"]["case_number"] == "ZF-2026-00000001"
    assert [p["payload"]["change"] for p in payments] == ["scheduled", "approved", "disbursed", "followed_up"]
    assert payments[-1]["payload"]["shortfall"] == "360.00" and payments[-1]["payload"]["bucket"] == "disbursed"
    assert suspended[0]["payload"]["cause"] == "death" and suspended[0]["payload"]["effective_on"] == "2026-05-03"
    assert cycle["county"]["disbursed"] == "960.00" and cycle["reconciles"] is True
    assert [e["type"] for e in history["events"]] == ["Payment.Scheduled", "Payment.Approved", "Payment.Disbursed", "Payment.FollowedUp"]
    assert history["state"]["amount"] == "960.00"


async def test_provisioning_brings_an_old_durables_filter_subjects_up_to_date_keeping_it(nats_server, js):
    from dataclasses import replace

    from services.verification.entrypoints.routes import APPLICATION_SUBMITTED, INTAKE_CONSUMER, SATISFACTION_RATED
    from shared.messaging.provisioning import consumer_config, provision

    await js.delete_consumer("FP_INTAKE", INTAKE_CONSUMER.durable)
    before_subsidies = replace(INTAKE_CONSUMER, filter_subjects=(APPLICATION_SUBMITTED, SATISFACTION_RATED))
    await js.add_consumer("FP_INTAKE", consumer_config(before_subsidies))  # what `fpb up` left in an old data directory
    created = (await js.consumer_info("FP_INTAKE", INTAKE_CONSUMER.durable)).created

    await provision(js, [INTAKE_CONSUMER])

    info = await js.consumer_info("FP_INTAKE", INTAKE_CONSUMER.durable)
    assert sorted(info.config.filter_subjects) == sorted(INTAKE_CONSUMER.filter_subjects)
    assert info.created == created, "the durable (and its position) is kept"
