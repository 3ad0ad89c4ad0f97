"""The counters the critical alerts read really move: a statutory deadline breached
(fpb_deadline_breaches_total, alert FpbDeadlineBreached), once per breach, for
verification's applications and enforcement's cases; and a finding of a store's own
audit verification (fpb_audit_verification_failures_total, FpbAuditVerificationFailed)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from applications_support import World
from eventsourcing.domain import Aggregate, event
from sqlalchemy import create_engine, text

from shared.assembly import wire
from shared.eventstore.application import ServiceApplication
from shared.observability.metrics import ServiceMetrics
from shared.observability.once import CountedOnce
from shared.settings import ServiceSettings


def breaches(metrics: ServiceMetrics, kind: str) -> float:
    return metrics.registry.get_sample_value("fpb_deadline_breaches_total", {"service": metrics.service, "kind": kind}) or 0.0


# --- verification: 受理时限 ------------------------------------------------------------

@pytest.fixture
def world(announced, delivery, inbound_sample, protector) -> World:
    return World(announced, delivery, inbound_sample, protector)


def counting(world: World, store_url: str) -> ServiceMetrics:
    """Wire the world's queries as verification's bootstrap does, on a store of its own."""
    metrics = ServiceMetrics("verification")
    world.queries.on_breached = CountedOnce(store_url, "verification", metrics.deadline_breaches.labels("verification", "application").inc)
    return metrics


def sweep(world: World, as_of: str) -> list[str]:
    return world.http.post("/applications/warnings", params={"as_of": as_of}).json()["warned"]


def test_an_application_past_its_time_limit_is_counted_as_a_breach_once(world, tmp_path):
    metrics = counting(world, f"sqlite:///{tmp_path / 'verification.db'}")
    world.submit("first_child_registration", "APP-FC", occurred_at="2026-03-09T09:00:00+08:00")  # 5 working days: due 03-16

    assert sweep(world, "2026-03-12") == ["APP-FC"]  # nearing: warned, not breached
    assert breaches(metrics, "application") == 0
    assert sweep(world, "2026-03-17") == []  # breached: no second warning, but counted
    assert breaches(metrics, "application") == 1
    sweep(world, "2026-03-18")
    sweep(world, "2026-03-30")
    assert breaches(metrics, "application") == 1, "every later sweep sees the same breach"


def test_a_breach_is_counted_by_one_replica_and_not_again_after_a_restart(world, tmp_path):
    url = f"sqlite:///{tmp_path / 'verification.db'}"
    first = counting(world, url)
    world.submit("first_child_registration", "APP-FC", occurred_at="2026-03-09T09:00:00+08:00")
    sweep(world, "2026-03-17")
    second = counting(world, url)  # another replica, or this one restarted: a fresh counter
    sweep(world, "2026-03-18")
    assert (breaches(first, "application"), breaches(second, "application")) == (1, 0)


def test_verification_counts_application_breaches_in_its_own_metrics(tmp_path):
    from services.verification.bootstrap import bootstrap
    from services.verification.settings import VerificationSettings

    service = bootstrap(VerificationSettings(nats_url="nats://127.0.0.1:1", store_url=f"sqlite:///{tmp_path / 'verification.db'}"))
    try:
        [sweeper] = [w for w in service.workers if hasattr(w, "queries")]
        sweeper.queries.on_breached("APP-1@2026-03-16")
        sweeper.queries.on_breached("APP-1@2026-03-16")
        assert breaches(service.metrics, "application") == 1
        assert 'fpb_deadline_breaches_total{kind="application",service="verification"} 1.0' in service.metrics.exposition().decode()
    finally:
        for close in service.closers:
            close()


# --- enforcement: 信访/复议 answer dates ----------------------------------------------

def test_enforcement_counts_each_breached_case_deadline_once_whichever_path_raises_it(tmp_path, announced, delivery):
    from fastapi.testclient import TestClient

    from services.enforcement.adapters.deadline_watch import DeadlineWatch
    from services.enforcement.application.cases import petition_decider
    from services.enforcement.bootstrap import bootstrap
    from services.enforcement.settings import EnforcementSettings
    from shared.contracts.integration import read_event

    from tests.identity_support import token_issuer

    settings = EnforcementSettings(nats_url="nats://127.0.0.1:1", store_url=f"sqlite:///{tmp_path / 'enforcement.db'}", **token_issuer().settings)
    service = bootstrap(settings)
    try:
        [watch] = [w for w in service.workers if isinstance(w, DeadlineWatch)]
        [message] = [m for m in announced(delivery("petitions.petition.received")) if m.subject.startswith("fp.intake.accepted.")]
        store = watch._commands._store  # the service's own store: the petition arrives as the consumer would save it
        [case] = petition_decider(settings.deadline_rules())(read_event(message.body), store.find)
        store.save(case)
        past_due = (date.fromisoformat(case.deadline["due_on"]) + timedelta(days=2)).isoformat()
        http = TestClient(service.http, headers=token_issuer().headers("ops", ["operations"]))

        raised = http.post("/deadlines/check", params={"as_of": past_due}).json()["raised"]  # an officer's check, over HTTP
        watch.check_once()  # and the worker's sweep after it
        http.post("/deadlines/check", params={"as_of": past_due})

        assert [r["alert"] for r in raised] == ["nearing", "breached"]
        assert breaches(service.metrics, "case") == 1
        again = bootstrap(settings)  # a restarted (or second) replica on the same store
        try:
            assert breaches(again.metrics, "case") == 0
        finally:
            for close in again.closers:
                close()
    finally:
        for close in service.closers:
            close()


# --- the store's own audit verification ----------------------------------------------

class Ledger(Aggregate):
    @event("Opened")
    def __init__(self, number: int) -> None:
        self.number = number


class AuditedStore(ServiceApplication):
    name = "audited"


def test_a_finding_of_the_stores_own_audit_increments_the_audit_failure_counter(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'audited.db'}"
    store = AuditedStore(url)
    for n in range(3):
        store.save(Ledger(number=n))
    wiring = wire("audited", ServiceSettings(store_url=url), store, lambda notification_id, event: ())
    try:
        assert wiring.chain_keeper.extend_once() == 3
        with create_engine(url).begin() as conn:  # what a database administrator could do
            conn.execute(text("UPDATE stored_events SET state = :forged WHERE rowid = 2"), {"forged": b'{"number":99}'})

        async def one_round() -> None:
            stop = asyncio.Event()
            running = asyncio.create_task(wiring.chain_keeper.run(stop))
            await asyncio.sleep(0.3)
            stop.set()
            await running

        asyncio.run(one_round())
        failures = wiring.metrics.registry.get_sample_value("fpb_audit_verification_failures_total", {"service": "audited"})
        assert failures and failures >= 1
    finally:
        wiring.positions.close()
        wiring.chain.close()
        store.close()
