"""Officers' commands on cases: load, decide (the Case's rules), save; retried when a
concurrent writer saved the same case first. Synchronous: call through asyncio.to_thread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.enforcement.domain.case import AGENCIES, CATEGORIES, Case, case_id_for, case_number
from services.enforcement.domain.deadlines import DeadlineRules, deadline_for, deadline_standing
from services.enforcement.domain.errors import CaseRuleError
from services.enforcement.domain.redaction import disclosed_fields
from services.enforcement.domain.views import answered
from shared.calendar import county_day
from shared.eventstore.application import ServiceApplication
from shared.ids import stable_id

RETRIES = 5


class CaseNotFoundError(LookupError):
    pass


class CaseCommands:
    def __init__(
        self, store: ServiceApplication, rules: DeadlineRules, wake_relay: Callable[[], None], on_breached: Callable[[str], None] = lambda fact: None
    ) -> None:
        self._store, self._rules, self._wake = store, rules, wake_relay
        # Told of each breach raised, with a key naming it (case and due day): the bootstrap
        # counts each key once in fpb_deadline_breaches_total, whichever path or replica raised it.
        self._on_breached = on_breached

    def apply(self, case_id: UUID, command: Callable[[Case], Any]) -> Case:
        """Run one command on the current case and save what it decided."""
        for _ in range(RETRIES):
            case = self._store.find(case_id)
            if not isinstance(case, Case):
                raise CaseNotFoundError(str(case_id))
            command(case)
            try:
                self._store.save(case)
            except IntegrityError:
                continue  # someone saved this case meanwhile: decide again on the new state
            self._wake()
            return case
        raise CaseRuleError("version", f"the case kept changing; gave up after {RETRIES} attempts")

    def open_by_hand(self, reference: str, category: str, township_code: str | None, summary: str, section: str, received_on: date, officer: str) -> Case:
        """An officer registers a case (e.g. an administrative review application); the
        officer's register reference makes it idempotent."""
        if category not in CATEGORIES:
            raise CaseRuleError("category", f"unknown category {category!r}; one of {', '.join(CATEGORIES)}")
        if not summary.strip():
            raise CaseRuleError("summary", "must not be empty")
        case_id = case_id_for("officer", reference)
        existing = self._store.find(case_id)
        if existing is not None:
            return existing
        case = Case(
            id=case_id, origin="officer", source_ref=reference, case_number=case_number(received_on.year, case_id),
            category=category, township_code=township_code, anonymous=False, channel=None, section=section,
            record_id=None, summary=summary.strip(), deadline=deadline_for(category, received_on, self._rules), opened_by=officer,
        )
        try:
            self._store.save(case)
        except IntegrityError:
            return self._store.find(case_id)  # the same reference was registered concurrently
        self._wake()
        return case

    @staticmethod
    def request_joint_operation_on(case: Case, agency: str, purpose: str, officer: str) -> None:
        """Share the case with an agency: exactly the fields its role allows."""
        operation_id = str(stable_id("joint-operation", str(case.id), str(len(case.joint_operations))))
        fields = disclosed_fields(agency) if agency in AGENCIES else []
        case.request_joint_operation(operation_id, agency, purpose, fields, officer)

    def check_deadlines(self, case_ids: list[UUID], as_of: datetime) -> list[dict[str, str]]:
        """Raise a case's "nearing" or "breached" alert, once each, as of a moment."""
        day = county_day(as_of)
        raised = []
        for case_id in case_ids:
            case = self._store.find(case_id)
            if not isinstance(case, Case) or not case.deadline:
                continue
            standing = deadline_standing(case.deadline, answered(case), day, self._rules)
            alerts = {"nearing": ["nearing"], "breached": ["nearing", "breached"]}.get(standing or "", [])
            new = [a for a in alerts if a not in case.deadline_alerts]
            if not new:
                continue
            self.apply(case_id, lambda c, new=new: [c.raise_deadline_alert(a, day.isoformat()) for a in new])
            raised += [{"case_id": str(case_id), "case_number": case.case_number, "alert": a} for a in new]
            if "breached" in new:
                self._on_breached(f"case:{case_id}@{case.deadline['due_on']}")
        return raised
