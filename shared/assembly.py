"""The pieces every event-sourced service is wired from, so each bootstrap() only
says what is particular to its service."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.eventstore.application import ServiceApplication
from shared.eventstore.chain_store import ChainKeeper, ChainTable
from shared.messaging.consumer import DurableConsumer
from shared.messaging.publisher import Publisher
from shared.messaging.relay import OutboxRelay, RelayPositions, Translator
from shared.observability.http import Resolver, service_http
from shared.observability.metrics import ServiceMetrics
from shared.runtime import Service, make_broker, readiness_of
from shared.settings import ServiceSettings


@dataclass
class Wiring:
    name: str
    store: ServiceApplication
    metrics: ServiceMetrics
    publisher: Publisher
    relay: OutboxRelay
    positions: RelayPositions
    chain: ChainTable
    chain_keeper: ChainKeeper
    broker: Any


def wire(name: str, settings: ServiceSettings, store: ServiceApplication, translate: Translator) -> Wiring:
    metrics = ServiceMetrics(name)
    broker = make_broker(settings.nats_url, name)
    publisher = Publisher(broker, metrics)
    positions = RelayPositions(settings.store_url)
    relay = OutboxRelay(name, store, translate, positions, publisher, metrics)
    chain = ChainTable(settings.store_url, name)
    failures = metrics.audit_verification_failures.labels(name)
    keeper = ChainKeeper(store, chain, settings.audit_key_file, settings.checkpoint_dir, on_findings=failures.inc)
    return Wiring(name, store, metrics, publisher, relay, positions, chain, keeper, broker)


def finish(
    wiring: Wiring,
    consumers: Sequence[DurableConsumer],
    resolve: Resolver,
    asyncapi: Callable[[], dict[str, Any]],
    closers: Sequence[Callable[[], None]] = (),
) -> Service:
    http = service_http(wiring.name, wiring.metrics, readiness_of(wiring.broker, wiring.store.log_head, consumers), asyncapi, wiring.store, resolve)
    return Service(
        name=wiring.name,
        broker=wiring.broker,
        metrics=wiring.metrics,
        http=http,
        consumers=list(consumers),
        workers=[wiring.relay, wiring.chain_keeper],
        closers=[wiring.positions.close, wiring.chain.close, *closers, wiring.store.close],
    )
