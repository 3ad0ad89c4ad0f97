"""The one place that assembles the enforcement service. Nothing connects at import."""

from __future__ import annotations

from uuid import UUID

from services.enforcement.adapters.outbox import translate
from services.enforcement.entrypoints.asyncapi import document
from services.enforcement.entrypoints.routes import INTAKE_CONSUMER, ROUTES
from services.enforcement.settings import EnforcementSettings
from shared.assembly import finish, wire
from shared.eventstore.application import ServiceApplication
from shared.messaging.consumer import DurableConsumer
from shared.messaging.event_handler import integration_event_handler
from shared.observability.http import parse_uuid
from shared.observability.logging import configure_logging
from shared.runtime import Service, run_until_signalled

NAME = "enforcement"


class EnforcementStore(ServiceApplication):
    name = "enforcement"


def resolve(ref: str) -> UUID | None:
    return parse_uuid(ref)


def bootstrap(settings: EnforcementSettings) -> Service:
    wiring = wire(NAME, settings, EnforcementStore(settings.store_url), translate)
    handler = integration_event_handler(wiring.store, ROUTES, wiring.relay.wake)
    consumer = DurableConsumer(INTAKE_CONSUMER, handler, wiring.publisher, wiring.metrics)
    return finish(wiring, [consumer], resolve, document)


def main() -> None:
    settings = EnforcementSettings()
    configure_logging(NAME, settings.log_level)
    run_until_signalled(bootstrap(settings), settings.http_host, settings.http_port)
