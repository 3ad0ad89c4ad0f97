"""Verify a store's log against its hash chain and its signed checkpoints.

Streams the log and the chain side by side in position order (memory stays bounded
whatever the size of the store) and reports every finding with its position:

- an event whose bytes no longer match its link: edited, or moved (reordered);
- a link whose event is gone from the log: deleted;
- an event that the chain skips over, or that no link covers: inserted;
- a checkpoint beyond the end of the log: truncated;
- a checkpoint whose head the recomputed chain does not reach: history rewritten
  (the chain table too) somewhere before that checkpoint;
- a checkpoint whose signature does not verify: forged or altered checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.eventstore.chain import GENESIS, Link, StoredNotification, link
from shared.eventstore.checkpoints import Checkpoint, is_authentic


@dataclass(frozen=True)
class Finding:
    kind: str  # edited | deleted | inserted | truncated | rewritten | forged
    position: int
    message: str


@dataclass
class Report:
    store: str
    events: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_store(
    store: str,
    notifications: Iterable[StoredNotification],
    chain: Iterable[Link],
    checkpoint_list: list[Checkpoint],
    public_key: Ed25519PublicKey,
) -> Report:
    report = Report(store, checkpoints=len(checkpoint_list))
    findings = report.findings
    signed: dict[int, Checkpoint] = {}
    for checkpoint in checkpoint_list:
        if is_authentic(public_key, checkpoint):
            signed[checkpoint.position] = checkpoint
        else:
            findings.append(Finding("forged", checkpoint.position, f"the checkpoint at event {checkpoint.position} has no valid signature"))
    chain_end = max((c.position for c in signed.values()), default=0)

    recomputed, previous_link, last_event, last_good_checkpoint = GENESIS, None, 0, 0
    for kind, position, event, stored in _merge(notifications, chain):
        if kind == "link_only":
            findings.append(Finding("deleted", position, f"event {position} is in the chain but missing from the log"))
            previous_link = stored
            continue
        report.events += 1
        recomputed = link(recomputed, event)
        if kind == "both":
            expected_previous = previous_link.position if previous_link else 0
            if stored.previous_position != expected_previous:
                findings.append(Finding("edited", position, f"the chain link of event {position} was altered (it follows {stored.previous_position}, not {expected_previous})"))
            elif link(previous_link.digest if previous_link else GENESIS, event) != stored.digest:
                findings.append(Finding("edited", position, f"event {position} does not match its chain link: it was edited or reordered"))
            previous_link = stored
        elif stored is not None or position <= chain_end:
            # The chain goes on past this event without covering it. (An event after the
            # last link is only the chain keeper lagging behind, not a finding.)
            findings.append(Finding("inserted", position, f"event {position} was inserted: the chain does not cover it"))
        last_event = position
        checkpoint = signed.get(position)
        if checkpoint is not None:
            if recomputed.hex() != checkpoint.head:
                findings.append(Finding("rewritten", position, f"the log up to event {position} no longer hashes to its signed checkpoint: history was rewritten after event {last_good_checkpoint}"))
            else:
                last_good_checkpoint = position
    for position in sorted(signed):
        if position > last_event:
            findings.append(Finding("truncated", position, f"a signed checkpoint covers event {position} but the log ends at event {last_event}"))
    return report


def _merge(notifications: Iterable[StoredNotification], chain: Iterable[Link]) -> Iterator[tuple[str, int, Any, Any]]:
    """Pairs log events and chain links by position: (kind, position, event, link).
    For an event without a link, `link` is the next link in the chain (or None)."""
    events, links = iter(notifications), iter(chain)
    event, stored = next(events, None), next(links, None)
    while event is not None or stored is not None:
        if stored is None or (event is not None and event.id < stored.position):
            yield "event_only", event.id, event, stored
            event = next(events, None)
        elif event is None or stored.position < event.id:
            yield "link_only", stored.position, None, stored
            stored = next(links, None)
        else:
            yield "both", event.id, event, stored
            event, stored = next(events, None), next(links, None)
