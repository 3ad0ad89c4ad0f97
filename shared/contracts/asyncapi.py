"""AsyncAPI 3.0 documents generated from the code's own contracts.

Each service lists the channels it receives from and sends to, with the pydantic
model of the payload; the JSON schema comes from that model, so the document cannot
drift from what the code validates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from shared.contracts.integration import IntegrationEnvelope


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


def asyncapi_document(service: str, description: str, receives: list[Channel], sends: list[Channel]) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for action, listed in (("receive", receives), ("send", sends)):
        for channel in listed:
            key = channel.message
            messages[key] = {"name": key, "contentType": "application/json", "payload": _schema(channel, schemas)}
            channels[key] = {
                "address": channel.subject,
                "description": channel.description,
                "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            }
            operations[f"{action}_{key}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"fpb {service}", "version": "1.0.0", "description": description},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }
