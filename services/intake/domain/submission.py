"""Intake's aggregates: an accepted submission, and a rejected record.

Pure: no I/O. Ids, times and the routing decision are inputs.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.ids import stable_id


class Submission(Aggregate):
    """One accepted inbound record (提交). Its id derives from (source, record_id), so
    the same record published again can never become a second submission."""

    @staticmethod
    def create_id(source: str, record_id: str, **_: Any) -> UUID:
        return submission_id(source, record_id)

    @event("Accepted")
    def __init__(
        self,
        source: str,
        record_id: str,
        schema: str,
        kind: str,
        subject: str,
        inbox_sequence: int,
        occurred_at: str,
        received_at: str,
        township_code: str | None,
        routing: dict[str, Any],
        data: dict[str, Any],
        person_refs: dict[str, str],
        data_subject_ref: str,
    ) -> None:
        self.source = source
        self.record_id = record_id
        self.schema = schema
        self.kind = kind
        self.subject = subject
        self.inbox_sequence = inbox_sequence
        self.occurred_at = occurred_at
        self.received_at = received_at
        self.township_code = township_code
        self.routing = routing
        self.data = data
        self.person_refs = person_refs
        self.data_subject_ref = data_subject_ref


def submission_id(source: str, record_id: str) -> UUID:
    return stable_id("submission", source, record_id)


class RejectedRecord(Aggregate):
    """An inbound record that failed validation, kept with its raw bytes (encrypted,
    they may hold personal data) and every reason. Keyed by its place in the inbox, so
    a redelivery of the same message is recognised."""

    @staticmethod
    def create_id(inbox_stream: str, inbox_sequence: int, **_: Any) -> UUID:
        return stable_id("rejected-record", inbox_stream, str(inbox_sequence))

    @event("Rejected")
    def __init__(
        self,
        inbox_stream: str,
        inbox_sequence: int,
        subject: str,
        source: str,
        record_id: str | None,
        received_at: str,
        raw: dict[str, Any],
        errors: list[dict[str, str]],
    ) -> None:
        self.inbox_stream = inbox_stream
        self.inbox_sequence = inbox_sequence
        self.subject = subject
        self.source = source
        self.record_id = record_id
        self.received_at = received_at
        self.raw = raw
        self.errors = errors
