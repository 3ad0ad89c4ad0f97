"""Intake's use case: validate an inbound record, then accept or reject it, once.

Runs in a worker thread (the event store is synchronous). Returns what happened; the
entrypoint turns that into acks, metrics and, for duplicates, a receipt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.intake.domain.routing import DutyRegister
from services.intake.domain.submission import RejectedRecord, Submission, submission_id
from shared.contracts.inbound import FieldError, ValidRecord, parse_record, receipt_source
from shared.eventstore.application import ServiceApplication
from shared.messaging.consumer import Delivery
from shared.privacy.keystore import KEY_GENERATION_MARK, KeyErasedError
from shared.privacy.protection import PersonalDataProtector


@dataclass(frozen=True)
class Accepted:
    submission_id: UUID


@dataclass(frozen=True)
class Rejected:
    rejection_id: UUID


@dataclass(frozen=True)
class AlreadyHandled:
    """A redelivery of a message intake has already recorded: nothing to do."""


@dataclass(frozen=True)
class Duplicate:
    """The same record_id published again: the first submission stands."""

    first: Submission


Outcome = Accepted | Rejected | AlreadyHandled | Duplicate


class IntakeUseCase:
    def __init__(self, store: ServiceApplication, protector: PersonalDataProtector, register: DutyRegister) -> None:
        self._store = store
        self._protector = protector
        self._register = register
        self._erased: set[str] | None = None  # subjects whose key was erased, read when first needed

    def record(self, delivery: Delivery) -> Outcome:
        return self.record_many([delivery])[0]

    def record_many(self, deliveries: list[Delivery]) -> list[Outcome]:
        try:
            return self._record_many(deliveries)
        except KeyErasedError:
            # A person's key was erased since this process last asked (by another replica,
            # say): learn the erasures again, and the record gets the person's new key.
            self._erased = None
            return self._record_many(deliveries)

    def _record_many(self, deliveries: list[Delivery]) -> list[Outcome]:
        """Decide every delivery, then save all the new facts in one transaction.

        The first attempt assumes every record is new and looks nothing up (a query per
        record was a tenth of intake's time): a record seen before, or one a concurrent
        intake replica saved first, makes the save fail as a whole, and the second
        attempt looks each one up, so nothing is lost or doubled.
        """
        for attempt in range(2):
            look_up = attempt == 1
            parsed = [parse_record(d.subject, d.body) for d in deliveries]
            refs = [self._person_refs(r) if isinstance(r, ValidRecord) else {} for r in parsed]
            self._protector.prepare(self._subject_ref(r, p) for r, p in zip(parsed, refs, strict=True) if isinstance(r, ValidRecord))
            outcomes: list[Outcome] = []
            new: dict[UUID, Any] = {}
            for delivery, record, person_refs in zip(deliveries, parsed, refs, strict=True):
                if isinstance(record, list):
                    outcome, aggregate = self._reject(delivery, record, new, look_up)
                else:
                    outcome, aggregate = self._accept(delivery, record, person_refs, new, look_up)
                if aggregate is not None:
                    new[aggregate.id] = aggregate
                outcomes.append(outcome)
            try:
                if new:
                    self._store.save(*new.values())
                return outcomes
            except IntegrityError:
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def _person_refs(self, record: ValidRecord) -> dict[str, str]:
        """Keyed hashes of the record's resident IDs, by field (computed once per record)."""
        return {field: self._protector.person_ref(number) for field, number in record.person_ids.items()}

    def _subject_ref(self, record: ValidRecord, person_refs: dict[str, str]) -> str:
        """Whose key encrypts the record: its data subject, else the record itself."""
        person = person_refs.get(record.data_subject_field or "")
        return self._current_key(person) if person else self._protector.subject_ref_for_record(record.source, record.record_id)

    def _current_key(self, person_ref: str) -> str:
        """The person's key now: their first, or after an erasure the next one (~2, ~3…),
        so what was erased stays erased and a new record about them is still kept."""
        if self._erased is None:
            self._erased = self._protector.erased_subjects()
        key, generation = person_ref, 1
        while key in self._erased:
            generation += 1
            key = f"{person_ref}{KEY_GENERATION_MARK}{generation}"
        return key

    def _accept(
        self, delivery: Delivery, record: ValidRecord, person_refs: dict[str, str], new: dict[UUID, Any], look_up: bool
    ) -> tuple[Outcome, Submission | None]:
        sid = submission_id(record.source, record.record_id)
        first = new.get(sid) or (self._store.find(sid) if look_up else None)
        if first is not None:
            return self._repeat(first, delivery), None
        route = self._register.route(record.kind, record.data.get("kind") if record.kind == "township.application.submitted" else None)
        subject_ref = self._subject_ref(record, person_refs)
        submission = Submission(
            source=record.source,
            record_id=record.record_id,
            schema=record.schema,
            kind=record.kind,
            subject=record.subject,
            inbox_sequence=delivery.stream_sequence,
            occurred_at=record.occurred_at.isoformat(),
            received_at=delivery.published_at.isoformat(),
            township_code=record.township_code,
            routing={"section": route.section, "section_en": route.section_en, "duty_no": route.duty_no, "item_no": route.item_no},
            data=self._protector.protect(record.data, record.sensitive_fields, subject_ref),
            person_refs=person_refs,
            data_subject_ref=subject_ref,
        )
        return Accepted(submission.id), submission

    def _repeat(self, first: Submission, delivery: Delivery) -> Outcome:
        if first.inbox_sequence == delivery.stream_sequence:
            return AlreadyHandled()
        return Duplicate(first)

    def _reject(self, delivery: Delivery, errors: list[FieldError], new: dict[UUID, Any], look_up: bool) -> tuple[Outcome, RejectedRecord | None]:
        rejection_id = RejectedRecord.create_id(delivery.stream, delivery.stream_sequence)
        if rejection_id in new or (look_up and self._store.find(rejection_id) is not None):
            return AlreadyHandled(), None  # a redelivery of a message already rejected
        source = receipt_source(delivery.subject, delivery.body)
        rejected = RejectedRecord(
            inbox_stream=delivery.stream,
            inbox_sequence=delivery.stream_sequence,
            subject=delivery.subject,
            source=source,
            record_id=claimed_record_id(delivery.body),
            received_at=delivery.published_at.isoformat(),
            raw=self._protector.encrypt_raw(f"{delivery.stream}:{delivery.stream_sequence}", delivery.body),
            errors=[{"field": e.field, "message": e.message} for e in errors],
        )
        return Rejected(rejected.id), rejected


def claimed_record_id(body: bytes) -> str | None:
    """The record_id a rejected message claims, if it can be read at all."""
    try:
        value = json.loads(body).get("record_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None
