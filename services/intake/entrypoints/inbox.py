"""Intake's routing table: what it consumes, and what each delivery becomes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from services.intake.application.handlers import Accepted, AlreadyHandled, Duplicate, IntakeUseCase, Outcome, Rejected
from shared.contracts.receipts import Receipt, receipt_message
from shared.messaging.consumer import Delivery, logging_for
from shared.messaging.publisher import Publisher
from shared.messaging.topology import ConsumerSpec
from shared.observability.metrics import ServiceMetrics

INBOX_CONSUMER = ConsumerSpec(
    stream="COUNTY_INBOX",
    durable="intake",
    filter_subjects=("county.>", "township.>"),
    description="Every inbound record of CONTRACT.md, validated and recorded once",
)

CONSUMERS = (INBOX_CONSUMER,)


class InboxEntrypoint:
    def __init__(self, use_case: IntakeUseCase, publisher: Publisher, wake_relay: Callable[[], None], metrics: ServiceMetrics) -> None:
        self._use_case = use_case
        self._publisher = publisher
        self._wake_relay = wake_relay
        self._metrics = metrics

    async def __call__(self, delivery: Delivery) -> str:
        return (await self.handle_many([delivery]))[0]

    async def handle_many(self, deliveries: list[Delivery]) -> list[str]:
        """Records a batch in one transaction; then acts on each outcome."""
        outcomes = await asyncio.to_thread(self._use_case.record_many, deliveries)
        results = []
        for delivery, outcome in zip(deliveries, outcomes, strict=True):
            with logging_for(delivery):  # what follows concerns this delivery alone
                results.append(await self._after(delivery, outcome))
        return results

    async def _after(self, delivery: Delivery, outcome: Outcome) -> str:
        match outcome:
            case Accepted():
                self._wake_relay()
                return "ok"
            case Rejected():
                self._wake_relay()  # the relay sends its receipt and its dead letter
                self._metrics.dead_letters.labels(self._metrics.service, INBOX_CONSUMER.durable, "validation").inc()
                return "rejected"
            case AlreadyHandled():
                return "redelivered"
            case Duplicate(first=first):
                # Nothing is stored for a duplicate, so its receipt goes out directly;
                # a crash before the ack redelivers it and the receipt is sent again.
                receipt = Receipt(record_id=first.record_id, accepted=True, submission_id=str(first.id), duplicate=True)
                message_id = f"intake-dup-{delivery.stream}-{delivery.stream_sequence}"
                await self._publisher.publish(receipt_message(first.source, receipt, message_id))
                return "duplicate"
        raise AssertionError(f"unhandled outcome {outcome!r}")
