"""Reading personal data is itself an audited fact (who, when, which record, why).

Pure domain: the record of one disclosure. It is saved in the reading service's own
event store, so it is covered by that store's hash chain like every other fact.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from shared.privacy.protection import is_token


class PersonalDataDisclosure(Aggregate):
    """个人信息查阅记录: someone read the personal fields of one aggregate's history."""

    @event("Recorded")
    def __init__(self, reader_id: str, reader_role: str, reason: str, service: str, aggregate_id: str, fields: list[str]) -> None:
        self.reader_id = reader_id
        self.reader_role = reader_role
        self.reason = reason
        self.service = service
        self.aggregate_id = aggregate_id
        self.fields = fields


def encrypted_fields(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every encrypted token inside a history (what a reveal discloses)."""
    if is_token(value):
        return [path]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in encrypted_fields(item, f"{path}.{key}" if path else key)]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in encrypted_fields(item, f"{path}[{index}]")]
    return []
