"""The one place that assembles the enforcement service. Nothing connects at import."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from uuid import UUID

import structlog

from services.enforcement.adapters.case_index import CaseIndex
from services.enforcement.adapters.case_rows import CASES
from services.enforcement.adapters.deadline_watch import DeadlineWatch
from services.enforcement.adapters.duty_register import load_duty_items
from services.enforcement.adapters.outbox import case_translator, is_case_topic
from services.enforcement.adapters.reveal import revealer
from services.enforcement.adapters.tip_key import anonymous_tip_key
from services.enforcement.application.case_listing import CaseListing
from services.enforcement.application.commands import CaseCommands
from services.enforcement.application.signals import UNREADABLE
from services.enforcement.entrypoints.asyncapi import document
from services.enforcement.entrypoints.http import add_case_routes
from services.enforcement.entrypoints.routes import PULLED, routes
from services.enforcement.settings import EnforcementSettings
from shared.assembly import finish, sql_probe, wire
from shared.eventstore.application import ServiceApplication
from shared.eventstore.index_rows import IndexRows
from shared.messaging.consumer import DurableConsumer
from shared.messaging.event_handler import integration_event_handler
from shared.observability.http import parse_uuid
from shared.observability.logging import configure_logging
from shared.observability.once import CountedOnce
from shared.privacy.keys import open_protector
from shared.privacy.protection import is_token
from shared.runtime import Service, name_database_connections, run_until_signalled

NAME = "enforcement"
log = structlog.get_logger(NAME)


class EnforcementStore(ServiceApplication):
    name = "enforcement"


def now() -> datetime:
    return datetime.now(timezone.utc)


def bootstrap(settings: EnforcementSettings, clock: Callable[[], datetime] = now) -> Service:
    store = EnforcementStore(settings.store_url)
    index = CaseIndex(store)
    case_rows = IndexRows(settings.store_url, CASES)
    listing = CaseListing(store, case_rows)

    def resolve(ref: str) -> UUID | None:
        """A case's UUID or its case number (ZF-2026-1A2B3C4D)."""
        return parse_uuid(ref) or listing.by_number(ref)

    translate = case_translator(store)
    wiring = wire(NAME, settings, store, translate, relays_topic=is_case_topic)
    probes = {}
    if settings.keystore_url and settings.key_dir:
        protector = open_protector(settings.keystore_url, settings.key_dir)
        probes["key_store"], close_probe = sql_probe(settings.keystore_url)  # the detectors read through it
        reveal, closers = revealer(protector), [protector.close, close_probe]
    else:
        log.warning("no_key_store", effect="detectors needing gestation weeks or medical indications see them as unreadable")
        reveal, closers = (lambda value, purpose, cause: UNREADABLE if is_token(value) else value), []
    rules = settings.deadline_rules()
    tip_key = anonymous_tip_key(settings.anonymous_tip_key_file, settings.key_dir)
    handler = integration_event_handler(store, routes(settings.detection(reveal), rules, tip_key), wiring.relay.wake)
    # One handler for every consumer: the routing table picks the decision by subject.
    consumers = [DurableConsumer(spec, handler, wiring.publisher, wiring.metrics) for spec in PULLED]
    service = finish(wiring, consumers, resolve, document, closers=closers, probes=probes)
    breaches = CountedOnce(settings.store_url, NAME, wiring.metrics.deadline_breaches.labels(NAME, "case").inc)
    service.closers += [breaches.close, case_rows.close]
    commands = CaseCommands(store, rules, wiring.relay.wake, breaches)
    add_case_routes(service.http, store, index, listing, commands, rules, settings.officer_sections, clock, load_duty_items(settings.duty_register_path))
    service.workers.append(DeadlineWatch(commands, index, clock, settings.deadline_check_seconds))
    return service


def main() -> None:
    name_database_connections(NAME)
    settings = EnforcementSettings()
    configure_logging(NAME, settings.log_level)
    run_until_signalled(bootstrap(settings), settings.http_host, settings.http_port)
