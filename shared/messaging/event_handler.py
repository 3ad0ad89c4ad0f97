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
from shared.eventstore.application import ServiceApplication, StaleAggregateError
from shared.messaging.consumer import Delivery, Handler, PermanentError

Find = Callable[[UUID], Any]
Decide = Callable[[ReceivedEvent, Find], Sequence[Aggregate]]
STALE_RETRIES = 5


def integration_event_handler(store: ServiceApplication, routes: Mapping[str, Decide], wake_relay: Callable[[], None]) -> Handler:
    def handle_in_thread(delivery: Delivery, received: ReceivedEvent, decide: Decide) -> str:
        for _ in range(STALE_RETRIES):
            if store.was_handled(received.envelope.event_id):
                return "duplicate"
            aggregates = decide(received, store.find)
            try:
                saved = store.save_once(received.envelope.event_id, delivery.subject, *aggregates)
            except StaleAggregateError:
                continue  # a concurrent writer moved the aggregate on: decide again
            return ("ok" if aggregates else "ignored") if saved else "duplicate"
        raise StaleAggregateError(f"gave up after {STALE_RETRIES} concurrent conflicts")

    async def handle(delivery: Delivery) -> str:
        decide = routes.get(delivery.subject)
        if decide is None:
            raise PermanentError(f"no route for subject {delivery.subject!r}")
        try:
            received = read_event(delivery.body)
        except (ValidationError, UnknownEventError, ValueError) as error:
            raise PermanentError(f"unreadable integration event: {error}") from error
        outcome = await asyncio.to_thread(handle_in_thread, delivery, received, decide)
        if outcome == "ok":
            wake_relay()
        return outcome

    return handle
