"""Prometheus metrics every service exports on GET /metrics.

Each service gets its own registry so that tests can run several services in one
process without label clashes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_TOWNSHIP_TOKEN = re.compile(r"\.\d{9}\.")


@lru_cache(maxsize=4096)  # a regex substitution on every message otherwise; subjects repeat
def message_type(subject: str) -> str:
    """A bounded label: township codes in subjects collapse to '*'."""
    return _TOWNSHIP_TOKEN.sub(".*.", subject)


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self._children: dict[tuple, Any] = {}
        self.messages_in = Counter(
            "fpb_messages_in", "Messages consumed, by type and outcome (ok, duplicate, retry, dead_letter)",
            ["service", "type", "outcome"], registry=self.registry,
        )
        self.messages_out = Counter(
            "fpb_messages_out", "Messages published with a PubAck, by type (duplicate=true when the broker had it already)",
            ["service", "type", "duplicate"], registry=self.registry,
        )
        self.handling_seconds = Histogram(
            "fpb_handling_seconds", "Time to handle one consumed message",
            ["service", "type"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.consumer_lag = Gauge(
            "fpb_consumer_lag_messages", "Messages waiting for a durable consumer (num_pending + ack pending)",
            ["service", "consumer"], registry=self.registry,
        )
        self.relay_lag = Gauge(
            "fpb_relay_lag_events", "Events in the store's log not yet published by the outbox relay",
            ["service"], registry=self.registry,
        )
        self.ready = Gauge(
            "fpb_ready", "1 while a readiness check of /readyz passes (broker, store, consumers), else 0; set at every scrape",
            ["service", "check"], registry=self.registry,
        )
        self.http_requests = Counter(
            "fpb_http_requests", "HTTP requests answered, by status class (2xx, 4xx, 5xx)",
            ["service", "status"], registry=self.registry,
        )
        self.dead_letters = Counter(
            "fpb_dead_letters", "Messages sent to the dead-letter stream, by consumer and reason",
            ["service", "consumer", "reason"], registry=self.registry,
        )

        self.deadline_breaches = Counter(
            "fpb_deadline_breaches", "Statutory deadlines breached (受理时限/答复期限), by kind of matter",
            ["service", "kind"], registry=self.registry,
        )
        self.audit_verification_failures = Counter(
            "fpb_audit_verification_failures", "Findings of the store's own periodic hash-chain verification (edited, deleted… events)",
            ["service"], registry=self.registry,
        )

    def labelled(self, metric: Counter | Gauge | Histogram, *values: str) -> Any:
        """`metric.labels(service, *values)`, remembered: prometheus-client checks and
        converts the labels and takes a lock on every call (a few µs, on every message
        consumed and published). The labels are bounded, so is this."""
        key = (metric, values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.service, *values)
        return child

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
