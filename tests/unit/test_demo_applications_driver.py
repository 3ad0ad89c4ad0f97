"""`fpb up --demo`'s applications driver: the case a revocation names is worked in
enforcement to a conclusion that the falsification is substantiated, and any step a
service refuses stops the demo with the service's answer instead of being skipped."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from applications_support import World
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cli.demo.applications_driver import DemoDriveError, FileWorker, enforcement_cases
from services.enforcement.bootstrap import EnforcementStore
from services.enforcement.adapters.case_index import CaseIndex
from services.enforcement.adapters.case_rows import CASES
from services.enforcement.application.case_listing import CaseListing
from services.enforcement.adapters.duty_register import load_duty_items
from services.enforcement.application.commands import CaseCommands
from services.enforcement.entrypoints.http import add_case_routes
from services.enforcement.settings import EnforcementSettings
from shared.eventstore.index_rows import IndexRows
from tests.identity_support import guarded_client

TODAY = date(2026, 3, 10)


@pytest.fixture
def enforcement() -> TestClient:
    store = EnforcementStore("memory://")
    settings = EnforcementSettings(nats_url="nats://127.0.0.1:1", store_url="memory://")
    rules = settings.deadline_rules()
    http = FastAPI()
    now = datetime(2026, 3, 10, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    add_case_routes(http, store, CaseIndex(store), CaseListing(store, IndexRows(None, CASES)), CaseCommands(store, rules, lambda: None), rules, settings.officer_sections, lambda: now, load_duty_items())
    return guarded_client(http, "enforcement")


@pytest.fixture
def world(announced, delivery, inbound_sample, protector) -> World:
    return World(announced, delivery, inbound_sample, protector, today=TODAY)


def issued(world: World) -> dict:
    world.submit("first_child_registration")
    for step, officer in (("approve", "county_chief"), ("publish", "county_clerk"), ("issue-certificate", "county_clerk")):
        assert world.post("APP-130132102-2026-0057", step, officer).status_code == 200
    return {"application_id": "APP-130132102-2026-0057", "section": "县直科", "township_code": "130132102"}


def test_the_case_a_demo_revocation_names_is_worked_in_enforcement_to_a_substantiated_conclusion(enforcement):
    open_case = enforcement_cases("http://testserver", TODAY, client=enforcement)

    case_number = open_case({"application_id": "APP-130132102-2026-0057", "township_code": "130132102"})

    case = enforcement.get(f"/cases/{case_number}").json()
    assert case["status"] == "concluded" and case["conclusion"]["substantiated"] is True
    assert case["category"] == "certificate_service" and len(case["evidence"]) == 1


def test_a_step_the_verification_service_refuses_stops_the_demo_with_its_answer(world):
    issued(world)
    worker = FileWorker(world.http, TODAY)

    with pytest.raises(DemoDriveError) as refused:
        worker.step("APP-130132102-2026-0057", "withdraw", {"id": "XZ-01", "section": "县直科"}, TODAY, reason="申请人撤回")

    assert "HTTP 409" in str(refused.value) and "/applications/APP-130132102-2026-0057/withdraw" in str(refused.value)


def test_a_demo_revocation_on_a_case_never_concluded_stops_the_demo_instead_of_leaving_the_certificate_quietly(world):
    row = issued(world)
    worker = FileWorker(world.http, TODAY, open_case=lambda _: world.open_case("ZF-2026-0000ABCD"), timeout=0.2)

    with pytest.raises(DemoDriveError) as refused:
        worker.revoke(row["application_id"], worker.open_case(row), TODAY)

    assert "HTTP 409" in str(refused.value) and "enforcement_case" in str(refused.value) and "not concluded yet" in str(refused.value)
    assert world.file(row["application_id"]).status == "certificate_issued"


def test_a_demo_revocation_waits_for_verification_to_hear_of_the_conclusion(world):
    row = issued(world)
    case_number = world.open_case("ZF-2026-0000ABCD")
    attempts = []
    original = world.http.post

    def post_hearing_the_conclusion_after_the_first_refusal(url, **kwargs):
        response = original(url, **kwargs)
        attempts.append(response.status_code)
        if len(attempts) == 1:
            world.conclude_case(case_number)  # case.concluded reaches verification meanwhile
        return response

    world.http.post = post_hearing_the_conclusion_after_the_first_refusal
    revoked = FileWorker(world.http, TODAY, timeout=5).revoke(row["application_id"], case_number, TODAY)

    assert attempts == [409, 200] and revoked["status"] == "revoked"
