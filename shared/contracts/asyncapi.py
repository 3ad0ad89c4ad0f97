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


def _schema(channel: Channel) -> dict[str, Any]:
    payload = channel.payload.model_json_schema(by_alias=True)
    if channel.envelope is None:
        return payload
    envelope = channel.envelope.model_json_schema(by_alias=True)
    envelope["properties"][channel.payload_field] = payload
    return envelope


def asyncapi_document(service: str, description: str, receives: list[Channel], sends: list[Channel]) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for action, listed in (("receive", receives), ("send", sends)):
        for channel in listed:
            key = channel.message
            messages[key] = {"name": key, "contentType": "application/json", "payload": _schema(channel)}
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
        "components": {"messages": messages},
    }
