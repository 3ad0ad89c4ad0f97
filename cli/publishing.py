"""Publish contract messages the way another county system does, and collect receipts.

Each record goes out over the connection of the NATS user that may publish it: the
county system of its subject (county.police.… → police) or the township office
(township.<code>.… → township-<code>), or the one user named with `fpb publish --as`.
Each connection listens only to its own receipts (fp.receipts.<source>), as the broker
allows. Records keep their order: they are published one after another, whichever
connection carries them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import nats

from shared.messaging.credentials import CredentialsError, NatsCredentials, publisher_user, receipts_subject
from shared.messaging.nats_authorization import permissions
from shared.messaging.topology import subject_matches

TOWNSHIP_SUBJECT_HINT = (
    'a township record needs its subject: wrap it as {"subject": "township.<code>.<kind>", "message": {...}} '
    'or use the schema form "township.<code>.<kind>/v1"'
)


class InputError(ValueError):
    pass


@dataclass
class Outgoing:
    subject: str
    record_id: str
    body: bytes


@dataclass
class Published:
    outgoing: Outgoing
    stream: str
    sequence: int
    duplicate: bool
    receipt: dict[str, Any] | None = None


def parse_input(text: str) -> list[Outgoing]:
    """One JSON object, a JSON array, or JSON Lines; each an envelope or {"subject", "message"}."""
    text = text.strip()
    if not text:
        raise InputError("no input: expected a JSON object or JSON Lines")
    try:
        parsed = json.loads(text)
        items = parsed if isinstance(parsed, list) else [parsed]
    except json.JSONDecodeError:
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise InputError(f"line {number}: not JSON ({error.msg})") from None
    return [outgoing_of(item, index) for index, item in enumerate(items, start=1)]


def outgoing_of(item: Any, index: int) -> Outgoing:
    if not isinstance(item, dict):
        raise InputError(f"record {index}: expected a JSON object")
    if "message" in item and "subject" in item:
        subject, message = item["subject"], item["message"]
    else:
        message = item
        subject = subject_from_schema(message.get("schema"), index)
    record_id = message.get("record_id") if isinstance(message, dict) else None
    if not isinstance(record_id, str) or not record_id:
        raise InputError(f"record {index}: record_id is missing (it is also the Nats-Msg-Id)")
    return Outgoing(subject=subject, record_id=record_id, body=json.dumps(message, ensure_ascii=False).encode())


def subject_from_schema(schema: Any, index: int) -> str:
    if not isinstance(schema, str) or "/" not in schema:
        raise InputError(f"record {index}: schema is missing or has no version (e.g. county.police.birth.registered/v1)")
    subject = schema.rsplit("/", 1)[0]
    parts = subject.split(".")
    if parts[0] == "township" and not (len(parts) > 2 and parts[1].isdigit()):
        raise InputError(f"record {index}: {TOWNSHIP_SUBJECT_HINT}")
    return subject


@dataclass
class ReceiptCollector:
    """Listens on fp.receipts.> from before the first publish, so no receipt is missed."""

    wanted: set[str] = field(default_factory=set)
    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    all_published: bool = False  # until then, more receipts may still be wanted

    async def on_message(self, message: Any) -> None:
        try:
            receipt = json.loads(message.data)
        except ValueError:
            return
        record_id = receipt.get("record_id")
        if record_id in self.wanted and record_id not in self.receipts:
            self.receipts[record_id] = receipt
            self.check_complete()

    def check_complete(self) -> None:
        if self.all_published and self.wanted <= self.receipts.keys():
            self.arrived.set()


def publishing_user(subject: str, as_user: str | None) -> str:
    """Whose credentials carry a record: `as_user`, or the publisher of its subject.
    A subject the user may not publish on is refused here, before the broker would."""
    try:
        user = as_user or publisher_user(subject)
    except CredentialsError as error:
        raise InputError(str(error)) from None
    grant = permissions().get(user)
    if grant is None or grant.source is None:
        raise InputError(f"{user!r} is not a publisher; publishers: {', '.join(u for u, g in permissions().items() if g.source)}")
    if not any(subject_matches(allowed, subject) for allowed in grant.publish if not allowed.startswith("$")):
        raise InputError(f"{user} may not publish on {subject} (the broker refuses it)")
    return user


async def publish_records(
    nats_url: str,
    records: Iterable[Outgoing],
    receipt_timeout: float = 15.0,
    credentials: Mapping[str, NatsCredentials] | None = None,
    as_user: str | None = None,
) -> list[Published]:
    """Publish in order and collect the receipts. `credentials` (user -> NatsCredentials,
    e.g. endpoints.json's): each record over its publisher's connection; without, one
    unauthenticated connection (an open broker) that listens to every receipt."""
    records = list(records)
    collector = ReceiptCollector()
    connections: dict[str | None, Any] = {}

    async def connection_for(outgoing: Outgoing) -> Any:
        user = publishing_user(outgoing.subject, as_user) if credentials else None
        if user not in connections:
            if user is not None and user not in credentials:
                raise InputError(f"no NATS credentials for {user!r} (endpoints.json names {', '.join(sorted(credentials))})")
            options = credentials[user].connect_options() if user is not None else {}
            connection = await nats.connect(nats_url.split(","), connect_timeout=5, max_reconnect_attempts=5, **options)
            connections[user] = connection
            # Before the first publish, so no receipt is missed.
            await connection.subscribe(receipts_subject(user) if user is not None else "fp.receipts.>", cb=collector.on_message)
        return connections[user]

    try:
        for outgoing in records:  # every credential problem before anything is published
            if credentials:
                publishing_user(outgoing.subject, as_user)
        published, stored = [], set()
        for outgoing in records:
            js = (await connection_for(outgoing)).jetstream()
            # Wanted before publishing: the receipt can arrive before the PubAck does.
            collector.wanted.add(outgoing.record_id)
            ack = await js.publish(outgoing.subject, outgoing.body, headers={"Nats-Msg-Id": outgoing.record_id}, timeout=10)
            published.append(Published(outgoing, ack.stream, ack.seq, bool(ack.duplicate)))
            if not ack.duplicate:
                stored.add(outgoing.record_id)
            elif outgoing.record_id not in stored:  # dropped by the broker: no new receipt comes
                collector.wanted.discard(outgoing.record_id)
        collector.all_published = True
        collector.check_complete()
        if not collector.arrived.is_set():
            try:
                await asyncio.wait_for(collector.arrived.wait(), receipt_timeout)
            except TimeoutError:
                pass
        for item in published:
            item.receipt = collector.receipts.get(item.outgoing.record_id)
        return published
    finally:
        for connection in connections.values():
            await connection.close()
