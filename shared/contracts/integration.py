"""Integration events: the only messages services exchange (DESIGN.md).

Every integration event travels in the same envelope; its `payload` is described by a
versioned pydantic model registered below. Consumers call `read_event`, which
validates the envelope, upcasts older payload versions to the current one, and
validates the payload, so a handler only ever sees the latest version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model


class IntegrationEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(description="Unique and stable: also the Nats-Msg-Id")
    type: str = Field(description="e.g. intake.submission.accepted")
    version: int = Field(ge=1)
    producer: str
    aggregate_id: str
    aggregate_version: int
    occurred_at: datetime = Field(description="When the fact happened in the producing service")
    correlation_id: str = Field(description="The inbound record that started the chain")
    causation_id: str = Field(description="The message that caused this event")
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutgoingMessage:
    """Something to publish with a PubAck and a de-duplication id."""

    subject: str
    body: bytes
    message_id: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EventType:
    name: str
    current_version: int
    model: type[BaseModel]
    upcasters: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)

    def upcast(self, version: int, payload: dict[str, Any]) -> dict[str, Any]:
        if version > self.current_version:
            raise UnknownEventError(f"{self.name} v{version} is newer than this service understands (v{self.current_version})")
        while version < self.current_version:
            payload = self.upcasters[version](payload)
            version += 1
        return payload


class UnknownEventError(ValueError):
    pass


REGISTRY: dict[str, EventType] = {}


def register(event_type: EventType) -> EventType:
    REGISTRY[event_type.name] = event_type
    return event_type


def make_event(
    *,
    event_type: EventType,
    event_id: str,
    producer: str,
    aggregate_id: str,
    aggregate_version: int,
    occurred_at: datetime,
    correlation_id: str,
    causation_id: str,
    payload: BaseModel,
    subject: str,
) -> OutgoingMessage:
    envelope = IntegrationEnvelope(
        event_id=event_id,
        type=event_type.name,
        version=event_type.current_version,
        producer=producer,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        causation_id=causation_id,
        payload=payload.model_dump(mode="json", by_alias=True),
    )
    return OutgoingMessage(
        subject=subject,
        body=envelope.model_dump_json().encode(),
        message_id=event_id,
        headers=trace_headers(correlation_id, event_id),
    )


def announce(domain_event: Any, **fields: Any) -> OutgoingMessage:
    """make_event for a stored domain event: the aggregate, its version and the time
    come from the event itself (what every outbox translator needs)."""
    return make_event(
        aggregate_id=str(domain_event.originator_id),
        aggregate_version=domain_event.originator_version,
        occurred_at=domain_event.timestamp,
        **fields,
    )


def trace_headers(correlation_id: str, causation_id: str) -> dict[str, str]:
    return {"Fp-Correlation-Id": correlation_id, "Fp-Causation-Id": causation_id}


class ReceivedEvent(NamedTuple):  # a tuple: built for every message, three times cheaper than a dataclass
    envelope: IntegrationEnvelope
    payload: BaseModel


# The envelope's "type", read without parsing the message: it picks the typed envelope.
_TYPE_FIELD = re.compile(rb'"type"\s*:\s*"([^"\\]+)"')


@lru_cache(maxsize=None)
def _typed_envelope(model: type[BaseModel]) -> type[IntegrationEnvelope]:
    """The envelope with this payload model in place of a dict."""
    return create_model(f"{model.__name__}Envelope", __base__=IntegrationEnvelope, payload=(model, ...))


def read_event(body: bytes) -> ReceivedEvent:
    """The event in `body`, its payload at the current version.

    Fast path: an event at its type's current version is validated in one pass from the
    JSON, envelope and payload together, instead of the envelope first and then its
    payload again from Python objects (9 → 6 µs a message, on every consumer and in every
    rebuild). Anything else — an older version to upcast, a message the typed envelope
    refuses — takes the general path, which upcasts or names the problem."""
    found = _TYPE_FIELD.search(body)
    event_type = REGISTRY.get(found.group(1).decode()) if found else None
    if event_type is not None:
        try:
            # pydantic-core's validator itself: model_validate_json around it cost a
            # twentieth of a rebuild's projection.
            typed = _typed_envelope(event_type.model).__pydantic_validator__.validate_json(body)
        except ValidationError:
            typed = None
        if typed is not None and typed.type == event_type.name and typed.version == event_type.current_version:
            return ReceivedEvent(typed, typed.payload)
    envelope = IntegrationEnvelope.model_validate_json(body)
    event_type = REGISTRY.get(envelope.type)
    if event_type is None:
        raise UnknownEventError(f"unknown integration event type {envelope.type!r}")
    payload = event_type.upcast(envelope.version, envelope.payload)
    return ReceivedEvent(envelope=envelope, payload=event_type.model.model_validate(payload))


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()
