"""Reporting's use cases: project integration events, and rebuild from the streams."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

from nats.js import JetStreamContext
from pydantic import ValidationError

from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.domain.performance_facts import performance_changes
from services.reporting.domain.projections import changes_for
from services.reporting.domain.subsidy_projections import subsidy_changes
from shared.contracts.integration import UnknownEventError, read_event
from shared.messaging.consumer import Delivery, PermanentError
from shared.messaging.ack_reply import stream_position
from shared.messaging.replay import replay_stream
from shared.messaging.topology import ConsumerSpec


class Projector:
    def __init__(self, read_models: ReadModelStore) -> None:
        self.read_models = read_models
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
        messages = self._read_all([(d.body, d.stream, d.stream_sequence) for d in deliveries])
        applied = await asyncio.to_thread(self.read_models.apply_many, messages)
        return ["ok" if fresh else "duplicate" for fresh in applied]

    def _read_all(self, bodies: list[tuple[bytes, str, int]]) -> list[tuple[str, str, int, list]]:
        """Each (body, stream, sequence) as (message id, stream, sequence, changes);
        PermanentError names an unreadable one."""
        messages = []
        for body, stream, sequence in bodies:
            try:
                received = read_event(body)
            except (ValidationError, UnknownEventError, ValueError) as error:
                raise PermanentError(f"unreadable integration event: {error}") from error
            # The base read models, then the facts the league tables, cases summary and scorecard
            # read, then the subsidy reconciliation's payments, enrolments and signals.
            changes = [*changes_for(received), *performance_changes(received), *subsidy_changes(received)]
            messages.append((received.envelope.event_id, stream, sequence, changes))
        return messages

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

    async def rebuild(self, js: JetStreamContext, sources: Sequence[ConsumerSpec]) -> dict[str, Any]:
        """Drop every read model and replay the streams into it; report before and after.

        Two processes share the work: this one reads the streams (nats-py's handling of a
        message is about a third of an event's cost), a worker process validates, projects
        and writes, in the order read (one worker: its tasks run one after another). At
        most REBUILD_BATCHES_IN_FLIGHT batches wait for it, so memory stays bounded."""
        async with self._lock:
            expected = 0
            for stream in {spec.stream for spec in sources}:
                expected += (await js.stream_info(stream)).state.messages
            self.rebuild_status = {"state": "running", "replayed": 0, "expected": expected}
            before = await asyncio.to_thread(self.read_models.digest)
            await asyncio.to_thread(self.read_models.clear)
            with ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=_start_rebuild_worker, initargs=(self.read_models.url,)) as worker:
                loop, in_flight = asyncio.get_running_loop(), deque()

                async def hand_over(raws: list[Any]) -> None:
                    if len(in_flight) >= REBUILD_BATCHES_IN_FLIGHT:
                        self.rebuild_status["replayed"] += await in_flight.popleft()
                    bodies = [(raw.data, *stream_position(raw.reply)) for raw in raws]
                    in_flight.append(loop.run_in_executor(worker, _project_replayed_in_worker, bodies))

                for spec in sources:
                    await replay_stream(js, spec.stream, spec.filter_subjects, hand_over)
                while in_flight:
                    self.rebuild_status["replayed"] += await in_flight.popleft()
            after = await asyncio.to_thread(self.read_models.digest)
        result = {"replayed": self.rebuild_status["replayed"], "before": before, "after": after, "identical": before["sha256"] == after["sha256"]}
        self.rebuild_status = {"state": "done", "expected": expected, **result}
        return result

    def project_replayed(self, bodies: list[tuple[bytes, str, int]]) -> int:
        """One replayed batch in one transaction; returns how many messages it held."""
        try:
            self.read_models.apply_many(self._read_all(bodies))
        except PermanentError:
            for body in bodies:  # find the unreadable one(s); project the rest
                try:
                    self.read_models.apply_many(self._read_all([body]))
                except PermanentError:
                    pass  # live consumption dead-lettered it too: it is not in the read models
        return len(bodies)


REBUILD_BATCHES_IN_FLIGHT = 2
_rebuild_worker: Projector | None = None  # in the rebuild's worker process only


def _start_rebuild_worker(read_models_url: str) -> None:
    global _rebuild_worker
    _rebuild_worker = Projector(ReadModelStore(read_models_url))


def _project_replayed_in_worker(bodies: list[tuple[bytes, str, int]]) -> int:
    assert _rebuild_worker is not None, "the worker's initializer sets it"
    return _rebuild_worker.project_replayed(bodies)
