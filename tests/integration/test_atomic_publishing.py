"""Relays publish long runs of a stream's messages as JetStream atomic batches (one fsync
per batch instead of one per message), on a real nats-server: stored in order, once,
and a batch the broker refuses (it holds a repeat) goes one by one instead."""

from __future__ import annotations

import json

import pytest

from services.intake.adapters.outbox import translate as intake_translate
from services.intake.bootstrap import IntakeStore
from shared.messaging.publisher import ATOMIC_BATCH_MIN, Publisher
from shared.messaging.relay import OutboxRelay, RelayPositions
from shared.observability.metrics import ServiceMetrics
from shared.runtime import make_broker
from test_delivery_guarantees import CrashBeforeTracking, KilledBeforeTracking, a_submission

ACCEPTED = "fp.intake.accepted.township.application.submitted"


async def stored(js, stream: str) -> list:
    """Every message of a stream, in stream order."""
    info = await js.stream_info(stream)
    return [await js.get_msg(stream, seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)] if info.state.messages else []


def published(metrics: ServiceMetrics, duplicate: bool) -> float:
    return metrics.messages_out.labels("intake", ACCEPTED, str(duplicate).lower())._value.get()


async def relay_setup(nats_server, store_url, count: int):
    store = IntakeStore(store_url)
    store.save(*[a_submission(n) for n in range(1, count + 1)])
    broker = make_broker(nats_server.url, "intake")
    await broker.connect()
    return store, broker, ServiceMetrics("intake")


@pytest.mark.parametrize("count, atomic", [(ATOMIC_BATCH_MIN - 1, False), (120, True)])
async def test_a_relay_batch_is_stored_once_in_order_and_atomically_when_long_enough(nats_server, js, store_url, count, atomic):
    store, broker, metrics = await relay_setup(nats_server, store_url, count)
    announced = [m for n in store.read_log(0, count) for m in intake_translate(n.id, store.decode(n))]
    relay = OutboxRelay("intake", store, intake_translate, RelayPositions(store_url), Publisher(broker, metrics), metrics)
    assert await relay.publish_next_batch() == count
    await broker.stop()
    store.close()

    for stream, prefix in (("FP_INTAKE", "fp.intake."), ("RECEIPTS", "fp.receipts.")):
        messages = await stored(js, stream)
        assert [m.headers["Nats-Msg-Id"] for m in messages] == [a.message_id for a in announced if a.subject.startswith(prefix)]
        assert len(messages) == count
        assert all(("Nats-Batch-Id" in m.headers) is atomic for m in messages)
    accepted = await stored(js, "FP_INTAKE")
    assert [json.loads(m.data)["payload"]["record_id"] for m in accepted] == [f"TS-{n}" for n in range(1, count + 1)]
    assert published(metrics, duplicate=False) == count and published(metrics, duplicate=True) == 0


async def test_a_batch_republished_after_a_crash_is_refused_whole_then_goes_one_by_one_storing_nothing_twice(nats_server, js, store_url):
    store, broker, metrics = await relay_setup(nats_server, store_url, 120)
    crashing = OutboxRelay("intake", store, intake_translate, CrashBeforeTracking(store_url), Publisher(broker, metrics), metrics)
    await crashing.publish_next_batch()  # published; its position is saved meanwhile…
    with pytest.raises(KilledBeforeTracking):
        await crashing.position_saved()  # …and the process dies first
    assert len(await stored(js, "FP_INTAKE")) == 120

    restarted = OutboxRelay("intake", store, intake_translate, RelayPositions(store_url), Publisher(broker, metrics), metrics)
    assert await restarted.publish_next_batch() == 120
    await broker.stop()
    store.close()

    assert len(await stored(js, "FP_INTAKE")) == 120 and len(await stored(js, "RECEIPTS")) == 120
    assert published(metrics, duplicate=True) == 120  # the second time, the broker recognised every one


async def test_a_batch_partly_stored_before_adds_only_the_rest_in_order(nats_server, js, store_url):
    store, broker, metrics = await relay_setup(nats_server, store_url, 100)
    messages = [m for n in store.read_log(0, 100) for m in intake_translate(n.id, store.decode(n))]
    accepted = [m for m in messages if m.subject == ACCEPTED]
    for message in accepted[:40]:  # a relay that died after the first 40 of its PubAcks
        await js.publish(message.subject, message.body, headers={**message.headers, "Nats-Msg-Id": message.message_id})

    await Publisher(broker, metrics).publish_all(messages)
    await broker.stop()
    store.close()

    stored_accepted = await stored(js, "FP_INTAKE")
    assert [json.loads(m.data)["payload"]["record_id"] for m in stored_accepted] == [f"TS-{n}" for n in range(1, 101)]
    assert published(metrics, duplicate=True) == 40 and published(metrics, duplicate=False) == 60
