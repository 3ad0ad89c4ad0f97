"""AsyncAPI 3.0 documents generated from the code's own contracts.

Each service lists the channels it receives from and sends to, with the pydantic
model of the payload; the JSON schema comes from that model, so the document cannot
drift from what the code validates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.integration import IntegrationEnvelope
from shared.messaging.topology import ConsumerSpec


@dataclass(frozen=True)
class Channel:
    subject: str
    message: str
    payload: type[BaseModel]
    description: str = ""
    # Integration events travel in the IntegrationEnvelope (payload under "payload");
    # inbound records in the contract's envelope (under "data"); receipts bare (None).
    envelope: type[BaseModel] | None = IntegrationEnvelope
    payload_field: str = "payload"


REF_TEMPLATE = "#/components/schemas/{model}"


def _schema(channel: Channel, shared_schemas: dict[str, Any]) -> dict[str, Any]:
    """The message's JSON schema; nested models move to components.schemas, where
    AsyncAPI resolves references (pydantic would put them under a local $defs)."""
    payload = _hoisted(channel.payload.model_json_schema(by_alias=True, ref_template=REF_TEMPLATE), shared_schemas)
    if channel.envelope is None:
        return payload
    envelope = _hoisted(channel.envelope.model_json_schema(by_alias=True, ref_template=REF_TEMPLATE), shared_schemas)
    envelope["properties"][channel.payload_field] = payload
    return envelope


def _hoisted(schema: dict[str, Any], shared_schemas: dict[str, Any]) -> dict[str, Any]:
    shared_schemas.update(schema.pop("$defs", {}))
    return schema


def channel_id(address: str) -> str:
    """A channel's key: its address, with each {parameter} as _parameter_ (AsyncAPI ids
    allow no braces). Keyed by address, not by message: one message type travels on many
    subjects (verification receives intake's accepted records on six)."""
    return _PARAMETER.sub(r"_\1_", address)


_PARAMETER = re.compile(r"\{(\w+)\}")


def asyncapi_document(service: str, description: str, receives: list[Channel], sends: list[Channel]) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for action, listed in (("receive", receives), ("send", sends)):
        for channel in listed:
            key, name = channel_id(channel.subject), channel.message
            message = {"name": name, "contentType": "application/json", "payload": _schema(channel, schemas)}
            if messages.setdefault(name, message) != message:
                raise ValueError(f"{service}: message {name} is declared with two different payloads")
            entry = channels.setdefault(key, {"address": channel.subject, "description": channel.description, "messages": {}})
            if parameters := _PARAMETER.findall(channel.subject):
                entry["parameters"] = {parameter: {"description": f"The {parameter} part of the subject"} for parameter in parameters}
            entry["messages"][name] = {"$ref": f"#/components/messages/{name}"}
            operation = operations.setdefault(f"{action}_{key}", {"action": action, "channel": {"$ref": f"#/channels/{key}"}, "messages": []})
            operation["messages"].append({"$ref": f"#/channels/{key}/messages/{name}"})
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"fpb {service}", "version": "1.0.0", "description": description},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


class DeadLetterV1(BaseModel):
    """What shared/messaging/consumer.py publishes for a message that can never be handled."""

    model_config = ConfigDict(extra="allow")

    service: str
    consumer: str = Field(description="The durable consumer that gave up")
    stream: str
    stream_sequence: int
    subject: str = Field(description="The subject the message arrived on")
    attempts: int
    reason: str = Field(description="Why it can never succeed (e.g. invalid, unknown_version, max_attempts)")
    error: str
    headers: dict[str, str] | None = None
    dead_lettered_at: str = Field(description="ISO 8601, UTC")
    raw_base64: str | None = Field(None, description="The message's bytes (intake: `raw`, encrypted instead)")
    raw: Any = Field(None, description="Intake only: the bytes, encrypted as personal data")


class RejectedRecordV1(BaseModel):
    """What intake publishes for an inbound record that failed validation (services/intake/adapters/outbox.py)."""

    model_config = ConfigDict(extra="allow")

    service: str
    reason: str = Field(description="validation")
    rejection_id: str
    stream: str
    stream_sequence: int
    subject: str
    record_id: str | None
    errors: list[dict[str, Any]]
    raw: Any = Field(description="The record's bytes, encrypted: a rejected record may still hold personal data")


def dead_letters(service: str, consumers: Sequence[ConsumerSpec]) -> list[Channel]:
    """The dead-letter subjects a service sends to: one per durable consumer."""
    return [
        Channel(f"fp.dlq.{service}.{spec.durable}", "dead_letter.v1", DeadLetterV1,
                f"Messages {spec.durable} could never handle, with the reason (DEAD_LETTERS stream)", None)
        for spec in consumers
    ]
