"""Durable pull consumers with bounded retries and a dead-letter stream.

faststream fetches a batch from a provisioned durable consumer (AckPolicy.MANUAL,
batch=True) and we handle its messages strictly in order, one at a time, deciding
per message: ack on success; on failure nak with a growing delay; on the last allowed
attempt, or an error that can never succeed, publish it to DEAD_LETTERS with its raw
bytes and reason, then ack, so the messages behind it keep flowing.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub

from shared.contracts.integration import OutgoingMessage, json_bytes
from shared.messaging.publisher import Publisher
from shared.messaging.topology import ConsumerSpec
from shared.observability.metrics import ServiceMetrics, message_type

log = structlog.get_logger("consumer")


class PermanentError(Exception):
    """This message can never be handled (malformed, unknown type): dead-letter it now."""


@dataclass(frozen=True)
class Delivery:
    subject: str
    body: bytes
    headers: dict[str, str]
    stream: str
    stream_sequence: int
    num_delivered: int
    published_at: datetime

    @property
    def message_id(self) -> str:
        """The publisher's de-duplication id, else the stream position."""
        return self.headers.get("Nats-Msg-Id") or f"{self.stream}:{self.stream_sequence}"


# A handler returns its outcome label for the metrics: "ok", "duplicate", "ignored".
Handler = Callable[[Delivery], Awaitable[str]]
# Turns the raw bytes of a dead letter into what may be stored (intake encrypts them).
RawProtector = Callable[[Delivery], dict]


def delivery_of(raw) -> Delivery:
    meta = raw.metadata
    return Delivery(
        subject=raw.subject,
        body=raw.data,
        headers=dict(raw.headers or {}),
        stream=meta.stream,
        stream_sequence=meta.sequence.stream,
        num_delivered=meta.num_delivered,
        published_at=meta.timestamp or datetime.now(timezone.utc),
    )


class DurableConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        handler: Handler,
        publisher: Publisher,
        metrics: ServiceMetrics,
        protect_raw: RawProtector | None = None,
    ) -> None:
        self.spec = spec
        self._handler = handler
        self._publisher = publisher
        self._metrics = metrics
        self._protect_raw = protect_raw or (lambda d: {"raw_base64": base64.b64encode(d.body).decode()})

    def attach(self, broker: NatsBroker) -> None:
        broker.subscriber(
            self.spec.filter_subjects[0],
            stream=JStream(self.spec.stream, declare=False),
            durable=self.spec.durable,
            pull_sub=PullSub(batch_size=self.spec.batch_size, batch=True, timeout=1.0),
            ack_policy=AckPolicy.MANUAL,
            title=f"{self.spec.durable}:{self.spec.stream}",
            description=self.spec.description,
        )(self.handle_batch)

    async def handle_batch(self, body: list, msg: NatsMessage) -> None:  # noqa: ARG002 - body is the decoded batch
        for raw in msg.raw_message:
            await self.handle_one(raw)

    async def handle_one(self, raw) -> None:
        delivery = delivery_of(raw)
        kind = message_type(delivery.subject)
        structlog.contextvars.bind_contextvars(
            correlation_id=delivery.headers.get("Fp-Correlation-Id", delivery.message_id),
            causation_id=delivery.message_id,
        )
        started = time.perf_counter()
        try:
            outcome = await self._handler(delivery)
        except PermanentError as error:
            await self._dead_letter(delivery, "permanent", error)
            await raw.ack()
        except Exception as error:  # noqa: BLE001 - any failure is retried, then dead-lettered
            if delivery.num_delivered >= self.spec.max_attempts:
                await self._dead_letter(delivery, "max_attempts", error)
                await raw.ack()
            else:
                delay = self.spec.backoff_seconds[min(delivery.num_delivered - 1, len(self.spec.backoff_seconds) - 1)]
                log.warning("message_retry", subject=delivery.subject, attempt=delivery.num_delivered, delay=delay, error=repr(error))
                self._metrics.messages_in.labels(self._metrics.service, kind, "retry").inc()
                await raw.nak(delay=delay)
        else:
            await raw.ack()
            self._metrics.messages_in.labels(self._metrics.service, kind, outcome).inc()
        finally:
            self._metrics.handling_seconds.labels(self._metrics.service, kind).observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("correlation_id", "causation_id")

    async def _dead_letter(self, delivery: Delivery, reason: str, error: Exception) -> None:
        log.error("message_dead_lettered", subject=delivery.subject, reason=reason, error=repr(error), attempts=delivery.num_delivered)
        body = {
            "service": self._metrics.service,
            "consumer": self.spec.durable,
            "stream": delivery.stream,
            "stream_sequence": delivery.stream_sequence,
            "subject": delivery.subject,
            "attempts": delivery.num_delivered,
            "reason": reason,
            "error": f"{type(error).__name__}: {error}",
            "headers": delivery.headers,
            "dead_lettered_at": datetime.now(timezone.utc).isoformat(),
            **self._protect_raw(delivery),
        }
        await self._publisher.publish(
            OutgoingMessage(
                subject=f"fp.dlq.{self._metrics.service}.{self.spec.durable}",
                body=json_bytes(body),
                message_id=f"dlq-{delivery.stream}-{delivery.stream_sequence}",
            )
        )
        self._metrics.dead_letters.labels(self._metrics.service, self.spec.durable, reason).inc()
        self._metrics.messages_in.labels(self._metrics.service, message_type(delivery.subject), "dead_letter").inc()
