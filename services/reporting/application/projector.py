"""Reporting's use cases: project integration events, and rebuild from the streams."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from nats.js import JetStreamContext
from pydantic import ValidationError

from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.domain.projections import changes_for
from shared.contracts.integration import UnknownEventError, read_event
from shared.messaging.consumer import Delivery, PermanentError, delivery_of
from shared.messaging.replay import replay_stream
from shared.messaging.topology import ConsumerSpec


class Projector:
    def __init__(self, read_models: ReadModelStore) -> None:
        self.read_models = read_models
        # Held by a rebuild: live deliveries wait, then de-duplicate against it.
        self._lock = asyncio.Lock()

    async def handle(self, delivery: Delivery) -> str:
        async with self._lock:
            return await self._project(delivery)

    async def _project(self, delivery: Delivery) -> str:
        try:
            received = read_event(delivery.body)
        except (ValidationError, UnknownEventError, ValueError) as error:
            raise PermanentError(f"unreadable integration event: {error}") from error
        applied = await asyncio.to_thread(
            self.read_models.apply, received.envelope.event_id, delivery.stream, delivery.stream_sequence, changes_for(received)
        )
        return "ok" if applied else "duplicate"

    async def rebuild(self, js: JetStreamContext, sources: Sequence[ConsumerSpec]) -> dict[str, Any]:
        """Drop every read model and replay the streams into it; report before and after."""
        async with self._lock:
            before = await asyncio.to_thread(self.read_models.digest)
            await asyncio.to_thread(self.read_models.clear)
            replayed = 0
            for spec in sources:
                replayed += await replay_stream(js, spec.stream, spec.filter_subjects, self._replay_one)
            after = await asyncio.to_thread(self.read_models.digest)
        return {"replayed": replayed, "before": before, "after": after, "identical": before["sha256"] == after["sha256"]}

    async def _replay_one(self, raw: Any) -> None:
        try:
            await self._project(delivery_of(raw))
        except PermanentError:
            pass  # live consumption dead-lettered it too: it is not in the read models
