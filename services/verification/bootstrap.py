"""The one place that assembles the verification service. Nothing connects at import."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

import structlog

from services.verification.adapters.index_rows import APPLICATIONS, SUBSIDY
from services.verification.adapters.outbox import make_translate
from services.verification.adapters.policy_file import load_policy_table
from services.verification.adapters.subsidy_policy_file import load_subsidy_policy
from services.verification.application.applications import Applications
from services.verification.application.commands import OfficerCommands
from services.verification.application.payment_commands import PaymentCommands
from services.verification.application.queries import ApplicationIndex, Queries
from services.verification.application.subsidies import Subsidies
from services.verification.application.subsidy_commands import BeneficiaryCommands
from services.verification.application.subsidy_queries import SubsidyIndex
from services.verification.domain.application_file import application_file_id
from services.verification.domain.subsidy.cycle import cycle_uuid
from services.verification.domain.subsidy.references import PublicReference, reference_id
from services.verification.entrypoints.asyncapi import document
from services.verification.entrypoints.http import (
    install_error_handlers,
    verification_routes,
)
from services.verification.entrypoints.routes import ENFORCEMENT_CONSUMER, ENFORCEMENT_ROUTES, INTAKE_CONSUMER, bind
from services.verification.entrypoints.subsidy_http import subsidy_routes
from services.verification.settings import VerificationSettings
from shared.assembly import finish, sql_probe, wire
from shared.calendar import DEFAULT_OVERRIDE, CalendarOverride, WorkingCalendar
from shared.contracts.inbound_models import CHINA_TIME
from shared.eventstore.application import ServiceApplication
from shared.eventstore.index_rows import IndexRows
from shared.messaging.consumer import DurableConsumer
from shared.messaging.event_handler import integration_event_handler
from shared.observability.http import parse_uuid
from shared.observability.logging import configure_logging
from shared.observability.once import CountedOnce
from shared.privacy.keys import open_protector
from shared.privacy.protection import keys_for_batch
from shared.runtime import Service, name_database_connections, run_until_signalled

NAME = "verification"
log = structlog.get_logger(NAME)


class VerificationStore(ServiceApplication):
    name = "verification"


CYCLE_ID = re.compile(r"[0-9]{4}-(reward|special)")
PUBLIC_REFERENCE = re.compile(r"(BF|SG)-[0-9A-F]{12}|PAY-[0-9]{4}-(RW|SP)-[0-9]{6}")


def make_resolve(store: ServiceApplication) -> Callable[[str], UUID | None]:
    """An aggregate UUID; a payment (PAY-2026-RW-000001), beneficiary (BF-…) or signal
    (SG-…) id through its public reference; a cycle id (2026-reward); else an
    application_id from the township (e.g. SQ-130132100-2026-0001)."""

    def resolve(ref: str) -> UUID | None:
        if PUBLIC_REFERENCE.fullmatch(ref):
            assigned: PublicReference | None = store.find(reference_id(ref))
            return assigned.aggregate_id if assigned else None
        if CYCLE_ID.fullmatch(ref):
            return cycle_uuid(ref)
        return parse_uuid(ref) or application_file_id(ref)

    return resolve


def clock(settings: VerificationSettings) -> Callable[[], date]:
    return (lambda: settings.today) if settings.today else (lambda: datetime.now(CHINA_TIME).date())  # type: ignore[return-value]


class WarningSweep:
    """Raises overdue warnings every few minutes (runs beside the relay)."""

    def __init__(self, queries: Queries, today: Callable[[], date], wake: Callable[[], None], every: float) -> None:
        self.queries, self.today, self.wake, self.every = queries, today, wake, every

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if await asyncio.to_thread(self.queries.raise_warnings, self.today()):
                    self.wake()
            except Exception as error:  # noqa: BLE001 - the store may be restarting: try next time
                log.warning("warning_sweep_failed", error=repr(error))
            try:
                await asyncio.wait_for(stop.wait(), self.every)
            except TimeoutError:
                pass


def bootstrap(settings: VerificationSettings) -> Service:
    store = VerificationStore(settings.store_url)
    wiring = wire(NAME, settings, store, make_translate(store))
    protector = open_protector(settings.keystore_url, settings.key_dir) if settings.keystore_url and settings.key_dir else None
    calendar = WorkingCalendar(CalendarOverride.from_file(settings.calendar_override_path or DEFAULT_OVERRIDE))
    applications = Applications(load_policy_table(settings.policy_table_path), calendar, protector)
    subsidy_policy = load_subsidy_policy(settings.subsidy_policy_path)
    subsidies = Subsidies(subsidy_policy, protector)
    handler = integration_event_handler(wiring.store, bind(applications, subsidies), wiring.relay.wake, keys_for_batch(protector))
    consumer = DurableConsumer(INTAKE_CONSUMER, handler, wiring.publisher, wiring.metrics)
    links = integration_event_handler(wiring.store, ENFORCEMENT_ROUTES, wiring.relay.wake)
    link_consumer = DurableConsumer(ENFORCEMENT_CONSUMER, links, wiring.publisher, wiring.metrics)
    closers, probes = ([protector.close], {}) if protector else ([], {})
    if protector:  # the checks read personal data through it: ready only when it answers
        probes["key_store"], close_probe = sql_probe(settings.keystore_url)
        closers.append(close_probe)
    service = finish(wiring, [consumer, link_consumer], make_resolve(wiring.store), document, closers=closers, probes=probes)
    today = clock(settings)
    commands = OfficerCommands(wiring.store, applications, wake=wiring.relay.wake)
    breaches = CountedOnce(settings.store_url, NAME, wiring.metrics.deadline_breaches.labels(NAME, "application").inc)
    service.closers.append(breaches.close)
    application_rows = IndexRows(settings.store_url, APPLICATIONS)
    service.closers.append(application_rows.close)
    queries = Queries(wiring.store, applications, ApplicationIndex(wiring.store, application_rows), breaches)
    install_error_handlers(service.http)
    service.http.include_router(verification_routes(commands, queries, today))
    index_rows = IndexRows(settings.store_url, SUBSIDY)
    service.closers.append(index_rows.close)
    subsidy_index = SubsidyIndex(wiring.store, index_rows)
    service.http.include_router(subsidy_routes(
        wiring.store, BeneficiaryCommands(wiring.store, subsidy_policy, subsidy_index), PaymentCommands(wiring.store, subsidy_index),
        subsidy_index, subsidy_policy, today, wiring.relay.wake))
    service.workers.append(WarningSweep(queries, today, wiring.relay.wake, settings.warning_sweep_seconds))
    return service


def main() -> None:
    name_database_connections(NAME)
    settings = VerificationSettings()
    configure_logging(NAME, settings.log_level)
    run_until_signalled(bootstrap(settings), settings.http_host, settings.http_port)
