"""A verification service in memory for unit tests: applications arrive the way intake
announces them (encrypted details, person_refs), officers act over HTTP, "today" is set
by the test."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.verification.bootstrap import VerificationStore
from services.verification.adapters.outbox import make_translate
from services.verification.adapters.policy_file import load_policy_table
from services.verification.application.applications import Applications
from services.verification.application.commands import OfficerCommands
from services.verification.adapters.index_rows import APPLICATIONS
from shared.eventstore.index_rows import IndexRows
from services.verification.application.queries import ApplicationIndex, Queries
from services.verification.domain.application_file import (
    ApplicationFile,
    application_file_id,
)
from services.verification.entrypoints.http import (
    install_error_handlers,
    verification_routes,
)
from services.verification.entrypoints.routes import CASE_OPENED, ENFORCEMENT_ROUTES, LIFE_EVENT_ROUTES, bind
from shared.calendar import WorkingCalendar
from shared.contracts.events.enforcement import CASE_OPENED as CASE_OPENED_TYPE
from shared.contracts.events.enforcement import CASE_UPDATED as CASE_UPDATED_TYPE
from shared.contracts.events.enforcement import CaseOpenedV1, CaseUpdatedV1, case_change_subject
from shared.contracts.identity import make_resident_id
from shared.contracts.integration import make_event, read_event
from tests.identity_support import ActingOfficers, token_issuer

SUBMITTED = "township.application.submitted"


def resident(birth: str, sex: str, n: int = 1) -> str:
    return make_resident_id("130132", date.fromisoformat(birth), 2 * n + (1 if sex == "M" else 0))


WIFE, HUSBAND = resident("1992-06-25", "F"), resident("1990-02-02", "M")
OFFICERS = {
    "clerk": {"id": "fg-wang", "section": "法规科"},
    "chief": {"id": "fg-li", "section": "法规科"},
    "county_clerk": {"id": "xz-zhao", "section": "县直科"},
    "county_chief": {"id": "xz-sun", "section": "县直科"},
    "brigade": {"id": "zf-ma", "section": "执法大队"},
}
# Their accounts in the user directory: what their tokens say.
DIRECTORY = {
    "fg-wang": (["section_staff"], ["法规科"]),
    "fg-li": (["section_head"], ["法规科"]),
    "xz-zhao": (["section_staff"], ["县直科"]),
    "xz-sun": (["section_head"], ["县直科"]),
    "zf-ma": (["enforcement_officer"], ["执法大队"]),
    "ts-130132102-zhou": (["section_head"], ["法规科"]),  # filed an application, and (for one test) heads 法规科 too
    # the demo driver's officers (cli/demo/applications_driver.py)
    "FG-01": (["section_staff"], ["法规科"]), "FG-02": (["section_head"], ["法规科"]), "FG-04": (["section_staff"], ["法规科"]),
    "XZ-01": (["section_staff"], ["县直科"]), "XZ-02": (["section_head"], ["县直科"]), "XZ-04": (["section_staff"], ["县直科"]),
    "ZF-03": (["enforcement_officer"], ["执法大队"]),
    # who reads lists and runs the clock's sweep when a test names nobody
    "fg-reader": (["section_head", "section_staff"], ["法规科", "县直科"]),
}


def details_for(kind: str) -> dict[str, Any]:
    """Complete, valid details of each kind (every rule passes)."""
    return {
        "rebirth_approval": {
            "existing_children": [
                {"name": "王子涵", "sex": "F", "birth_date": "2016-05-01", "id_number": resident("2016-05-01", "F", 5), "status": "disabled"},
                {"name": "王浩宇", "sex": "M", "birth_date": "2019-08-01", "id_number": resident("2019-08-01", "M", 6), "status": "healthy"},
            ],
            "reason": "第一个子女经市级病残儿医学鉴定为非遗传性残疾，不能成长为正常劳动力",
            "documents": ["病残儿医学鉴定证明"],
            "submitted_by": {"id": "ts-130132102-zhou"},
        },
        "first_child_registration": {
            "marriage_registered_on": "2025-05-20", "expected_due_date": "2026-08-01", "household_type": "urban",
            "documents": ["结婚证", "户口簿"],
        },
        "only_child_honor_certificate": {
            "child": {"name": "王一诺", "sex": "F", "birth_date": "2020-01-15", "id_number": resident("2020-01-15", "F", 7)},
            "household_type": "urban", "commitment": "夫妻双方自愿终身只生育一个子女", "documents": ["户口簿", "出生医学证明"],
        },
        "exam_bonus_qualification": {
            "student_name": "王梓豪", "student_id_number": resident("2008-03-03", "M", 8), "exam": "gaokao",
            "household_type": "rural", "form": "河北省农村独生子女审定表",
        },
    }[kind]


class World:
    def __init__(self, announced, delivery, inbound_sample, protector, today: date = date(2026, 3, 10)) -> None:
        self.announced, self.delivery, self.inbound_sample = announced, delivery, inbound_sample
        self.store = VerificationStore("memory://")
        self.applications = Applications(load_policy_table(), WorkingCalendar(), protector)
        self.today = today
        codes = (f"CODE{n:04d}" for n in itertools.count(1))
        self.commands = OfficerCommands(self.store, self.applications, new_code=lambda: next(codes))
        self.queries = Queries(self.store, self.applications, ApplicationIndex(self.store, IndexRows(None, APPLICATIONS)))
        self.routes = {**bind(self.applications), **LIFE_EVENT_ROUTES, **ENFORCEMENT_ROUTES}
        self.translate = make_translate(self.store)
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(verification_routes(self.commands, self.queries, lambda: self.today))
        self.http = TestClient(token_issuer().guard(app, "verification"))
        self.http.auth = self.officers = ActingOfficers(token_issuer(), DIRECTORY, default="fg-reader")
        self.seq = itertools.count(1)

    def submit(self, kind: str, application_id: str = "APP-130132102-2026-0057", *, details: dict[str, Any] | None = None,
               applicant: str = WIFE, spouse: str | None = HUSBAND, received_on: str = "2026-03-06",
               occurred_at: str = "2026-03-09T09:30:00+08:00", record_id: str | None = None,
               arrived_at: str | None = None) -> ApplicationFile | None:
        """The township publishes an application; intake accepts it; verification decides.
        `arrived_at`: when the county's broker stored it (default: when the township says it sent it)."""
        _, message = self.inbound_sample(SUBMITTED)
        seq = next(self.seq)
        message["record_id"] = record_id or f"JSB-{application_id}-{seq}"
        message["occurred_at"] = occurred_at
        message["data"] = {"application_id": application_id, "kind": kind, "applicant_id_number": applicant,
                           "spouse_id_number": spouse, "received_on": received_on,
                           "details": details if details is not None else details_for(kind)}
        return self.deliver(SUBMITTED, message, seq, application_id, arrived_at=datetime.fromisoformat(arrived_at or occurred_at))

    def rate(self, application_id: str, score: int, record_id: str = "OH-1") -> None:
        _, message = self.inbound_sample("online_hall.satisfaction.rated")
        message["record_id"] = record_id
        message["data"] = {"application_id": application_id, "score": score, "comment": "办理很快"}
        self.deliver("online_hall.satisfaction.rated", message, next(self.seq), application_id)

    def deliver(self, sample_kind: str, message: dict[str, Any], seq: int, application_id: str,
                arrived_at: datetime | None = None) -> ApplicationFile | None:
        inbound = self.delivery(sample_kind, seq=seq, body_override=message)
        if arrived_at is not None:
            inbound = dataclasses.replace(inbound, published_at=arrived_at)
        messages = self.announced(inbound)
        [accepted] = [m for m in messages if m.subject.startswith("fp.intake.accepted.")]
        self.hear(accepted)
        return self.file(application_id)

    def hear(self, message: Any) -> None:
        """Verification handles one integration event as its consumer does: routed by subject, saved once."""
        received = read_event(message.body)
        self.store.save_once(received.envelope.event_id, message.subject, *self.routes[message.subject](received, self.store.find))

    def death(self, id_number: str, died_on: str) -> None:
        """The health bureau reports a death (卫健局); verification records it."""
        _, message = self.inbound_sample("health.death.reported")
        message["record_id"] = f"HB-DR-{id_number[-6:]}"
        message["data"] = {"id_number": id_number, "died_on": died_on}
        self.deliver("health.death.reported", message, next(self.seq), "")

    def open_case(self, case_number: str = "ZF-2026-0000ABCD") -> str:
        """Enforcement announces a case it opened (case.opened); verification hears of it."""
        case_id = f"case-{case_number}"
        opened = CaseOpenedV1(case_id=case_id, case_number=case_number, origin="officer", category="falsification", township_code="130132102",
                              anonymous=False, section="执法大队", submission_id=None, opened_at=datetime.fromisoformat("2026-03-10T09:00:00+08:00"))
        message = make_event(event_type=CASE_OPENED_TYPE, event_id=f"enforcement-{next(self.seq)}", producer="enforcement", aggregate_id=case_id,
                             aggregate_version=1, occurred_at=opened.opened_at, correlation_id=case_id, causation_id=case_id,
                             payload=opened, subject=CASE_OPENED)
        self.hear(message)
        return case_number

    def case_changes(self, case_number: str, *changes: tuple[str, str, dict[str, Any]]) -> str:
        """Enforcement announces later changes of the case, each (change, status, details)."""
        case_id = f"case-{case_number}"
        for change, status, details in changes:
            updated = CaseUpdatedV1(case_id=case_id, case_number=case_number, change=change, status=status, category="certificate_service",
                                    section="执法大队", township_code="130132102", priority="normal", assigned_to="ZF-011", due_on=None,
                                    officer="zf-ma", details=details, occurred_at=datetime.fromisoformat("2026-03-10T10:00:00+08:00"))
            subject = case_change_subject(change)
            message = make_event(event_type=CASE_UPDATED_TYPE, event_id=f"enforcement-{next(self.seq)}", producer="enforcement", aggregate_id=case_id,
                                 aggregate_version=2, occurred_at=updated.occurred_at, correlation_id=case_id, causation_id=case_id,
                                 payload=updated, subject=subject)
            self.hear(message)
        return case_number

    def conclude_case(self, case_number: str, substantiated: bool = True) -> str:
        """Enforcement concludes the case (case.concluded carries whether it was substantiated)."""
        return self.case_changes(case_number, ("concluded", "concluded", {"substantiated": substantiated, "concluded_on": "2026-03-10"}))

    def proven_case(self, case_number: str = "ZF-2026-0000ABCD") -> str:
        """A case enforcement opened and concluded as substantiated: what a revocation needs."""
        return self.conclude_case(self.open_case(case_number))

    def file(self, application_id: str) -> ApplicationFile | None:
        return self.store.find(application_file_id(application_id))

    def post(self, application_id: str, step: str, officer: str, **body: Any):
        return self.http.post(f"/applications/{application_id}/{step}", json={"officer": OFFICERS[officer], **body})

    def finding(self, application_id: str, rule: str) -> dict[str, str]:
        [found] = [f for f in self.file(application_id).findings if f["rule"] == rule]
        return found

    def announcements(self) -> list[Any]:
        out = []
        for notification in self.store.read_log(0, 1000):
            out.extend(self.translate(notification.id, self.store.decode(notification)))
        return out
