"""What each integration event changes in the read models. Pure: no SQL here.

Projections never decide anything: they only count and copy facts, and every value
comes from the event itself (never the clock), so a rebuild from the streams gives
exactly the same rows as the live models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.reporting.domain.sex_ratio import birth_order_group, period_key
from shared.contracts.events.enforcement import CaseOpenedV1, CaseUpdatedV1
from shared.contracts.events.intake import SubmissionAcceptedV1, SubmissionRejectedV1
from shared.contracts.events.verification import ApplicationOpenedV1
from shared.contracts.integration import ReceivedEvent


@dataclass(frozen=True)
class Increment:
    table: str
    key: dict[str, Any]
    column: str
    by: int = 1

    def plain(self) -> PlainChange:
        return ("increment", (self.table, tuple(self.key), self.column), tuple(self.key.values()), self.by)


@dataclass(frozen=True)
class Upsert:
    table: str
    key: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    # Columns (among values) that order a row's states, e.g. ("changed_at", "version"):
    # when given, an existing row changes only if these values are greater than its own,
    # so an older event arriving late never overwrites a newer state.
    newer_by: tuple[str, ...] = ()

    def plain(self) -> PlainChange:
        return ("upsert", (self.table, tuple(self.key), tuple(self.values), self.newer_by), (*self.key.values(), *self.values.values()))


@dataclass(frozen=True)
class Update:
    """Change a row that an earlier event created (no row: nothing to change)."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)

    def plain(self) -> PlainChange:
        return ("update", self.table, self.key, self.values)


Change = Increment | Upsert | Update
# A change as the read-model store applies it: rows come as value tuples under a shape
# that names their columns, so the store groups them by shape and passes them to the
# database's executemany as they are (building a dict per row, then a tuple from it, was
# a third of a rebuild's writing):
#   ("increment", (table, key columns, column), key values, by)
#   ("upsert", (table, key columns, value columns, newer_by), key values + values)
#   ("update", table, key, values)
PlainChange = tuple


# The state an application is in after each step (申请件状态).
APPLICATION_STATUS_AFTER = {
    "verification.application.checked": "checked",
    "verification.application.information_requested": "information_requested",
    "verification.application.information_supplied": "information_supplied",
    "verification.application.approved": "approved",
    "verification.application.refused": "refused",
    "verification.application.published": "published",
    "verification.application.withdrawn": "withdrawn",
    "verification.certificate.issued": "certificate_issued",
    "verification.certificate.revoked": "revoked",
}


def birth_changes(submission: SubmissionAcceptedV1) -> list[Change]:
    """Police birth registrations feed the sex ratio at birth (sex, date, order and
    township are not personal fields: they arrive in clear)."""
    if submission.kind != "police.birth.registered":
        return []
    data = submission.data
    key = {
        "township_code": submission.township_code or "",
        "month": period_key(data["birth_date"]),
        "birth_order": birth_order_group(int(data["birth_order"])),
    }
    return [Increment("rm_births", key, "boys" if data["sex"] == "M" else "girls")]


def changes_for(received: ReceivedEvent) -> list[Change]:
    payload = received.payload
    match payload:
        case SubmissionAcceptedV1():
            key = {"township_code": payload.township_code or "", "source": payload.source, "kind": payload.kind, "section": payload.section}
            # An anonymous tip is still listed (the drill-down adds up to the count), but
            # under its event id: the hotline's record id and the submission id would lead
            # back to the tipster (the hotline knows who called under that record id).
            anonymous = payload.kind == "hotline.tip.received" and bool(payload.data.get("anonymous"))
            record = Upsert(
                "rm_submission_records",
                {"submission_id": f"anonymous:{received.envelope.event_id}" if anonymous else payload.submission_id},
                {"record_id": "" if anonymous else payload.record_id, "source": payload.source, "kind": payload.kind,
                 "township_code": payload.township_code or "", "section": payload.section, "occurred_at": payload.occurred_at.isoformat()},
            )
            return [Increment("rm_submissions", key, "accepted"), record, *birth_changes(payload)]
        case SubmissionRejectedV1():
            return [Increment("rm_rejections", {"source": payload.source}, "rejected")]
        case ApplicationOpenedV1():
            return [
                Upsert(
                    "rm_applications",
                    {"application_id": payload.application_id},
                    {
                        "application_kind": payload.application_kind,
                        "township_code": payload.township_code,
                        "section": payload.section,
                        "status": "submitted",
                        "received_on": payload.received_on,
                        "opened_at": payload.opened_at.isoformat(),
                    },
                )
            ]
        case CaseOpenedV1():
            return [
                Upsert(
                    "rm_cases",
                    {"case_id": payload.case_id},
                    {
                        "case_number": payload.case_number,
                        "origin": payload.origin,
                        "category": payload.category,
                        "township_code": payload.township_code or "",
                        "section": payload.section,
                        "status": "opened",
                        "opened_at": payload.opened_at.isoformat(),
                    },
                )
            ]
        case CaseUpdatedV1():
            return [Update("rm_cases", {"case_id": payload.case_id}, {"status": payload.status})]
    status = APPLICATION_STATUS_AFTER.get(received.envelope.type)
    if status is not None:
        return [Update("rm_applications", {"application_id": payload.application_id}, {"status": status})]
    return []
