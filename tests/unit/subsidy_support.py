"""Reward and special assistance in memory for unit tests: facts arrive the way intake
announces them (encrypted reason, person_refs), officers act over HTTP, "today" is set
by the test."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.verification.bootstrap import VerificationStore
from services.verification.adapters.outbox import make_translate
from services.verification.adapters.subsidy_policy_file import load_subsidy_policy
from services.verification.application.payment_commands import PaymentCommands
from services.verification.application.subsidies import Subsidies
from services.verification.application.subsidy_commands import BeneficiaryCommands
from services.verification.adapters.index_rows import SUBSIDY
from shared.eventstore.index_rows import IndexRows
from services.verification.application.subsidy_queries import SubsidyIndex
from services.verification.application.subsidy_unit import Unit
from services.verification.domain.subsidy.beneficiary import Beneficiary, beneficiary_uuid
from services.verification.entrypoints.http import install_error_handlers
from services.verification.entrypoints.routes import ENFORCEMENT_ROUTES, LIFE_EVENT_ROUTES, SUBSIDY_ROUTES
from services.verification.entrypoints.subsidy_http import subsidy_routes
from shared.contracts.identity import make_resident_id
from shared.contracts.integration import ReceivedEvent, read_event
from tests.identity_support import ActingOfficers, token_issuer

OFFICERS = {
    "assist": {"id": "fz-liu", "section": "扶助中心"},
    "assist_chief": {"id": "fz-zhang", "section": "扶助中心"},
    "assist_deputy": {"id": "fz-zhao", "section": "扶助中心"},
    "finance": {"id": "cw-wu", "section": "财务科"},
    "brigade": {"id": "zf-ma", "section": "执法大队"},
    "clerk": {"id": "fg-wang", "section": "法规科"},
}
# Their accounts in the user directory: what their tokens say.
DIRECTORY = {
    "fz-liu": (["section_staff"], ["扶助中心"]),
    "fz-zhang": (["section_head"], ["扶助中心"]),
    "fz-zhao": (["section_head"], ["扶助中心"]),
    "cw-wu": (["section_staff"], ["财务科"]),
    "zf-ma": (["enforcement_officer"], ["执法大队"]),
    "fg-wang": (["section_staff"], ["法规科"]),
    "fz-reader": (["section_staff"], ["扶助中心"]),  # who reads lists when a test names nobody
}
TOWNSHIP, OTHER_TOWNSHIP = "130132204", "130132200"
RURAL_ONLY_CHILD = {"type": "only_child", "household_type": "rural"}
CHILD_DIED = {"type": "only_child_died", "child_died_on": "2018-07-22", "living_children": 0}


def resident(birth: str, n: int = 1) -> str:
    return make_resident_id("130132", date.fromisoformat(birth), n)


class SubsidyWorld:
    def __init__(self, announced, delivery, protector, today: date = date(2026, 6, 30)) -> None:
        self.announced, self.delivery, self.protector, self.today = announced, delivery, protector, today
        self.store = VerificationStore("memory://")
        self.policy = load_subsidy_policy()
        self.index = SubsidyIndex(self.store, IndexRows(None, SUBSIDY))
        subsidies = Subsidies(self.policy, protector)
        self.routes = {**{subject: getattr(subsidies, name) for subject, name in SUBSIDY_ROUTES.items()}, **LIFE_EVENT_ROUTES, **ENFORCEMENT_ROUTES}
        self.translate = make_translate(self.store)
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(subsidy_routes(self.store, BeneficiaryCommands(self.store, self.policy, self.index),
                                          PaymentCommands(self.store, self.index), self.index, self.policy, lambda: self.today, lambda: None))
        self.http = TestClient(token_issuer().guard(app, "verification"))
        self.http.auth = self.officers = ActingOfficers(token_issuer(), DIRECTORY, default="fz-reader")
        self.seq = itertools.count(1)

    # --- facts, as the county's systems publish them ----------------------------------------

    def report(self, id_number: str, program: str = "reward", year: int = 2026, township: str = TOWNSHIP,
               reason: dict[str, Any] | None = None, record_id: str | None = None, occurred_at: str = "2026-03-02T10:00:00+08:00") -> Beneficiary:
        birth = f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
        data = {"program": program, "id_number": id_number, "name": "张桂兰", "birth_date": birth, "year": year,
                "reason": reason if reason is not None else (RURAL_ONLY_CHILD if program == "reward" else CHILD_DIED)}
        subject = f"township.{township}.beneficiary.reported"
        self.deliver("township.beneficiary.reported", subject, data, record_id, occurred_at)
        return self.person(id_number)

    def death(self, id_number: str, died_on: str, occurred_at: str = "2026-06-10T08:30:00+08:00") -> None:
        self.deliver("health.death.reported", "county.health.death.reported", {"id_number": id_number, "died_on": died_on}, None, occurred_at)

    def pension(self, id_number: str, status: str, effective_on: str, occurred_at: str = "2026-06-10T09:00:00+08:00") -> None:
        self.deliver("pension.status.changed", "county.pension.status.changed",
                     {"id_number": id_number, "status": status, "effective_on": effective_on}, None, occurred_at)

    def followup(self, payment_id: str, amount_confirmed: str, township: str = TOWNSHIP, record_id: str | None = None) -> None:
        data = {"payment_id": payment_id, "method": "visit", "amount_confirmed": amount_confirmed, "visited_on": "2026-06-20",
                "notes": "本人确认收到扶助金"}
        self.deliver("township.followup.recorded", f"township.{township}.followup.recorded", data, record_id, "2026-06-20T16:00:00+08:00")

    def deliver(self, kind: str, subject: str, data: dict[str, Any], record_id: str | None, occurred_at: str) -> None:
        seq = next(self.seq)
        county = not kind.startswith("township.")
        message = {"record_id": record_id or f"REC-{seq:05d}", "schema": f"{'county.' if county else ''}{kind}/v1",
                   "source": kind.split(".")[0], "occurred_at": occurred_at, "data": data}
        inbound = self.delivery(kind, seq=seq, body_override=message)
        inbound = type(inbound)(**{**inbound.__dict__, "subject": subject})
        messages = self.announced(inbound)
        accepted = [m for m in messages if m.subject.startswith("fp.intake.accepted.")]
        if not accepted:  # a record intake has seen before adds nothing; anything else is a broken test record
            assert not messages, [m.body for m in messages]
            return
        self.handle(accepted[0].subject, read_event(accepted[0].body))

    def handle(self, subject: str, received: ReceivedEvent) -> None:
        aggregates = self.routes[subject](received, self.store.find)
        self.store.save_once(received.envelope.event_id, subject, *aggregates)

    # --- what verification holds and says ----------------------------------------------------

    def person(self, id_number: str) -> Beneficiary:
        return self.store.find(beneficiary_uuid(self.protector.person_ref(id_number)))

    def find(self, reference: str) -> Any:
        return Unit(self.store.find).by_reference(reference)

    def post(self, path: str, officer: str, **body: Any) -> Any:
        return self.http.post(path, json={"officer": OFFICERS[officer], **body})

    def announcements(self, type_prefix: str = "") -> list[dict[str, Any]]:
        out = []
        for notification in self.store.read_log(0, 100_000):
            for message in self.translate(notification.id, self.store.decode(notification)):
                envelope = read_event(message.body).envelope
                if envelope.type.startswith(type_prefix):
                    out.append({"subject": message.subject, **envelope.model_dump(mode="json")})
        return out

    def paid_cycle(self, program: str = "reward", year: int = 2026) -> str:
        """Create, compute and approve the year's cycle (different officers)."""
        cycle_id = self.post("/payment-cycles", "assist", program=program, year=year, on="2026-04-01").json()["cycle_id"]
        assert self.post(f"/payment-cycles/{cycle_id}/compute", "assist", on="2026-04-01").status_code == 200
        assert self.post(f"/payment-cycles/{cycle_id}/approve", "assist_chief", on="2026-04-02").status_code == 200
        return cycle_id
