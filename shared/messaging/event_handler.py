"""Consume integration events into an event-sourced service, exactly once in effect.

The service supplies a routing table `subject -> decide(received, find)` returning the
aggregates with new events; this module
validates and upcasts the message, and saves those events together with the record
that the message was handled (one transaction), so a redelivery, or a republish long
after the broker's de-duplication window, changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from pydantic import ValidationError

from shared.contracts.integration import ReceivedEvent, UnknownEventError, read_event
from shared.eventstore.application import HandledMessage, ServiceApplication, StaleAggregateError
from shared.messaging.consumer import Delivery, PermanentError

Find = Callable[[UUID], Any]
Decide = Callable[[ReceivedEvent, Find], Sequence[Aggregate]]
STALE_RETRIES = 5


# Called with a batch's events before any is decided: e.g. load the keys to decrypt them in one round trip.
Prepare = Callable[[Sequence[ReceivedEvent]], None]


def integration_event_handler(store: ServiceApplication, routes: Mapping[str, Decide], wake_relay: Callable[[], None],
                              prepare: Prepare | None = None) -> "IntegrationEventHandler":
    return IntegrationEventHandler(store, routes, wake_relay, prepare)


class IntegrationEventHandler:
    """One message at a time (__call__), or a batch in one transaction (handle_many)."""

    def __init__(self, store: ServiceApplication, routes: Mapping[str, Decide], wake_relay: Callable[[], None],
                 prepare: Prepare | None = None) -> None:
        self._store = store
        self._routes = routes
        self._wake_relay = wake_relay
        self._prepare = prepare

    async def __call__(self, delivery: Delivery) -> str:
        decide, received = self._read(delivery)
        outcome = await asyncio.to_thread(self._handle_one, delivery, received, decide)
        if outcome == "ok":
            self._wake_relay()
        return outcome

    async def handle_many(self, deliveries: list[Delivery]) -> list[str]:
        """All the batch's events and handled-message markers in one transaction. Any
        failure (unreadable message, conflict) raises: the consumer then goes one by one."""
        work = [(delivery, *self._read(delivery)) for delivery in deliveries]
        outcomes = await asyncio.to_thread(self._handle_batch, work)
        if "ok" in outcomes:
            self._wake_relay()
        return outcomes

    def _read(self, delivery: Delivery) -> tuple[Decide, ReceivedEvent]:
        decide = self._routes.get(delivery.subject)
        if decide is None:
            raise PermanentError(f"no route for subject {delivery.subject!r}")
        try:
            return decide, read_event(delivery.body)
        except (ValidationError, UnknownEventError, ValueError) as error:
            raise PermanentError(f"unreadable integration event: {error}") from error

    def _handle_one(self, delivery: Delivery, received: ReceivedEvent, decide: Decide) -> str:
        for _ in range(STALE_RETRIES):
            if self._store.was_handled(received.envelope.event_id):
                return "duplicate"
            aggregates = decide(received, self._store.find)
            try:
                saved = self._store.save_once(received.envelope.event_id, delivery.subject, *aggregates)
            except StaleAggregateError:
                continue  # a concurrent writer moved the aggregate on: decide again
            return ("ok" if aggregates else "ignored") if saved else "duplicate"
        raise StaleAggregateError(f"gave up after {STALE_RETRIES} concurrent conflicts")

    def _handle_batch(self, work: list[tuple[Delivery, Decide, ReceivedEvent]]) -> list[str]:
        changed: dict[UUID, Aggregate] = {}  # decisions later in the batch see earlier ones

        def find(aggregate_id: UUID) -> Any:
            return changed.get(aggregate_id) or self._store.find(aggregate_id)

        if self._prepare is not None:
            self._prepare([received for _, _, received in work])
        outcomes, markers, seen = [], [], set()
        for delivery, decide, received in work:
            message_id = received.envelope.event_id
            # No was_handled query per message: a message handled before has its marker
            # stored already, so saving the batch fails on it (IntegrityError) and the
            # consumer goes one by one, where it is recognised. Redeliveries are rare; a
            # query per message was a tenth of enforcement's time.
            if message_id in seen:
                outcomes.append("duplicate")
                continue
            seen.add(message_id)
            aggregates = decide(received, find)
            changed.update((aggregate.id, aggregate) for aggregate in aggregates)
            markers.append(HandledMessage(message_id=message_id, subject=delivery.subject))
            outcomes.append("ok" if aggregates else "ignored")
        if markers:
            self._store.save(*markers, *changed.values())  # IntegrityError: the caller goes one by one
        return outcomes
