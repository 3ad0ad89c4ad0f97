"""Erasing one person's personal data: find their records, hold what the law keeps,
and, once an administrator asked and an auditor approved, shred their key and delete
the plaintext copies the inbox still holds.

Every copy of the person's personal fields is encrypted under their key (intake's store,
the other services' stores, the FP_INTAKE stream, exports, backups), so erasing the key
erases them all; the events stay as they were, and so does every hash chain over them.
COUNTY_INBOX is the one place that holds records as the county systems sent them (in
plaintext, for 7 days): those messages are deleted one by one.

Runs in a worker thread for the store, and awaits the broker for the inbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from services.intake.domain.erasure import STATUS_LABELS, Erasure, PersonRecord, RetentionRules, retention_message
from services.intake.domain.submission import Submission
from shared.calendar import county_day
from shared.eventstore.application import ServiceApplication
from shared.privacy.keystore import KEY_GENERATION_MARK, KeyStore

# Deletes one COUNTY_INBOX message by its stream sequence; False when it was already gone.
DeleteInboxMessage = Callable[[int], Awaitable[bool]]

ACCEPTED_TOPIC = get_topic(Submission.Accepted)
COMPLETED_TOPIC = get_topic(Erasure.Completed)
APPROVED_TOPIC = get_topic(Erasure.Approved)


class ErasureNotFoundError(LookupError):
    pass


class NothingToEraseError(LookupError):
    """No accepted record names the person: nothing is recorded, nothing to erase."""


def is_key_of(key_ref: str, person_ref: str) -> bool:
    """Whether a record's key is the person's: their first key, or one made after an erasure."""
    return key_ref == person_ref or key_ref.startswith(person_ref + KEY_GENERATION_MARK)


class Erasures:
    def __init__(self, store: ServiceApplication, keystore: KeyStore, rules: RetentionRules, delete_inbox_message: DeleteInboxMessage) -> None:
        self._store = store
        self._keys = keystore
        self._rules = rules
        self._delete_inbox_message = delete_inbox_message

    @property
    def rules(self) -> RetentionRules:
        return self._rules

    def records_of(self, subject_ref: str) -> list[PersonRecord]:
        """Every accepted record naming the person, read from intake's log (every record
        about anyone entered there). One pass, a page at a time; only the events whose
        stored bytes hold the keyed hash are decoded."""
        needle = subject_ref.encode()
        found: list[PersonRecord] = []
        for _, accepted in self._decoded([ACCEPTED_TOPIC], keep=lambda notification: needle in notification.state):
            own_key = is_key_of(accepted.data_subject_ref, subject_ref)
            if own_key or subject_ref in accepted.person_refs.values():
                found.append(PersonRecord(accepted.originator_id, accepted.kind, county_day(accepted.occurred_at), accepted.inbox_sequence,
                                          accepted.data_subject_ref if own_key else None))
        return found

    def request(self, subject_ref: str, ground: str, reason: str, requested_by: dict[str, str], now: datetime) -> Erasure:
        """The administrator's request: recorded, and refused at once while a retention runs."""
        records = self.records_of(subject_ref)
        if not records:
            raise NothingToEraseError(subject_ref)
        erasure = Erasure(subject_ref=subject_ref, ground=ground, reason=reason, requested_by=requested_by, requested_at=now.isoformat(),
                          records=[r.described() for r in records])
        held = self._rules.hold(records, county_day(now))
        if held:
            erasure.refuse(held, county_day(now).isoformat())
        self._store.save(erasure)
        return erasure

    def approve(self, erasure_id: UUID, approved_by: dict[str, str], now: datetime) -> Erasure:
        """The auditor's approval; the retention is asked again (days have passed)."""
        erasure = self.get(erasure_id)
        records = self.records_of(erasure.subject_ref)
        erasure.approve(approved_by, now.isoformat(), self._rules.hold(records, county_day(now)))
        self._store.save(erasure)
        return erasure

    def get(self, erasure_id: UUID) -> Erasure:
        erasure = self._store.find(erasure_id)
        if not isinstance(erasure, Erasure):
            raise ErasureNotFoundError(str(erasure_id))
        return erasure

    async def carry_out(self, erasure_id: UUID, now: Callable[[], datetime]) -> Erasure:
        """Shred the key, delete the inbox copies, record what was done. Safe to run again:
        a crash between approval and completion is finished at the next start."""
        erasure = await asyncio.to_thread(self.get, erasure_id)
        if erasure.status != "approved":
            return erasure
        records = await asyncio.to_thread(self.records_of, erasure.subject_ref)
        at = now()
        keys = sorted({erasure.subject_ref} | {r.key_ref for r in records if r.key_ref})
        for key in keys:
            await asyncio.to_thread(self._keys.erase, key, at)
        deleted = 0
        for record in records:
            if record.key_ref:  # a record about someone else keeps its plaintext twin until its own 7 days end
                deleted += bool(await self._delete_inbox_message(record.inbox_sequence))
        erasure.complete(keys, deleted, at.isoformat())
        await asyncio.to_thread(self._store.save, erasure)
        return erasure

    def approvals_since(self, position: int) -> tuple[set[UUID], set[UUID], int]:
        """(approved, completed, the log's position read up to) after `position`: the worker
        reads only what is new each time, never the whole log again."""
        approved: set[UUID] = set()
        completed: set[UUID] = set()
        for notification, decoded in self._decoded([APPROVED_TOPIC, COMPLETED_TOPIC], after=position):
            (completed if isinstance(decoded, Erasure.Completed) else approved).add(decoded.originator_id)
            position = notification.id
        return approved, completed, position

    def shred_again(self) -> int:
        """Erase again every key this store says was erased: a key store restored from a
        backup older than an erasure would otherwise bring the key back. Returns how many
        keys were readable again (0 when nothing was restored)."""
        return sum(self._keys.erase(subject) for subject in self._erased_subjects())

    def _erased_subjects(self) -> set[str]:
        return {ref for _, e in self._decoded([COMPLETED_TOPIC]) for ref in e.keys_erased}

    def _decoded(self, topics: list[str], after: int = 0, keep: Callable[[Any], bool] = lambda _: True) -> Iterator[tuple[Any, Any]]:
        """(notification, event) of these topics after `after`, a page at a time; only the
        notifications `keep` accepts are decoded."""
        while notifications := self._store.recorder.select_notifications(start=after, limit=1000, topics=topics, inclusive_of_start=False):
            after = notifications[-1].id
            yield from ((n, self._store.decode(n)) for n in notifications if keep(n))

    def listing(self, after: int, limit: int) -> dict[str, Any]:
        """Erasure requests in the order made, a page at a time."""
        rows, next_after = [], after
        notifications = self._store.recorder.select_notifications(start=after, limit=limit, topics=[get_topic(Erasure.Requested)], inclusive_of_start=False)
        for notification in notifications:
            next_after = notification.id
            rows.append({"position": notification.id, **describe(self.get(self._store.decode(notification).originator_id))})
        return {"rows": rows, "next_after": next_after if len(notifications) == limit else None}


def describe(erasure: Erasure) -> dict[str, Any]:
    return {
        "erasure_id": str(erasure.id),
        "subject_ref": erasure.subject_ref,
        "status": erasure.status,
        "status_label": STATUS_LABELS[erasure.status],
        "ground": erasure.ground,
        "reason": erasure.reason,
        "requested_by": erasure.requested_by,
        "requested_at": erasure.requested_at,
        "records": erasure.records,
        "held": erasure.held,
        "held_message": retention_message(erasure.held) if erasure.held else None,
        "approved_by": erasure.approved_by,
        "outcome": erasure.outcome,
    }
