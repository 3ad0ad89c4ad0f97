"""`fpb up --demo`: the officers' demo driver, run against an in-process enforcement
service fed with the demo's own records, leaves cases in every state, petitions past
their deadline, joint operations and fee records, and stops on any refused step."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cli.demo.cases_driver import BRIGADE, DemoDriveError, drive_cases, poster
from cli.demo.records import generate_demo_records
from services.enforcement.bootstrap import EnforcementStore
from services.enforcement.adapters.case_index import CaseIndex
from services.enforcement.adapters.case_rows import CASES
from services.enforcement.application.case_listing import CaseListing
from services.enforcement.adapters.duty_register import load_duty_items
from services.enforcement.adapters.reveal import revealer
from services.enforcement.application.commands import CaseCommands
from services.enforcement.entrypoints.http import add_case_routes
from services.enforcement.entrypoints.routes import routes
from services.enforcement.settings import EnforcementSettings
from shared.eventstore.index_rows import IndexRows
from shared.contracts.integration import read_event
from tests.identity_support import guarded_client

FEEDS = ("hotline.tip.received", "petitions.petition.received", "health.ultrasound.recorded", "health.termination.recorded", "drug.sale.recorded", "police.birth.registered")
EVERY_STATE = {"opened", "triaged", "assigned", "investigating", "referred", "concluded", "closed", "reopened"}
LATER = datetime(2027, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))  # every demo petition's answer date has passed


@pytest.fixture
def enforcement(announced, delivery, protector) -> TestClient:
    """Enforcement, fed with the demo year's tips, petitions and health, drug and birth records through intake."""
    store = EnforcementStore("memory://")
    settings = EnforcementSettings(nats_url="nats://127.0.0.1:1", store_url="memory://")
    table = routes(settings.detection(revealer(protector)), settings.deadline_rules(), bytes(32))
    for n, (subject, envelope) in enumerate(generate_demo_records(year=2026, births=120)):
        kind = subject.removeprefix("county.")
        if not kind.startswith(FEEDS):
            continue
        inbound = dataclasses.replace(delivery("hotline.tip.received", seq=n + 1, body_override=envelope), subject=subject, headers={"Nats-Msg-Id": envelope["record_id"]})
        for message in announced(inbound):
            if message.subject in table:
                received = read_event(message.body)
                store.save_once(received.envelope.event_id, message.subject, *table[message.subject](received, store.find))
    http = FastAPI()
    rules = settings.deadline_rules()
    add_case_routes(http, store, CaseIndex(store), CaseListing(store, IndexRows(None, CASES)), CaseCommands(store, rules, lambda: None), rules, settings.officer_sections, lambda: LATER, load_duty_items())
    return guarded_client(http, "enforcement")


def test_the_demo_driver_leaves_cases_in_every_state_with_overdue_petitions_joint_operations_and_fees(enforcement):
    said: list[str] = []

    tally = drive_cases("http://testserver", said.append, client=enforcement, settle_seconds=0)

    assert EVERY_STATE <= set(tally), tally
    assert enforcement.get("/cases/overdue").json()["overdue"], "some petitions are left past their deadline"
    shown = [enforcement.get(f"/cases/{c['case_id']}").json() for c in enforcement.get("/cases").json()["cases"]]
    assert any(c["joint_operations"] for c in shown) and any(c["fees"] for c in shown)
    assert {c["origin"] for c in shown} == {"hotline_tip", "petition", "signal", "officer"}
    assert len(said) == 1 and "past their deadline" in said[0]


def test_a_step_the_service_refuses_stops_the_demo_with_the_services_answer(enforcement):
    [case] = enforcement.get("/cases", params={"origin": "hotline_tip"}).json()["cases"][:1]
    post = poster(enforcement)

    with pytest.raises(DemoDriveError) as refused:
        post(case, "close", BRIGADE)

    assert "409" in str(refused.value) and "status" in str(refused.value)

