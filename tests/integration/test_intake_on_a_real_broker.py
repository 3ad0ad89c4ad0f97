"""Intake on a real nats-server, with its store on SQLite and on PostgreSQL."""

from __future__ import annotations

import json

from services.intake.bootstrap import bootstrap
from services.intake.settings import IntakeSettings
from tests.identity_support import acting_officers
from support import collect, eventually, running, sample, stream_count


def intake_settings(nats_url: str, store_url: str, key_dir) -> IntakeSettings:
    return IntakeSettings(nats_url=nats_url, store_url=store_url, keystore_url=store_url, key_dir=key_dir)


async def test_valid_invalid_and_republished_records_each_get_the_right_receipt(nats_server, js, store_url, key_dir):
    subject, message = sample("police.birth.registered")
    invalid = dict(message, record_id="PSB-BAD-1", data=dict(message["data"], sex="X", birth_order=0))
    service = bootstrap(intake_settings(nats_server.url, store_url, key_dir))
    async with running(service):
        await js.publish(subject, json.dumps(message).encode(), headers={"Nats-Msg-Id": message["record_id"]})
        await js.publish(subject, json.dumps(invalid).encode(), headers={"Nats-Msg-Id": invalid["record_id"]})
        # The same record again after the broker's de-duplication window (another msg id):
        # intake itself must recognise it.
        await js.publish(subject, json.dumps(message).encode(), headers={"Nats-Msg-Id": message["record_id"] + "-retry"})
        receipts = await collect(js, "fp.receipts.police", 3)

    by_kind = {(r["record_id"], r.get("duplicate", False)): r for r in receipts}
    first = by_kind[(message["record_id"], False)]
    repeat = by_kind[(message["record_id"], True)]
    rejected = by_kind[("PSB-BAD-1", False)]
    assert first["accepted"] is True and first["submission_id"]
    assert repeat["accepted"] is True and repeat["submission_id"] == first["submission_id"]
    assert rejected["accepted"] is False
    assert {e["field"] for e in rejected["errors"]} == {"data.sex", "data.birth_order"}
    # One accepted fact downstream, one dead letter with the (encrypted) raw bytes.
    assert await stream_count(js, "FP_INTAKE", "fp.intake.accepted.>") == 1
    dead = await collect(js, "fp.dlq.intake.rejected.police", 1)
    assert dead[0]["raw"]["$enc"] == "v1" and dead[0]["errors"]
    assert 'fpb_dead_letters_total{consumer="intake",reason="validation",service="intake"} 1.0' in service.metrics.exposition().decode()


async def test_a_rejected_record_never_blocks_the_records_behind_it(nats_server, js, store_url, key_dir):
    subject, message = sample("county.hotline.tip.received".removeprefix("county."))
    async with running(bootstrap(intake_settings(nats_server.url, store_url, key_dir))):
        await js.publish(subject, b"\xff not json", headers={"Nats-Msg-Id": "garbage-1"})
        for n in range(5):
            record = dict(message, record_id=f"HL-T-{n}")
            await js.publish(subject, json.dumps(record).encode(), headers={"Nats-Msg-Id": record["record_id"]})
        receipts = await collect(js, "fp.receipts.hotline", 6)
    assert sum(r["accepted"] for r in receipts) == 5
    assert [r for r in receipts if not r["accepted"]][0]["errors"][0]["field"] == ""


async def test_intake_reports_ready_and_exports_metrics(nats_server, js, store_url, key_dir):
    import httpx

    service = bootstrap(intake_settings(nats_server.url, store_url, key_dir))
    subject, message = sample("health.death.reported")
    async with running(service):
        await js.publish(subject, json.dumps(message).encode(), headers={"Nats-Msg-Id": message["record_id"]})
        await collect(js, "fp.receipts.health", 1)
        transport = httpx.ASGITransport(app=service.http)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake", auth=acting_officers("sj-auditor")) as client:
            ready = await eventually(lambda: client.get("/readyz"))
            assert ready.status_code == 200 and ready.json()["checks"] == {"broker": True, "store": True, "consumers": True, "key_store": True}
            metrics = (await client.get("/metrics", headers=client.auth.headers_for("ops"))).text
            history = (await client.get(f"/history/health:{message['record_id']}")).json()
    assert 'fpb_messages_in_total{outcome="ok",service="intake",type="county.health.death.reported"} 1.0' in metrics
    assert "fpb_handling_seconds_bucket" in metrics and "fpb_relay_lag_events" in metrics
    assert history["events"][0]["type"] == "Submission.Accepted"
    assert history["state"]["data"]["id_number"] == "[encrypted]"


async def test_intake_is_not_ready_until_its_consumer_is_provisioned(nats_server, store_url, key_dir):
    import httpx
    import nats

    from cli.platform import ALL_CONSUMERS
    from shared.messaging.provisioning import provision

    service = bootstrap(intake_settings(nats_server.url, store_url, key_dir))
    async with running(service):
        transport = httpx.ASGITransport(app=service.http)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake", auth=acting_officers("sj-auditor")) as client:
            waiting = (await client.get("/readyz")).json()
            assert waiting["ready"] is False and waiting["checks"]["consumers"] is False
            connection = await nats.connect(nats_server.url)
            await provision(connection.jetstream(), ALL_CONSUMERS)
            await connection.close()
            await eventually(lambda: _is_ready(client), timeout=20)


async def _is_ready(client) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def test_reading_personal_data_is_recorded_before_it_is_shown(nats_server, js, store_url, key_dir):
    import httpx

    service = bootstrap(intake_settings(nats_server.url, store_url, key_dir))
    subject, message = sample("health.death.reported")
    async with running(service):
        await js.publish(subject, json.dumps(message).encode(), headers={"Nats-Msg-Id": message["record_id"]})
        await collect(js, "fp.receipts.health", 1)
        transport = httpx.ASGITransport(app=service.http)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake", auth=acting_officers("sj-auditor")) as client:
            ref = f"health:{message['record_id']}"
            no_reason = await client.post(f"/history/{ref}/reveal", json={"reader": {"id": "sj-auditor", "role": "auditor"}})
            assert no_reason.status_code == 422 and "reason" in no_reason.text
            posing = await client.post(f"/history/{ref}/reveal", json={"reader": {"id": "anyone", "role": "nobody"}, "reason": "looking around"})
            assert posing.status_code == 403 and posing.json()["detail"][0]["field"] == "reader.id"
            staff = await client.post(f"/history/{ref}/reveal", json={"reason": "curious"}, headers=client.auth.headers_for("FZ-01"))
            assert staff.status_code == 403 and "personal_data.reveal" in staff.text
            assert (await client.get("/disclosures")).json()["rows"] == []

            revealed = (await client.post(f"/history/{ref}/reveal", json={"reason": "2025 annual audit, sample 14"})).json()
            assert revealed["state"]["data"]["id_number"] == message["data"]["id_number"]
            disclosures = (await client.get("/disclosures")).json()["rows"]
    assert len(disclosures) == 1
    record = disclosures[0]
    assert (record["reader_id"], record["reader_role"], record["reason"]) == ("sj-auditor", "auditor", "2025 annual audit, sample 14"), "the token's subject, not the body's"
    assert record["aggregate_id"] == revealed["aggregate_id"] and "data.id_number" in record["fields"]
    assert record["disclosure_id"] == revealed["disclosure_id"]
