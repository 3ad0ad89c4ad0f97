"""What Prometheus needs to see an outage: the relay's lag grows while the broker is down
(FpbRelayLag), a replica that stops leading stops reporting it, and /readyz's checks
and HTTP errors are exported (FpbDependencyUnreachable, the dashboard's Errors panel)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi.testclient import TestClient

import json

from shared.contracts.integration import OutgoingMessage
from shared.identity.policy import POLICY_FILE, parse_policy
from shared.messaging.relay import OutboxRelay
from shared.observability.http import service_http
from shared.observability.metrics import ServiceMetrics
from tests.identity_support import token_issuer


@dataclass
class Notification:
    id: int


class Store:
    def __init__(self, events: int) -> None:
        self.head = events

    def read_log(self, after: int, limit: int) -> list[Notification]:
        return [Notification(n) for n in range(after + 1, min(self.head, after + limit) + 1)]

    def decode(self, notification: Notification) -> int:
        return notification.id

    def log_head(self) -> int:
        return self.head


class Positions:
    def __init__(self) -> None:
        self.leading, self.position = True, 0
        self.always_leads = False  # as on PostgreSQL: asked each pass

    def lead(self, relay: str) -> bool:
        return self.leading

    def get(self, relay: str) -> int:
        return self.position

    def set(self, relay: str, position: int) -> None:
        self.position = position


class Publisher:
    def __init__(self) -> None:
        self.down = True

    async def publish_all(self, messages) -> None:
        if self.down:
            raise ConnectionError("no servers available for connection")


def lag(metrics: ServiceMetrics) -> float | None:
    return metrics.registry.get_sample_value("fpb_relay_lag_events", {"service": "intake"})


async def run_for(relay: OutboxRelay, seconds: float) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await running


def relay_of(store: Store, positions: Positions, publisher: Publisher, metrics: ServiceMetrics) -> OutboxRelay:
    translate = lambda notification_id, event: [OutgoingMessage(subject=f"fp.intake.x.{event}", body=b"{}", message_id=str(event))]  # noqa: E731
    return OutboxRelay("intake", store, translate, positions, publisher, metrics, idle_seconds=0.01)


def test_the_relay_lag_grows_while_the_broker_is_down_and_falls_once_it_is_back():
    metrics, store, positions, publisher = ServiceMetrics("intake"), Store(events=40), Positions(), Publisher()
    relay = relay_of(store, positions, publisher, metrics)

    async def scenario() -> None:
        await run_for(relay, 0.1)
        assert lag(metrics) == 40, "no PubAck yet, so every stored event is behind"
        store.head = 70  # commands keep saving while the broker is down
        await run_for(relay, 0.1)
        assert lag(metrics) == 70 and positions.position == 0

        publisher.down = False
        await run_for(relay, 0.1)
        assert lag(metrics) == 0 and positions.position == 70

    asyncio.run(scenario())


def test_a_replica_that_stops_leading_stops_reporting_the_lag():
    metrics, positions = ServiceMetrics("intake"), Positions()
    relay = relay_of(Store(events=40), positions, Publisher(), metrics)

    async def scenario() -> None:
        await run_for(relay, 0.1)
        assert lag(metrics) == 40
        positions.leading = False  # another replica took the lock
        await run_for(relay, 0.1)
        assert lag(metrics) is None

    asyncio.run(scenario())


def http_with(checks: dict[str, bool]) -> tuple[TestClient, ServiceMetrics]:
    metrics = ServiceMetrics("intake")

    async def readiness() -> dict[str, bool]:
        return checks

    table = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    table["routes"]["intake"]["GET /boom"] = {"open": True}  # a route of the test's own, open like /healthz
    http = service_http("intake", metrics, readiness, lambda: {}, policy=parse_policy(table), verifier=token_issuer().verifier())

    @http.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    client = TestClient(http, raise_server_exceptions=False)
    client.headers.update(token_issuer().headers("ops", ["operations"]))  # Prometheus scrapes with an operations token
    return client, metrics


def test_each_readiness_check_is_exported_at_every_scrape():
    checks = {"broker": False, "store": True, "consumers": True}
    client, metrics = http_with(checks)
    exported = client.get("/metrics").text
    assert 'fpb_ready{check="broker",service="intake"} 0.0' in exported
    assert 'fpb_ready{check="store",service="intake"} 1.0' in exported
    checks["broker"] = True  # the broker is back: the next scrape says so
    assert 'fpb_ready{check="broker",service="intake"} 1.0' in client.get("/metrics").text


def test_http_answers_are_counted_by_status_class_including_unhandled_errors():
    client, metrics = http_with({"broker": True, "store": True, "consumers": True})
    assert client.get("/healthz").status_code == 200
    assert client.get("/nowhere").status_code == 404
    assert client.get("/boom").status_code == 500
    assert client.get("/metrics", headers={"Authorization": "Bearer junk"}).status_code == 401

    def count(status: str) -> float | None:
        return metrics.registry.get_sample_value("fpb_http_requests_total", {"service": "intake", "status": status})

    assert (count("2xx"), count("4xx"), count("5xx")) == (1, 2, 1), "refusals of the access policy are counted too"
