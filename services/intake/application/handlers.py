"""Intake's use case: validate an inbound record, then accept or reject it, once.

Runs in a worker thread (the event store is synchronous). Returns what happened; the
entrypoint turns that into acks, metrics and, for duplicates, a receipt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.intake.domain.routing import DutyRegister
from services.intake.domain.submission import RejectedRecord, Submission, submission_id
from shared.contracts.inbound import FieldError, ValidRecord, parse_record, receipt_source
from shared.eventstore.application import ServiceApplication
from shared.messaging.consumer import Delivery
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

    def record(self, delivery: Delivery) -> Outcome:
        parsed = parse_record(delivery.subject, delivery.body)
        if isinstance(parsed, list):
            return self._reject(delivery, parsed)
        return self._accept(delivery, parsed)

    def _accept(self, delivery: Delivery, record: ValidRecord) -> Outcome:
        existing = self._store.find(submission_id(record.source, record.record_id))
        if existing is not None:
            return self._repeat(existing, delivery)
        route = self._register.route(record.kind, record.data.get("kind") if record.kind == "township.application.submitted" else None)
        person_refs = {field: self._protector.person_ref(number) for field, number in record.person_ids.items()}
        subject_ref = person_refs.get(record.data_subject_field or "") or self._protector.subject_ref_for_record(record.source, record.record_id)
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
        try:
            self._store.save(submission)
        except IntegrityError:  # another intake replica accepted it a moment ago
            first = self._store.find(submission.id)
            if first is None:
                raise
            return self._repeat(first, delivery)
        return Accepted(submission.id)

    def _repeat(self, first: Submission, delivery: Delivery) -> Outcome:
        if first.inbox_sequence == delivery.stream_sequence:
            return AlreadyHandled()
        return Duplicate(first)

    def _reject(self, delivery: Delivery, errors: list[FieldError]) -> Outcome:
        source = receipt_source(delivery.subject, delivery.body)
        raw = self._protector.encrypt_raw(f"{delivery.stream}:{delivery.stream_sequence}", delivery.body)
        rejected = RejectedRecord(
            inbox_stream=delivery.stream,
            inbox_sequence=delivery.stream_sequence,
            subject=delivery.subject,
            source=source,
            record_id=claimed_record_id(delivery.body),
            received_at=delivery.published_at.isoformat(),
            raw=raw,
            errors=[{"field": e.field, "message": e.message} for e in errors],
        )
        try:
            self._store.save(rejected)
        except IntegrityError:
            return AlreadyHandled()
        return Rejected(rejected.id)


def claimed_record_id(body: bytes) -> str | None:
    """The record_id a rejected message claims, if it can be read at all."""
    try:
        value = json.loads(body).get("record_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None
