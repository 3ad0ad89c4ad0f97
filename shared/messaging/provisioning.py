"""Create or update the streams, and create the durable consumers, idempotently.

Run once before the services start (`fpb up`, or the provisioning Job in production).
A consumer that already exists keeps its settings and its position (deleting it would
lose the position); only its filter subjects are brought up to date, so a new release
that consumes new subjects receives them.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.messaging.topology import DUPLICATE_WINDOW_SECONDS, STREAMS, ConsumerSpec, StreamSpec

log = structlog.get_logger("provisioning")


def stream_config(spec: StreamSpec, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=list(spec.subjects),
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        # COUNTY_INBOX's plaintext is deleted after its max age (topology.py says why);
        # update_stream below applies a changed age to an existing stream too.
        max_age=spec.max_age_seconds,
        num_replicas=replicas,
        allow_atomic=True,  # relays publish their batches atomically (publisher.py): one fsync per batch
    )


def consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=spec.durable,
        description=spec.description,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=spec.ack_wait_seconds,
        # One more delivery than our own limit: the handler dead-letters on its last
        # attempt, so the server never drops a message silently.
        max_deliver=spec.max_attempts + 1,
        max_ack_pending=spec.max_ack_pending,
        filter_subjects=list(spec.filter_subjects),
    )


async def provision(js: JetStreamContext, consumers: Iterable[ConsumerSpec], replicas: int = 1) -> None:
    for spec in STREAMS:
        config = stream_config(spec, replicas)
        try:
            await js.stream_info(spec.name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
            log.info("stream_created", stream=spec.name)
    for spec in consumers:
        try:
            info = await js.consumer_info(spec.stream, spec.durable)
        except NotFoundError:
            await js.add_consumer(spec.stream, consumer_config(spec))
            log.info("consumer_created", stream=spec.stream, durable=spec.durable)
            continue
        current = set(info.config.filter_subjects or ([info.config.filter_subject] if info.config.filter_subject else []))
        if current != set(spec.filter_subjects):
            # A release that consumes new subjects (fpb up on an old data directory): the
            # server edits a durable's filter subjects in place (2.10+) and keeps its position.
            await js.add_consumer(spec.stream, consumer_config(spec))
            log.info("consumer_filters_updated", stream=spec.stream, durable=spec.durable, filter_subjects=list(spec.filter_subjects))
