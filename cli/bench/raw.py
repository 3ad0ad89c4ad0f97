"""The raw limits of our own stack on this machine: the ceiling the platform is measured against."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import nats
from eventsourcing.domain import Aggregate, event
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

from shared.eventstore.application import ServiceApplication
from shared.messaging.nats_server import EmbeddedNatsServer

WINDOW = 500  # publishes in flight at once (pipelining)
# A record-shaped document for the reference work below (fixed: the same work in every run).
REFERENCE_DOCUMENT = {"source": "police", "record_id": "ref-1", "kind": "police.birth.registered", "township_code": "130132100",
                      "data": {"child_name": "张三", "sex": "M", "birth_date": "2025-03-15", "birth_order": 2,
                               "mother_id": "130132199001011234", "father_id": "130132198801015678"}}


def reference_speed(seconds: float = 1.0) -> float:
    """The machine's speed this hour: the same pure-Python work (a record encoded, decoded
    and walked) done on one core for about `seconds`, in rounds per second. On this VM the
    hours differ by up to ×2.5 (every process's CPU per record with them), so each run
    says how fast its machine was at its start and end."""
    rounds, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(100):
            decoded = json.loads(json.dumps(REFERENCE_DOCUMENT, ensure_ascii=False))
            rounds += sum(len(str(value)) for value in decoded["data"].values()) > 0
    return rounds / elapsed


async def jetstream_baseline(workdir: Path, count: int, size: int) -> dict[str, float]:
    """A plain nats-py publisher and pull consumer through one durable stream, on a
    nats-server with the platform's configuration (file storage, sync_interval: always)."""
    server = EmbeddedNatsServer(workdir / "raw-nats", allow_anonymous=True).start()  # a broker of its own, for this measurement only
    try:
        connection = await nats.connect(server.url)
        js = connection.jetstream()
        await js.add_stream(StreamConfig(name="BENCH", subjects=["bench.>"], storage=StorageType.FILE))
        body = b"x" * size
        started = time.perf_counter()
        for first in range(0, count, WINDOW):
            await asyncio.gather(*(js.publish(f"bench.{n % 15}", body, headers={"Nats-Msg-Id": f"m{n}"}) for n in range(first, min(first + WINDOW, count))))
        published = time.perf_counter() - started
        subscription = await js.pull_subscribe("bench.>", durable="bench", config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=-1))
        started, received = time.perf_counter(), 0
        while received < count:
            for message in await subscription.fetch(min(WINDOW, count - received), timeout=5):
                await message.ack()
                received += 1
        consumed = time.perf_counter() - started
        await connection.close()
    finally:
        server.stop()
    return {
        "publish_per_s": count / published,
        "consume_per_s": count / consumed,
        "publish_then_consume_per_s": count / (published + consumed),
    }


class BenchRecord(Aggregate):
    @event("Written")
    def __init__(self, payload: str) -> None:
        self.payload = payload

    @event("Amended")
    def amend(self, payload: str) -> None:
        self.payload = payload


class BenchStore(ServiceApplication):
    name = "bench"


def event_store_baseline(workdir: Path, count: int, payload_size: int = 400) -> dict[str, float]:
    """The library's own SQLite recorder: one event per transaction, ten per save, log reads."""
    store = BenchStore(f"sqlite:///{workdir / 'raw-store.db'}")
    payload = "x" * payload_size
    started = time.perf_counter()
    for _ in range(count):
        store.save(BenchRecord(payload=payload))
    one_per_transaction = count / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(count // 10):
        record = BenchRecord(payload=payload)
        for _ in range(9):
            record.amend(payload)
        store.save(record)
    ten_per_save = (count // 10) * 10 / (time.perf_counter() - started)
    started, read = time.perf_counter(), 0
    for _ in store.iter_log(page=5000):
        read += 1
    log_read = read / (time.perf_counter() - started)
    store.close()
    return {"append_one_per_s": one_per_transaction, "append_ten_per_save_per_s": ten_per_save, "log_read_per_s": log_read, "log_events": read}
