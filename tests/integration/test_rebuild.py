"""`fpb rebuild reporting` on a real nats-server and both backends: the read models a
rebuild writes (in its worker process) are exactly those the live projection wrote, and
an unreadable message is skipped by both."""

from __future__ import annotations

from cli.bench.replay import synthetic_events
from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.projector import Projector
from services.reporting.entrypoints.routes import CONSUMERS
from shared.messaging.consumer import PermanentError, delivery_of
from shared.messaging.replay import replay_stream

UNREADABLE_AT = 150


async def project_live(projector: Projector, js) -> None:
    """What reporting's consumers do: a batch at a time, one by one when a batch holds an unreadable message."""

    async def on_batch(raws: list) -> None:
        deliveries = [delivery_of(raw) for raw in raws]
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
