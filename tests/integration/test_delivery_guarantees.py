"""Outbox relay, consumer idempotency and dead letters, on a real nats-server."""

from __future__ import annotations

import dataclasses

import pytest

from services.intake.adapters.outbox import translate as intake_translate
from services.intake.bootstrap import IntakeStore
from services.intake.domain.submission import Submission
from services.verification.bootstrap import VerificationStore
from services.verification.bootstrap import bootstrap as verification_bootstrap
from services.verification.domain.application_file import application_file_id
from services.verification.entrypoints import routes as verification_routes
from services.verification.settings import VerificationSettings
from shared.messaging.publisher import Publisher
from shared.messaging.relay import OutboxRelay, RelayPositions
from shared.observability.metrics import ServiceMetrics
from shared.runtime import make_broker
from support import collect, eventually, running, stream_count


def a_submission(n: int, **data_changes) -> Submission:
    data = {"application_id": f"APP-{n}", "kind": "rebirth_approval", "received_on": "2026-02-27", "details": {}}
    data.update(data_changes)
    return Submission(
        source="township", record_id=f"TS-{n}", schema="township.application.submitted/v1",
        kind="township.application.submitted", subject="township.130132100.application.submitted",
        inbox_sequence=n, occurred_at="2026-03-01T09:00:00+08:00", received_at="2026-03-01T09:00:01+00:00",
        township_code="130132100",
        routing={"section": "法规科", "section_en": "Regulations Section", "duty_no": 4, "item_no": 1},
        data={k: v for k, v in data.items() if v is not None},
        person_refs={"applicant_id_number": f"ref-{n}"}, data_subject_ref=f"ref-{n}",
    )


class KilledBeforeTracking(RuntimeError):
    pass


class CrashBeforeTracking(RelayPositions):
    """Publishes go out, then the process 'dies' before the position is recorded."""

    def set(self, relay: str, position: int) -> None:
        raise KilledBeforeTracking("killed between publish and tracking")


async def test_a_relay_killed_between_publish_and_tracking_republishes_without_duplicates(nats_server, js, store_url):
    store = IntakeStore(store_url)
    store.save(*[a_submission(n) for n in range(1, 4)])
    broker = make_broker(nats_server.url, "intake")
    await broker.connect()
    metrics = ServiceMetrics("intake")
    publisher = Publisher(broker, metrics)
    crashing = OutboxRelay("intake", store, intake_translate, CrashBeforeTracking(store_url), publisher, metrics)
    await crashing.publish_next_batch()  # published; its position is saved meanwhile…
    with pytest.raises(KilledBeforeTracking):
        await crashing.position_saved()  # …and the process dies first
    assert await stream_count(js, "FP_INTAKE") == 3

    restarted = OutboxRelay("intake", store, intake_translate, RelayPositions(store_url), publisher, metrics)
    assert await restarted.publish_next_batch() == 3
    assert await restarted.publish_next_batch() == 0
    await broker.stop()
    store.close()

    assert await stream_count(js, "FP_INTAKE") == 3
    assert await stream_count(js, "RECEIPTS") == 3
    duplicates = metrics.messages_out.labels("intake", "fp.intake.accepted.township.application.submitted", "true")
    assert duplicates._value.get() == 3  # the broker recognised every republished event


async def test_a_republished_event_after_the_duplicate_window_changes_nothing(nats_server, js, store_url):
    store = IntakeStore(store_url)
    store.save(a_submission(7))
    notification = store.read_log(0, 10)[0]
    event_message = intake_translate(notification.id, store.decode(notification))[0]
    store.close()
    settings = VerificationSettings(nats_url=nats_server.url, store_url=store_url.replace("store.db", "verification.db"))
    service = verification_bootstrap(settings)
    async with running(service):
        await js.publish(event_message.subject, event_message.body, headers={"Nats-Msg-Id": event_message.message_id})
        # The broker forgot the id (window passed): the same event arrives again.
        await js.publish(event_message.subject, event_message.body, headers={"Nats-Msg-Id": "after-the-window"})
        opened = await collect(js, "fp.verification.application.opened", 1)
        await eventually(lambda: 'outcome="duplicate"' in service.metrics.exposition().decode())
    assert opened[0]["payload"]["application_id"] == "APP-7"
    assert await stream_count(js, "FP_VERIFICATION") == 2  # opened and checked, once each
    verification = VerificationStore(settings.store_url)
    application = verification.find(application_file_id("APP-7"))
    assert application.version == 2 and application.submission_ids == [str(notification.originator_id)]
    verification.close()


async def test_poison_messages_are_dead_lettered_after_bounded_tries_and_the_rest_flow(nats_server, js, store_url, monkeypatch):
    fast = dataclasses.replace(verification_routes.INTAKE_CONSUMER, max_attempts=3, backoff_seconds=(0.05,))
    monkeypatch.setattr("services.verification.bootstrap.INTAKE_CONSUMER", fast)
    store = IntakeStore(store_url)
    # Without received_on verification cannot open the file: it fails on every attempt.
    good, broken = a_submission(1), a_submission(2, received_on=None)
    store.save(good, broken)
    messages = {}
    for notification in store.read_log(0, 10):
        event = store.decode(notification)
        messages[event.record_id if hasattr(event, "record_id") else notification.id] = intake_translate(notification.id, event)[0]
    store.close()
    subject = "fp.intake.accepted.township.application.submitted"
    settings = VerificationSettings(nats_url=nats_server.url, store_url=store_url.replace("store.db", "verification.db"))
    service = verification_bootstrap(settings)
    async with running(service):
        await js.publish(subject, b"{not an event", headers={"Nats-Msg-Id": "poison-1"})
        for key in ("TS-2", "TS-1"):
            await js.publish(subject, messages[key].body, headers={"Nats-Msg-Id": messages[key].message_id})
        dead = await collect(js, "fp.dlq.verification.verification", 2, timeout=20)
        opened = await collect(js, "fp.verification.application.opened", 1)
    reasons = {d["reason"]: d for d in dead}
    assert set(reasons) == {"permanent", "max_attempts"}
    assert reasons["max_attempts"]["attempts"] == 3 and "received_on" in reasons["max_attempts"]["error"]
    assert reasons["permanent"]["raw_base64"]
    assert opened[0]["payload"]["application_id"] == "APP-1"


def test_only_one_replica_relays_a_postgresql_store_and_another_takes_over_when_it_goes(postgres_url):
    first, second = RelayPositions(postgres_url), RelayPositions(postgres_url)
    assert first.lead("intake") is True
    assert second.lead("intake") is False
    assert second.lead("verification") is True  # each store's relay has its own lock
    first.close()  # the leading replica dies: PostgreSQL releases its lock
    assert second.lead("intake") is True
    second.close()
