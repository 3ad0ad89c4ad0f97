"""Read a stream's matching messages from the first to those present now (rebuilds).

A named, unacknowledged, short-lived consumer: the durable consumers' positions are
untouched, and memory stays bounded by the batch size.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy


async def replay_stream(
    js: JetStreamContext,
    stream: str,
    filter_subjects: Sequence[str],
    on_batch: Callable[[list], Awaitable[None]],
    batch: int = 2000,
) -> int:
    name = f"replay-{uuid.uuid4().hex[:12]}"
    info = await js.add_consumer(
        stream,
        ConsumerConfig(
            name=name,
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            filter_subjects=list(filter_subjects),
            inactive_threshold=120.0,
            mem_storage=True,
        ),
    )
    expected = info.num_pending or 0
    subscription = await js.pull_subscribe_bind(durable=name, stream=stream)
    seen = 0
    try:
        while seen < expected:
            try:
                messages = await subscription.fetch(min(batch, expected - seen), timeout=5.0)
            except NatsTimeoutError:
                raise RuntimeError(f"replay of {stream} stalled after {seen} of {expected} messages") from None
            await on_batch(messages)
            seen += len(messages)
    finally:
        await subscription.unsubscribe()
        await js.delete_consumer(stream, name)
    return seen
