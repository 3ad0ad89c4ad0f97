"""An application file (申请件): one township application the county must decide.

Pure domain. This issue proves the mechanics: an application is opened from an
accepted submission, and a repeat of the same application is noted, never duplicated.
Later issues add checks, decisions, clocks and certificates.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.ids import stable_id

APPLICATION_KINDS = {
    "rebirth_approval": "再生育审批",
    "first_child_registration": "第一个子女生育登记卡",
    "only_child_honor_certificate": "独生子女父母光荣证",
    "exam_bonus_qualification": "农村独生子女中高考加分资格",
}


def application_file_id(application_id: str) -> UUID:
    return stable_id("application", application_id)


class ApplicationFile(Aggregate):
    @staticmethod
    def create_id(application_id: str, **_: Any) -> UUID:
        return application_file_id(application_id)

    @event("Opened")
    def __init__(
        self,
        application_id: str,
        application_kind: str,
        township_code: str,
        section: str,
        submission_id: str,
        record_id: str,
        received_on: str,
        applicant_ref: str,
        spouse_ref: str | None,
        details: Any,
    ) -> None:
        self.application_id = application_id
        self.application_kind = application_kind
        self.township_code = township_code
        self.section = section
        self.submission_ids = [submission_id]
        self.record_id = record_id  # the inbound record that opened it (correlation id)
        self.received_on = received_on
        self.applicant_ref = applicant_ref
        self.spouse_ref = spouse_ref
        self.details = details
        self.status = "submitted"

    @event("ResubmissionNoted")
    def note_resubmission(self, submission_id: str) -> None:
        """The township sent the same application again under another record."""
        self.submission_ids = [*self.submission_ids, submission_id]
