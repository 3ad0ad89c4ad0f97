"""Publish with a PubAck and a de-duplication id (Nats-Msg-Id)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream.nats import NatsBroker

from shared.contracts.integration import OutgoingMessage
from shared.messaging.topology import stream_for_subject
from shared.observability.metrics import ServiceMetrics, message_type


class Publisher:
    def __init__(self, broker: NatsBroker, metrics: ServiceMetrics, timeout: float = 10.0) -> None:
        self._broker = broker
        self._metrics = metrics
        self._timeout = timeout

    async def publish(self, message: OutgoingMessage) -> None:
        headers = {**message.headers, "Nats-Msg-Id": message.message_id}
        ack = await self._broker.publish(
            message.body,
            message.subject,
            headers=headers,
            stream=stream_for_subject(message.subject),
            timeout=self._timeout,
        )
        self._metrics.messages_out.labels(
            self._metrics.service, message_type(message.subject), str(bool(ack.duplicate)).lower()
        ).inc()

    async def publish_all(self, messages: Sequence[OutgoingMessage]) -> None:
        """Pipelined: all in flight at once, each awaited for its PubAck."""
        await asyncio.gather(*(self.publish(m) for m in messages))
