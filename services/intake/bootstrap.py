"""The one place that assembles the intake service. Nothing connects at import."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from services.intake.adapters.data_files import load_duty_register, load_retention_rules
from services.intake.adapters.inbox_eraser import inbox_eraser
from services.intake.adapters.outbox import translate
from services.intake.application.erasure import Erasures
from services.intake.application.handlers import IntakeUseCase
from services.intake.domain.submission import submission_id
from services.intake.entrypoints.asyncapi import document
from services.intake.entrypoints.erasure_http import add_erasure_routes
from services.intake.entrypoints.erasure_worker import ErasureWorker
from services.intake.entrypoints.inbox import INBOX_CONSUMER, InboxEntrypoint
from services.intake.settings import IntakeSettings
from shared.assembly import finish, sql_probe, wire
from shared.eventstore.application import ServiceApplication
from shared.messaging.consumer import Delivery, DurableConsumer
from shared.observability.http import add_reveal_route, parse_uuid
from shared.observability.logging import configure_logging
from shared.privacy.keys import open_protector
from shared.runtime import Service, name_database_connections, run_until_signalled

NAME = "intake"


class IntakeStore(ServiceApplication):
    name = "intake"


def resolve(ref: str) -> UUID | None:
    """A submission or rejection UUID, or "source:record_id" (e.g. police:PSB-2026-000123)."""
    if (uuid := parse_uuid(ref)) is not None:
        return uuid
    source, _, record_id = ref.partition(":")
    return submission_id(source, record_id) if record_id else None


def bootstrap(settings: IntakeSettings) -> Service:
    wiring = wire(NAME, settings, IntakeStore(settings.store_url), translate)
    protector = open_protector(settings.keystore_url, settings.key_dir)
    use_case = IntakeUseCase(wiring.store, protector, load_duty_register(settings.duty_register_path))

    def protect_raw(delivery: Delivery) -> dict[str, Any]:
        # A poison inbound record may hold personal data: keep its bytes encrypted.
        return {"raw": protector.encrypt_raw(f"{delivery.stream}:{delivery.stream_sequence}", delivery.body)}

    entrypoint = InboxEntrypoint(use_case, wiring.publisher, wiring.relay.wake, wiring.metrics)
    consumer = DurableConsumer(INBOX_CONSUMER, entrypoint, wiring.publisher, wiring.metrics, protect_raw)
    # The key store is a database of its own (FPB_KEYSTORE_URL): no record can be
    # recorded without it, so intake is not ready while it is unreachable.
    probe_key_store, close_probe = sql_probe(settings.keystore_url)
    service = finish(wiring, [consumer], resolve, document, closers=[protector.close, close_probe], probes={"key_store": probe_key_store})
    add_reveal_route(service.http, NAME, wiring.store, resolve, protector)
    erasures = Erasures(wiring.store, protector.keystore, load_retention_rules(settings.retention_rules_path), inbox_eraser(lambda: wiring.broker.connection))
    add_erasure_routes(service.http, erasures, protector, now)
    service.workers.append(ErasureWorker(erasures, now))
    return service


def now() -> datetime:
    return datetime.now(timezone.utc)


def main() -> None:
    name_database_connections(NAME)
    settings = IntakeSettings()
    configure_logging(NAME, settings.log_level)
    run_until_signalled(bootstrap(settings), settings.http_host, settings.http_port)
