"""The pieces every event-sourced service is wired from, so each bootstrap() only
says what is particular to its service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, text

from shared.eventstore.application import ServiceApplication
from shared.eventstore.backend import sqlalchemy_url
from shared.eventstore.chain_store import ChainKeeper, ChainTable
from shared.identity.policy import Policy
from shared.identity.setup import access_policy, token_verifier
from shared.identity.tokens import TokenVerifier
from shared.messaging.consumer import DurableConsumer
from shared.messaging.credentials import credentials_from_settings
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
    policy: Policy
    verifier: TokenVerifier | None


def wire(name: str, settings: ServiceSettings, store: ServiceApplication, translate: Translator, relays_topic: Callable[[str], bool] | None = None) -> Wiring:
    metrics = ServiceMetrics(name)
    broker = make_broker(settings.nats_url, name, credentials_from_settings(name, settings.nats_nkey_seed_file, settings.nats_creds_file))
    publisher = Publisher(broker, metrics)
    positions = RelayPositions(settings.store_url)
    relay = OutboxRelay(name, store, translate, positions, publisher, metrics, relays_topic=relays_topic)
    chain = ChainTable(settings.store_url, name)
    failures = metrics.audit_verification_failures.labels(name)
    keeper = ChainKeeper(store, chain, settings.audit_key_file, settings.checkpoint_dir, on_findings=failures.inc)
    return Wiring(name, store, metrics, publisher, relay, positions, chain, keeper, broker, access_policy(settings), token_verifier(settings))


def sql_probe(url: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """(probe, close): the probe raises unless the database at `url` answers a query.
    Its own small engine, so a probe never waits behind the service's own work."""
    options = {"connect_args": {"connect_timeout": 2}} if url.startswith("postgres") else {}
    engine = create_engine(sqlalchemy_url(url), pool_size=1, pool_pre_ping=True, **options)

    def probe() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return probe, engine.dispose


def readiness_with(
    base: Callable[[], Awaitable[dict[str, bool]]], probes: Mapping[str, Callable[[], object]]
) -> Callable[[], Awaitable[dict[str, bool]]]:
    """The base checks plus one check per extra probe (ready when it returns)."""

    async def answers(probe: Callable[[], object]) -> bool:
        try:
            await asyncio.wait_for(asyncio.to_thread(probe), 2.0)
            return True
        except Exception:  # noqa: BLE001 - unreachable, or too slow to count as reachable
            return False

    async def check() -> dict[str, bool]:
        checks = await base()
        for name, probe in probes.items():
            checks[name] = await answers(probe)
        return checks

    return check


def finish(
    wiring: Wiring,
    consumers: Sequence[DurableConsumer],
    resolve: Resolver,
    asyncapi: Callable[[], dict[str, Any]],
    closers: Sequence[Callable[[], None]] = (),
    probes: Mapping[str, Callable[[], object]] | None = None,
) -> Service:
    """`probes`: what else the service needs to be ready (e.g. intake's key store)."""
    readiness = readiness_with(readiness_of(wiring.broker, wiring.store.log_head, consumers), probes or {})

    async def unreachable() -> bool:
        """Is the broker, the store or another dependency down? (A missing durable consumer is not an outage.)"""
        return not all(ok for check, ok in (await readiness()).items() if check != "consumers")

    for consumer in consumers:
        consumer.unreachable = unreachable
    http = service_http(wiring.name, wiring.metrics, readiness, asyncapi, wiring.store, resolve, policy=wiring.policy, verifier=wiring.verifier)
    return Service(
        name=wiring.name,
        broker=wiring.broker,
        metrics=wiring.metrics,
        http=http,
        consumers=list(consumers),
        workers=[wiring.relay, wiring.chain_keeper],
        closers=[wiring.positions.close, wiring.chain.close, *closers, wiring.store.close],
    )
