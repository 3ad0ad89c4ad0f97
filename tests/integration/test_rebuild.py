"""`fpb rebuild reporting` on a real nats-server and both backends: the read models a
rebuild writes (in its projecting and writing processes) are exactly those the live projection wrote, and
an unreadable message is skipped by both."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path

import nats
import pytest
from pydantic import ValidationError

from cli.bench.replay import synthetic_events
from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.projector import Projector, readable_messages
from services.reporting.application.rebuild import RebuildFailed, RebuildPipeline
from services.reporting.entrypoints.routes import CONSUMERS
from services.reporting.settings import ReportingSettings
from shared.messaging.consumer import Delivery, PermanentError
from shared.messaging.provisioning import provision
from shared.messaging.replay import ReplayedMessage, connected_url, replay_consumer, replay_stream

UNREADABLE_AT = 150


def delivered(message: ReplayedMessage) -> Delivery:
    return Delivery(subject=message.subject, body=message.data, headers={}, stream=message.stream, stream_sequence=message.sequence,
                    num_delivered=1, published_at=datetime.now(timezone.utc))


async def project_live(projector: Projector, js) -> None:
    """What reporting's consumers do: a batch at a time, one by one when a batch holds an unreadable message."""

    async def on_batch(messages: list[ReplayedMessage]) -> None:
        deliveries = [delivered(message) for message in messages]
        try:
            await projector.handle_many(deliveries)
        except PermanentError:
            for delivery in deliveries:
                try:
                    await projector.handle(delivery)
                except PermanentError:
                    pass  # dead-lettered

    for spec in CONSUMERS:
        await replay_stream(js, spec.stream, spec.filter_subjects, on_batch, batch=64)


async def test_a_rebuild_writes_exactly_the_read_models_the_live_projection_wrote(js, store_url):
    events = synthetic_events(400)
    for n, (subject, body, message_id) in enumerate(events):
        if n == UNREADABLE_AT:
            await js.publish(subject, b'{"not": "an event"}', headers={"Nats-Msg-Id": "unreadable"})
        await js.publish(subject, body, headers={"Nats-Msg-Id": message_id})
    read_models = ReadModelStore(store_url)
    projector = Projector(read_models)
    await project_live(projector, js)
    live = read_models.digest()
    assert read_models.accepted_total() == 400

    result = await projector.rebuild(js, CONSUMERS)

    assert result["replayed"] == 401  # the unreadable one read, and skipped again
    assert result["identical"] and result["after"] == live
    assert read_models.accepted_total() == 400
    read_models.close()


SAMPLES = Path(__file__).parent.parent / "samples" / "integration"
STATUSES = ("triaged", "investigating", "referred", "closed")


def case_history(cases: int) -> list[tuple[str, bytes, str]]:
    """Each case opened, then its status changed four times: the final rows depend on
    the order the events are applied in (an update before its case's opening is lost)."""
    opened_sample = json.loads((SAMPLES / "enforcement.case.opened.v1.json").read_text())
    updated_sample = json.loads((SAMPLES / "enforcement.case.updated.v1.json").read_text())
    events = []
    for n in range(cases):
        case_id = str(uuid.UUID(int=n + 1))
        opened = {**opened_sample, "event_id": f"opened-{n}", "payload": {**opened_sample["payload"], "case_id": case_id}}
        events.append(("fp.enforcement.case.opened", opened))
        for step, status in enumerate(STATUSES):
            payload = {**updated_sample["payload"], "case_id": case_id, "status": status}
            events.append((f"fp.enforcement.case.{status}", {**updated_sample, "event_id": f"updated-{n}-{step}", "payload": payload}))
    return [(subject, json.dumps(envelope, ensure_ascii=False).encode(), envelope["event_id"]) for subject, envelope in events]


@pytest.mark.parametrize("projectors", [1, 2])
async def test_a_rebuild_in_many_small_batches_applies_them_in_stream_order(js, tmp_path, projectors: int):
    for subject, body, message_id in case_history(40):
        await js.publish(subject, body, headers={"Nats-Msg-Id": message_id})
    read_models = ReadModelStore(f"sqlite:///{tmp_path / 'read-models.db'}")
    projector = Projector(read_models, rebuild_projectors=projectors)
    await project_live(projector, js)
    assert {row["status"] for row in read_models.rows("rm_cases")} == {"closed"}

    result = await projector.rebuild(js, CONSUMERS, batch=7)  # batches that split a case's history

    assert result["replayed"] == 200 and result["identical"]
    processes = {f"projector-{n}" for n in range(1, projectors + 1)}
    assert set(result["cpu_seconds"]) == processes and all(seconds > 0 for seconds in result["cpu_seconds"].values())
    assert set(result["peak_rss_mib"]) == processes and all(20 < mib < 500 for mib in result["peak_rss_mib"].values())
    read_models.close()


def broken_projection(messages: list) -> list:
    """Stands in for readable_messages (the projecting process imports it from here)."""
    raise RuntimeError("the projection broke")


