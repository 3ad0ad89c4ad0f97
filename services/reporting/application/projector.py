"""Reporting's use cases: project integration events, and rebuild from the streams."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from nats.js import JetStreamContext
from pydantic import ValidationError

from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.rebuild import RebuildPipeline
from services.reporting.domain.performance_facts import performance_changes
from services.reporting.domain.projections import PlainChange, changes_for
from services.reporting.domain.subsidy_projections import subsidy_changes
from shared.contracts.integration import UnknownEventError, read_event
from shared.messaging.consumer import Delivery, PermanentError
from shared.messaging.replay import ReplayedMessage, connected_url, reader_credentials, replay_consumer
from shared.messaging.topology import ConsumerSpec


class Projector:
    def __init__(self, read_models: ReadModelStore, rebuild_projectors: int = 2) -> None:
        self.read_models, self.rebuild_projectors = read_models, rebuild_projectors
        # Held by a rebuild: live deliveries wait, then de-duplicate against it.
        self._lock = asyncio.Lock()
        self.rebuild_status: dict[str, Any] = {"state": "idle"}
        self._rebuild_task: asyncio.Task | None = None

    async def handle(self, delivery: Delivery) -> str:
        async with self._lock:
            return await self._project(delivery)

    async def handle_many(self, deliveries: list[Delivery]) -> list[str]:
        """A batch in one transaction (an unreadable message raises: then one by one)."""
        async with self._lock:
            return await self._project_many(deliveries)

    async def _project_many(self, deliveries: list[Delivery]) -> list[str]:
        messages = read_messages([ReplayedMessage(d.subject, d.body, d.stream, d.stream_sequence) for d in deliveries])
        applied = await asyncio.to_thread(self.read_models.apply_plain, messages)
        return ["ok" if fresh else "duplicate" for fresh in applied]

    async def _project(self, delivery: Delivery) -> str:
        return (await self._project_many([delivery]))[0]

    def start_rebuild(self, js: JetStreamContext, sources: Sequence[ConsumerSpec]) -> dict[str, Any]:
        """Start a rebuild in the background (one at a time); follow it in rebuild_status."""
        if self._rebuild_task is None or self._rebuild_task.done():
            self.rebuild_status = {"state": "running", "replayed": 0, "expected": None}
            self._rebuild_task = asyncio.create_task(self._rebuild_reporting_failure(js, sources))
        return self.rebuild_status

    async def _rebuild_reporting_failure(self, js: JetStreamContext, sources: Sequence[ConsumerSpec]) -> None:
        try:
            await self.rebuild(js, sources)
        except Exception as error:  # noqa: BLE001 - shown to whoever follows the rebuild
            self.rebuild_status = {**self.rebuild_status, "state": "failed", "error": f"{type(error).__name__}: {error}"}

    async def rebuild(self, js: JetStreamContext, sources: Sequence[ConsumerSpec], batch: int = 2000) -> dict[str, Any]:
        """Drop every read model and replay the streams into it, `batch` messages at a time;
        report before and after, and each process's CPU time.

        Other processes read the streams, validate and project, then write, in stream
        order; this one takes turns (see RebuildPipeline)."""
        async with self._lock:
            expected = 0
            for stream in {spec.stream for spec in sources}:
                expected += (await js.stream_info(stream)).state.messages
            self.rebuild_status = {"state": "running", "replayed": 0, "expected": expected}
            before = await asyncio.to_thread(self.read_models.digest)
            await asyncio.to_thread(self.read_models.clear)
            with RebuildPipeline(self.read_models.url, connected_url(js), readable_messages, self.rebuild_projectors, batch, credentials=reader_credentials(js)) as pipeline:
                for spec in sources:
                    async with replay_consumer(js, spec.stream, spec.filter_subjects) as source:
                        await pipeline.replay(source, progress=lambda: self.rebuild_status.update(replayed=pipeline.replayed))
                replayed = await pipeline.finish()
            after = await asyncio.to_thread(self.read_models.digest)
        result = {"replayed": replayed, "before": before, "after": after, "identical": before["sha256"] == after["sha256"],
                  "cpu_seconds": pipeline.cpu_seconds, "peak_rss_mib": pipeline.peak_rss_mib}
        self.rebuild_status = {"state": "done", "expected": expected, **result}
        return result


def read_messages(delivered: Sequence[ReplayedMessage]) -> list[tuple[str, str, int, list[PlainChange]]]:
    """Each message as (message id, stream, sequence, plain changes); PermanentError
    names an unreadable one."""
    messages = []
    for _, body, stream, sequence in delivered:
        try:
            received = read_event(body)
        except (ValidationError, UnknownEventError, ValueError) as error:
            raise PermanentError(f"unreadable integration event: {error}") from error
        # The base read models, then the facts the league tables, cases summary and scorecard
        # read, then the subsidy reconciliation's payments, enrolments and signals.
        changes = [*changes_for(received), *performance_changes(received), *subsidy_changes(received)]
        messages.append((received.envelope.event_id, stream, sequence, [change.plain() for change in changes]))
    return messages


def readable_messages(delivered: Sequence[ReplayedMessage]) -> list[tuple[str, str, int, list[PlainChange]]]:
    """read_messages without the unreadable ones (a rebuild's: live consumption
    dead-lettered them, so they are not in the read models either)."""
    try:
        return read_messages(delivered)
    except PermanentError:
        readable = []
        for message in delivered:
            try:
                readable.extend(read_messages([message]))
            except PermanentError:
                pass
        return readable
