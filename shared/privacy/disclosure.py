"""Reading personal data is itself an audited fact (who, when, which record, why, whose).

Pure domain: the record of one disclosure. It is saved in the reading service's own
event store, so it is covered by that store's hash chain like every other fact.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from shared.privacy.protection import is_token, tokens_in


class PersonalDataDisclosure(Aggregate):
    """个人信息查阅记录: someone read the personal fields of one aggregate's history.

    `subjects`: the data subjects (subject refs, a person's person_ref) whose personal
    data was disclosed, so an auditor can list the readings of one person. Disclosures
    recorded before it existed were stored without it and load with none."""

    @event("Recorded")
    def __init__(self, reader_id: str, reader_role: str, reason: str, service: str, aggregate_id: str, fields: list[str],
                 subjects: list[str] | None = None) -> None:
        self.reader_id = reader_id
        self.reader_role = reader_role
        self.reason = reason
        self.service = service
        self.aggregate_id = aggregate_id
        self.fields = fields
        self.subjects = list(subjects or [])


def encrypted_fields(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every encrypted token inside a history (what a reveal discloses)."""
    if is_token(value):
        return [path]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in encrypted_fields(item, f"{path}.{key}" if path else key)]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in encrypted_fields(item, f"{path}[{index}]")]
    return []


def data_subjects(value: Any) -> list[str]:
    """Whose personal data a reveal discloses, sorted, each once: the data subject every
    encrypted token names, and every person a `person_refs` map inside the history names
    (a record is encrypted under one person's key, but a birth shows the father's ID
    number too: he is disclosed as well)."""
    subjects = {token["subject"] for token in tokens_in(value) if isinstance(token.get("subject"), str)}
    return sorted(subjects | set(_person_refs_in(value)))


def _person_refs_in(value: Any) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "person_refs" and isinstance(item, dict):
                yield from (ref for ref in item.values() if isinstance(ref, str))
            else:
                yield from _person_refs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _person_refs_in(item)


def subjects_of(recorded: Any) -> list[str]:
    """The subjects of a stored Recorded event; none for one stored before they were recorded."""
    return list(getattr(recorded, "subjects", None) or [])
