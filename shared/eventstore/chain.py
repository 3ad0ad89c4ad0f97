"""Tamper evidence for an event store: a hash chain over its log.

Each link hashes the stored bytes of one notification (so encrypted personal fields
verify too, and still verify after a person's key is erased) together with the
previous link:

    link(n) = SHA-256(link(previous) ‖ id ‖ originator_id ‖ originator_version ‖ topic ‖ state)

The chain is kept in the store's own database (fpb_hash_chain), one row per event, so
a verifier can say *which* event was edited, deleted, reordered or inserted. A
database administrator could recompute a bare chain after rewriting history; signed
checkpoints held elsewhere (checkpoints.py) expose that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

GENESIS = bytes(32)


class StoredNotification(Protocol):
    id: int
    originator_id: UUID | str
    originator_version: int
    topic: str
    state: bytes


def link(previous: bytes, notification: StoredNotification) -> bytes:
    digest = hashlib.sha256(previous)
    originator = notification.originator_id
    originator_bytes = originator.bytes if isinstance(originator, UUID) else str(originator).encode()
    for part in (
        notification.id.to_bytes(8, "big"),
        originator_bytes,
        notification.originator_version.to_bytes(8, "big", signed=True),
        notification.topic.encode(),
    ):
        digest.update(len(part).to_bytes(4, "big") + part)  # length-prefixed: no ambiguity
    digest.update(notification.state)
    return digest.digest()


@dataclass(frozen=True)
class Link:
    position: int  # notification id
    previous_position: int  # 0 for the first event
    digest: bytes


def extend(head: Link | None, notifications: Iterable[StoredNotification]) -> list[Link]:
    """The links for notifications that follow `head` in the log."""
    links = []
    previous_position, previous_digest = (head.position, head.digest) if head else (0, GENESIS)
    for notification in notifications:
        digest = link(previous_digest, notification)
        links.append(Link(notification.id, previous_position, digest))
        previous_position, previous_digest = notification.id, digest
    return links