async def replay_intake(pipeline: RebuildPipeline, js, progress=lambda: None) -> int:
    async with replay_consumer(js, "FP_INTAKE", ("fp.intake.>",)) as source:
        await pipeline.replay(source, progress)
    return await pipeline.finish()


async def publish_events(js, count: int) -> None:
    for subject, body, message_id in synthetic_events(count):
        await js.publish(subject, body, headers={"Nats-Msg-Id": message_id})


async def test_a_failing_projection_fails_the_rebuild_with_its_own_words(js, tmp_path):
    await publish_events(js, 30)
    with RebuildPipeline(f"sqlite:///{tmp_path / 'read-models.db'}", connected_url(js), broken_projection, batch=5) as pipeline:
        with pytest.raises(RebuildFailed, match="the rebuild's projector-1 failed projecting a batch: RuntimeError: the projection broke"):
            await replay_intake(pipeline, js)
    assert not any(process.is_alive() for process in pipeline._processes)


async def test_a_writer_that_cannot_open_its_store_fails_the_rebuild_naming_it(js, tmp_path):
    await publish_events(js, 30)
    unwritable = f"sqlite:///{tmp_path / 'no-such-directory' / 'read-models.db'}"
    with RebuildPipeline(unwritable, connected_url(js), readable_messages, batch=5) as pipeline:
        with pytest.raises(RebuildFailed, match="failed opening the read models: OperationalError"):
            await replay_intake(pipeline, js)
    assert not any(process.is_alive() for process in pipeline._processes)


async def test_a_projector_that_cannot_reach_the_broker_fails_the_rebuild_naming_it(js, tmp_path):
    await publish_events(js, 3)
    with RebuildPipeline(f"sqlite:///{tmp_path / 'read-models.db'}", "nats://127.0.0.1:1", readable_messages) as pipeline:
        with pytest.raises(RebuildFailed, match="failed connecting to the broker: ConnectionRefusedError"):
            await replay_intake(pipeline, js)
    assert not any(process.is_alive() for process in pipeline._processes)


@pytest.mark.parametrize("killed", [0, 1])
async def test_a_killed_rebuild_process_fails_the_rebuild_instead_of_hanging_it(js, tmp_path, killed: int):
    await publish_events(js, 60)
    with RebuildPipeline(f"sqlite:///{tmp_path / 'read-models.db'}", connected_url(js), readable_messages, projectors=2, batch=5) as pipeline:
        victim = pipeline._processes[killed]
        with pytest.raises(RebuildFailed, match="ended unexpectedly"):
            await asyncio.wait_for(replay_intake(pipeline, js, progress=victim.kill), 30)
    assert not any(process.is_alive() for process in pipeline._processes)


def slow_first_projection(messages: list) -> list:
    """Stands in for readable_messages: the batch holding the stream's first message
    takes 20 s to project, so the projector with the next batch waits for its turn."""
    if any(message.sequence == 1 for message in messages):
        time.sleep(20)
    return readable_messages(messages)


ORPHANING_COORDINATOR = """
import asyncio, sys
import nats
from services.reporting.application.rebuild import RebuildPipeline
from shared.messaging.replay import connected_url, replay_consumer
from tests.integration.test_rebuild import slow_first_projection

async def main(nats_url, store_url):
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    with RebuildPipeline(store_url, connected_url(js), slow_first_projection, projectors=2, batch=5) as pipeline:
        print(*(process.pid for process in pipeline._processes), flush=True)
        async with replay_consumer(js, "FP_INTAKE", ("fp.intake.>",)) as source:
            await pipeline.replay(source, progress=lambda: print("pulled", flush=True))

if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
"""


def test_a_projector_waiting_for_its_turn_stops_when_its_coordinator_is_killed(nats_server, tmp_path):
    async def publish() -> None:
        connection = await nats.connect(nats_server.url)
        js = connection.jetstream()
        await provision(js, ())
        await publish_events(js, 20)
        await connection.close()

    asyncio.run(publish())
    coordinator = subprocess.Popen([sys.executable, "-c", ORPHANING_COORDINATOR, nats_server.url, f"sqlite:///{tmp_path / 'read-models.db'}"],
                                   stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        first, second = (int(pid) for pid in coordinator.stdout.readline().split())
        assert coordinator.stdout.readline() == "pulled\n"  # the first batch, at projector-1 for 20 s
        assert coordinator.stdout.readline() == "pulled\n"  # the second, whose projector must wait for it
        time.sleep(1)
        coordinator.kill()
        coordinator.wait()

        deadline = time.monotonic() + 10
        while _alive(second) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(second)  # stopped waiting for a turn that will never come
    finally:
        coordinator.kill()
        for pid in (first, second):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("projectors", ["0", "9", "two"])
def test_a_bad_rebuild_projector_count_is_refused_naming_the_setting(monkeypatch, tmp_path, projectors: str):
    monkeypatch.setenv("FPB_STORE_URL", f"sqlite:///{tmp_path / 'read-models.db'}")
    monkeypatch.setenv("FPB_REBUILD_PROJECTORS", projectors)

    with pytest.raises(ValidationError, match="rebuild_projectors"):
        ReportingSettings()
