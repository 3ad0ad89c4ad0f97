"""The one place that assembles the verification service. Nothing connects at import."""

from __future__ import annotations

from uuid import UUID

from services.verification.adapters.outbox import translate
from services.verification.domain.application_file import application_file_id
from services.verification.entrypoints.asyncapi import document
from services.verification.entrypoints.routes import INTAKE_CONSUMER, ROUTES
from services.verification.settings import VerificationSettings
from shared.assembly import finish, wire
from shared.eventstore.application import ServiceApplication
from shared.messaging.consumer import DurableConsumer
from shared.messaging.event_handler import integration_event_handler
from shared.observability.http import parse_uuid
from shared.observability.logging import configure_logging
from shared.runtime import Service, run_until_signalled

NAME = "verification"


class VerificationStore(ServiceApplication):
    name = "verification"


def resolve(ref: str) -> UUID | None:
    """An aggregate UUID, or an application_id from the township (e.g. SQ-130132100-2026-0001)."""
    return parse_uuid(ref) or application_file_id(ref)


def bootstrap(settings: VerificationSettings) -> Service:
    wiring = wire(NAME, settings, VerificationStore(settings.store_url), translate)
    handler = integration_event_handler(wiring.store, ROUTES, wiring.relay.wake)
    consumer = DurableConsumer(INTAKE_CONSUMER, handler, wiring.publisher, wiring.metrics)
    return finish(wiring, [consumer], resolve, document)


def main() -> None:
    settings = VerificationSettings()
    configure_logging(NAME, settings.log_level)
    run_until_signalled(bootstrap(settings), settings.http_host, settings.http_port)
