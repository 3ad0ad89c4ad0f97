"""Small, hand-checkable sets of integration events for the league tables, cases summary,
scorecard and publications, built with make_event exactly as the services announce them,
and projected through reporting's Projector (the live path)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.projector import Projector
from shared.contracts.events.enforcement import CASE_OPENED, CASE_UPDATED, CaseOpenedV1, CaseUpdatedV1
from shared.contracts.events.intake import SubmissionAcceptedV1
from shared.contracts.events.verification import STEP_EVENTS, STEP_TYPES
from shared.contracts.integration import REGISTRY, OutgoingMessage, make_event
from shared.messaging.consumer import Delivery

T1, T2, T3 = "130132100", "130132203", "130132206"  # 槐阳镇, 黑水坊乡, 北褚乡
S1, S2 = "法规科", "流动人口科"
NOON = datetime(2025, 1, 1, 4, tzinfo=timezone.utc)

STEP_FIELDS: dict[str, dict[str, Any]] = {
    "checked": {"policy_version": "HB-2016", "findings": [], "blocking": False},
    "information_requested": {"items": ["婚姻登记证明"]},
    "information_supplied": {"documents": ["婚姻登记证明"]},
    "approved": {"policy_version": "HB-2016", "rules": ["C-1"]},
    "refused": {"policy_version": "HB-2016", "reasons": [{"rule": "RB-2", "message": "不符合再生育条件"}]},
    "withdrawn": {"reason": None},
    "satisfaction_attached": {},
}
STEP_TYPE_NAMES = {name.rsplit(".", 1)[1]: name for name in STEP_EVENTS}


class Timeline:
    """Integration events in the order the services publish them."""

    def __init__(self) -> None:
        self.messages: list[OutgoingMessage] = []
        self.versions: Counter[str] = Counter()

    def _add(self, event_type: Any, aggregate_id: str, payload: Any, subject: str) -> None:
        self.versions[aggregate_id] += 1
        self.messages.append(make_event(
            event_type=event_type, event_id=f"{event_type.name}-{len(self.messages) + 1}", producer=event_type.name.split(".")[0],
            aggregate_id=aggregate_id, aggregate_version=self.versions[aggregate_id], occurred_at=NOON,
            correlation_id=aggregate_id, causation_id=aggregate_id, payload=payload, subject=subject,
        ))

    def step(self, application_id: str, step: str, on: str, township: str, section: str, **fields: Any) -> Timeline:
        name = STEP_TYPE_NAMES[step]
        subject, model = STEP_EVENTS[name]
        payload = model(application_id=application_id, application_kind="rebirth_approval", township_code=township, section=section,
                        on=on, officer_id="FG-001", officer_section=section, **{**STEP_FIELDS[step], **fields})
        self._add(STEP_TYPES[name], application_id, payload, subject)
        return self

    def application(self, application_id: str, township: str, section: str, *steps: tuple[Any, ...]) -> Timeline:
        """steps: ("checked", day, limit) | (step, day)."""
        for step in steps:
            extra = {"time_limit_working_days": step[2]} if step[0] == "checked" else {}
            self.step(application_id, step[0], step[1], township, section, **extra)
        return self

    def rating(self, application_id: str, township: str, section: str, on: str, score: int) -> Timeline:
        return self.step(application_id, "satisfaction_attached", on, township, section, score=score,
                         submission_id=f"rating-{len(self.messages) + 1}")

    def case(self, case_id: str, category: str, township: str | None, opened_at: str, *updates: dict[str, Any]) -> Timeline:
        opened = CaseOpenedV1(case_id=case_id, case_number=f"ZF-2025-{case_id[-8:].upper()}", origin="officer", category=category,
                              township_code=township, anonymous=False, section="执法大队", submission_id=None,
                              opened_at=datetime.fromisoformat(opened_at))
        self._add(CASE_OPENED, case_id, opened, "fp.enforcement.case.opened")
        for update in updates:
            payload = CaseUpdatedV1(case_id=case_id, case_number=opened.case_number, category=category, section="执法大队",
                                    township_code=township, priority="normal", assigned_to=None, officer=None,
                                    due_on=update.get("due_on"), change=update["change"], status=update["status"],
                                    details=update.get("details", {}), occurred_at=NOON)
            self._add(CASE_UPDATED, case_id, payload, f"fp.enforcement.case.{update['change']}")
        return self

    def births(self, township: str, birth_date: str, sex: str, count: int) -> Timeline:
        for _ in range(count):
            n = len(self.messages) + 1
            payload = SubmissionAcceptedV1(
                submission_id=f"birth-{n}", record_id=f"PSB-{n}", source="police", schema="county.police.birth.registered/v1",
                kind="police.birth.registered", township_code=township, section="人口调查科", section_en="Population Survey Section",
                duty_no=1, item_no=1, occurred_at=NOON, received_at=NOON,
                data={"sex": sex, "birth_date": birth_date, "birth_order": 1, "township_code": township},
                person_refs={}, data_subject_ref="none",
            )
            self._add(REGISTRY["intake.submission.accepted"], f"birth-{n}", payload, "fp.intake.accepted.police.birth.registered")
        return self


async def project(read_models: ReadModelStore, messages: list[OutgoingMessage], first_sequence: int = 1) -> None:
    deliveries = [
        Delivery(subject=m.subject, body=m.body, headers={"Nats-Msg-Id": m.message_id}, stream="FP_TEST",
                 stream_sequence=first_sequence + i, num_delivered=1, published_at=NOON)
        for i, m in enumerate(messages)
    ]
    await Projector(read_models).handle_many(deliveries)


def march_2025() -> Timeline:
    """Applications and ratings around March 2025 (no public holiday in March: Mon-Fri)."""
    t = Timeline()
    t.application("A1", T1, S1, ("checked", "2025-03-03", 10), ("approved", "2025-03-10"))  # 5 working days
    t.application("A2", T1, S1, ("checked", "2025-03-03", 10), ("information_requested", "2025-03-05"),
                  ("information_supplied", "2025-03-12"), ("checked", "2025-03-12", 10), ("approved", "2025-03-19"))  # 12 - 5 paused = 7
    t.application("A3", T1, S2, ("checked", "2025-03-03", 5), ("refused", "2025-03-14"))  # 9 > 5: late
    t.application("A4", T2, S2, ("checked", "2025-03-10", 10), ("approved", "2025-03-24"))  # 10: just within
    t.application("A5", T2, S1, ("checked", "2025-02-24", 10), ("approved", "2025-03-11"))  # 4 in Feb + 7 = 11: late
    t.application("A6", T2, S1, ("checked", "2025-03-03", 10))  # open: 20 on 31 March, overdue
    t.application("A7", T3, S2, ("checked", "2025-03-25", 10))  # open: 4, not overdue
    t.application("A8", T3, S1, ("checked", "2025-03-03", 10), ("information_requested", "2025-03-04"))  # paused since: 1
    t.application("A9", T1, S1, ("checked", "2025-02-17", 10), ("approved", "2025-02-28"))  # decided in February: 9
    t.application("A10", T3, S2, ("checked", "2025-03-03", 10), ("withdrawn", "2025-03-05"))  # withdrawn: neither
    t.application("A11", T2, S2, ("checked", "2025-03-03", 10), ("approved", "2025-04-02"))  # open on 31 March at 20: overdue
    t.rating("A1", T1, S1, "2025-03-11", 5).rating("A2", T1, S1, "2025-03-20", 4).rating("A3", T1, S2, "2025-03-17", 2)
    t.rating("A4", T2, S2, "2025-03-25", 5).rating("A5", T2, S1, "2025-03-12", 3)
    t.rating("A9", T1, S1, "2025-02-28", 4).rating("A4", T2, S2, "2025-04-01", 1)  # outside March
    return t


def cases_2025(t: Timeline) -> Timeline:
    """Cases as they stand on 30 June 2025."""
    t.case("c0000001", "two_illegals", T1, "2025-06-19T16:30:00+00:00",  # 20 June in China
           {"change": "assigned", "status": "investigating"})
    t.case("c0000002", "two_illegals", T2, "2025-03-01T02:00:00+00:00",
           {"change": "concluded", "status": "concluded", "details": {"substantiated": True, "concluded_on": "2025-05-10"}})
    t.case("c0000003", "petition", T1, "2025-04-15T02:00:00+00:00",
           {"change": "assigned", "status": "assigned", "due_on": "2025-07-10"},
           {"change": "deadline_nearing", "status": "assigned", "due_on": "2025-07-10", "details": {"alert": "nearing", "as_of": "2025-06-27"}})
    t.case("c0000004", "petition", T3, "2025-02-01T02:00:00+00:00",
           {"change": "deadline_nearing", "status": "investigating", "due_on": "2025-04-30", "details": {"alert": "nearing", "as_of": "2025-04-23"}},
           {"change": "deadline_breached", "status": "investigating", "due_on": "2025-04-30", "details": {"alert": "breached", "as_of": "2025-05-06"}})
    t.case("c0000005", "administrative_review", T1, "2025-05-31T02:00:00+00:00",
           {"change": "triaged", "status": "triaged", "due_on": "2025-08-25"})
    t.case("c0000006", "other", None, "2025-06-30T01:00:00+00:00")
    t.case("c0000007", "petition", T2, "2025-01-10T02:00:00+00:00",
           {"change": "concluded", "status": "concluded", "due_on": "2025-04-08", "details": {"substantiated": False, "concluded_on": "2025-03-20"}},
           {"change": "closed", "status": "closed", "due_on": "2025-04-08"})
    t.case("c0000008", "two_illegals", T1, "2025-02-10T02:00:00+00:00",
           {"change": "concluded", "status": "concluded", "details": {"substantiated": True, "concluded_on": "2025-04-01"}},
           {"change": "reopened", "status": "reopened"})
    return t
