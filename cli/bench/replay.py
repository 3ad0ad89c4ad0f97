"""Replay: rebuild the read models from a stream of integration events."""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path

import nats

from cli.bench.load import cpu_seconds
from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.projector import Projector
from services.reporting.entrypoints.routes import CONSUMERS
from shared.contracts.townships import TOWNSHIPS
from shared.messaging.nats_server import EmbeddedNatsServer
from shared.messaging.provisioning import provision
from shared.messaging.replay import replay_stream

SAMPLE = Path(__file__).resolve().parents[2] / "tests" / "samples" / "integration" / "intake.submission.accepted.v1.json"
KINDS = ("police.birth.registered", "township.application.submitted", "health.ultrasound.recorded", "drug.sale.recorded", "hotline.tip.received")


def synthetic_events(count: int) -> list[tuple[str, bytes, str]]:
    template = json.loads(SAMPLE.read_text())
    rng = random.Random(7)
    codes = list(TOWNSHIPS)
    events = []
    for n in range(count):
        envelope = dict(template, event_id=f"intake-{n + 1}")
        kind = KINDS[n % len(KINDS)]
        payload = dict(template["payload"], kind=kind, source=kind.split(".")[0], township_code=rng.choice(codes))
        if kind == "police.birth.registered":
            payload["data"] = {"sex": rng.choice("MMMMMMMFFFFFF"), "birth_date": f"2025-{rng.randint(1, 12):02d}-15", "birth_order": rng.randint(1, 3)}
        envelope["payload"] = payload
        events.append((f"fp.intake.accepted.{kind}", json.dumps(envelope, ensure_ascii=False).encode(), envelope["event_id"]))
    return events


async def replay_benchmark(workdir: Path, count: int) -> dict[str, float]:
    server = EmbeddedNatsServer(workdir / "replay-nats", allow_anonymous=True).start()  # a broker of its own, for this measurement only
    try:
        connection = await nats.connect(server.url)
        js = connection.jetstream()
        await provision(js, ())
        events = synthetic_events(count)
        for first in range(0, count, 1000):
            await asyncio.gather(*(js.publish(s, b, headers={"Nats-Msg-Id": i}) for s, b, i in events[first : first + 1000]))
        del events
        raw_rate = await _raw_stream_read(js, count)
        read_models = ReadModelStore(f"sqlite:///{workdir / 'replay-read-models.db'}")
        projector = Projector(read_models)
        broker_cpu, coordinator_cpu, started = cpu_seconds(server.process.pid), time.process_time(), time.perf_counter()
        result = await projector.rebuild(js, CONSUMERS)
        elapsed = time.perf_counter() - started
        cpu = {"coordinator": time.process_time() - coordinator_cpu, **result["cpu_seconds"], "nats-server": cpu_seconds(server.process.pid) - broker_cpu}
        read_models.close()
        await connection.close()
    finally:
        server.stop()
    events = result["replayed"]
    return {"events": events, "rebuild_per_s": events / elapsed, "raw_stream_read_per_s": raw_rate,
            "cpu_us_per_event": {name: seconds / events * 1e6 for name, seconds in cpu.items()}, "peak_rss_mib": result["peak_rss_mib"]}


async def _raw_stream_read(js, count: int) -> float:
    """The ceiling: reading the same stream by the same pull loop and doing nothing."""

    async def discard(_: list) -> None:
        return None

    started = time.perf_counter()
    seen = await replay_stream(js, "FP_INTAKE", ("fp.intake.>",), discard)
    assert seen == count, (seen, count)
    return count / (time.perf_counter() - started)
