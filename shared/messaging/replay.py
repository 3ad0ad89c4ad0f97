"""Read a stream's matching messages from the first to those present now (rebuilds).

A named, unacknowledged, short-lived consumer: the durable consumers' positions are
untouched. The pull loop is our own (as in consumer.py): two pull requests of `batch`
messages stay in flight while the previous batch is being handled, and messages land
through a subscription callback. nats-py's `fetch` waits on every message with its own
timer task, which capped a replay at the speed of that loop; here the broker streams
the next batch while the caller projects the last one. Memory stays bounded: a new
request goes out only when the caller takes a batch.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

IN_FLIGHT_REQUESTS = 2
REQUEST_EXPIRES_SECONDS = 30.0


class ReplayStalledError(RuntimeError):
    pass


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
    connection = js._nc  # nats-py's JetStreamContext holds its connection here (no public accessor)
    batches: asyncio.Queue[list] = asyncio.Queue()
    pull = _Pull(connection, f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}", expected, batch, batches)
    subscription = await connection.subscribe(pull.inbox, cb=pull.arrived, pending_msgs_limit=-1, pending_bytes_limit=-1)
    seen = 0
    try:
        for _ in range(IN_FLIGHT_REQUESTS):
            await pull.ask()
        while seen < expected:
            try:
                messages = await asyncio.wait_for(batches.get(), REQUEST_EXPIRES_SECONDS + 5)
            except TimeoutError:
                raise ReplayStalledError(f"replay of {stream} stalled after {seen} of {expected} messages") from None
            await pull.ask()  # the broker sends the next batch while this one is handled
            await on_batch(messages)
            seen += len(messages)
    finally:
        await subscription.unsubscribe()
        await js.delete_consumer(stream, name)
    return seen


class _Pull:
    """Pull requests out, batches in: a batch is complete when it holds as many messages
    as its request asked for, or when the broker ends the request early (408 with the
    number it did not deliver, which is asked for again)."""

    def __init__(self, connection, next_subject: str, expected: int, batch: int, batches: asyncio.Queue) -> None:
        self.connection, self.next_subject, self.expected, self.batch, self.batches = connection, next_subject, expected, batch, batches
        self.inbox = connection.new_inbox()
        self.requested = 0  # messages asked for so far (less those a request gave up on)
        self.sizes: list[int] = []  # what each request in flight still owes, oldest first
        self.current: list = []

    async def ask(self) -> None:
        size = min(self.batch, self.expected - self.requested)
        if size <= 0:
            return
        self.requested += size
        self.sizes.append(size)
        request = json.dumps({"batch": size, "expires": int(REQUEST_EXPIRES_SECONDS * 1e9)}).encode()
        await self.connection.publish(self.next_subject, request, reply=self.inbox)

    async def arrived(self, message) -> None:
        status = (message.headers or {}).get("Status")
        if status is None:
            self.current.append(message)
            if self.sizes and len(self.current) >= self.sizes[0]:
                self.sizes.pop(0)
                self._hand_over()
        elif status in ("408", "404", "409") and self.sizes:  # the oldest request ended short
            undelivered = int((message.headers or {}).get("Nats-Pending-Messages", self.sizes[0] - len(self.current)))
            self.requested -= undelivered
            self.sizes.pop(0)
            self._hand_over()

    def _hand_over(self) -> None:
        batch, self.current = self.current, []
        self.batches.put_nowait(batch)  # possibly empty: the caller then asks again
