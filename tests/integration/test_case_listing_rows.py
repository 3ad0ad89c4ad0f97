"""The case listing on both store backends: its rows and position survive a restart, so a
restarted enforcement lists cases without loading them again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.enforcement.adapters.case_index import CaseIndex
from services.enforcement.adapters.case_rows import CASES
from services.enforcement.adapters.duty_register import load_duty_items
from services.enforcement.application.case_listing import CaseListing
from services.enforcement.application.commands import CaseCommands
from services.enforcement.bootstrap import EnforcementStore
from services.enforcement.domain.deadlines import DeadlineRules
from services.enforcement.entrypoints.http import add_case_routes
from shared.eventstore.index_rows import IndexRows
from tests.identity_support import guarded_client

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=timezone(timedelta(hours=8)))
OFFICER = {"id": "ZF-007", "section": "执法大队"}
RULES = DeadlineRules()


def enforcement_api(store: EnforcementStore, rows: IndexRows) -> TestClient:
    http = FastAPI()
    add_case_routes(http, store, CaseIndex(store), CaseListing(store, rows), CaseCommands(store, RULES, lambda: None), RULES, ("执法大队",),
                    lambda: NOW, load_duty_items())
    return guarded_client(http, "enforcement")


def test_a_restarted_listing_pages_through_its_stored_rows_without_loading_a_case(store_url: str):
    store, rows = EnforcementStore(store_url), IndexRows(store_url, CASES)
    api = enforcement_api(store, rows)
    opened = [api.post("/cases", json={"officer": OFFICER, "reference": f"FY-2026-{n:03d}", "category": "administrative_review",
                                       "township_code": "130132100", "summary": "申请行政复议", "received_on": received}).json()["case_number"]
              for n, received in enumerate(("2025-11-03", "2026-03-02", "2026-03-09"))]
    assert [c["case_number"] for c in api.get("/cases", params={"limit": 5}).json()["cases"]] == opened
    rows.close()
    store.close()

    restarted, rows = EnforcementStore(store_url), IndexRows(store_url, CASES)
    restarted.find_in_passing = lambda case_id: (_ for _ in ()).throw(AssertionError(f"loaded case {case_id}"))
    api = enforcement_api(restarted, rows)
    first = api.get("/cases", params={"limit": 2}).json()
    second = api.get("/cases", params={"limit": 2, "after": first["next"]}).json()
    overdue = api.get("/cases/overdue").json()

    assert [c["case_number"] for c in first["cases"] + second["cases"]] == opened and second["next"] is None
    assert [c["case_number"] for c in overdue["overdue"]] == opened[:1], "received in November: past its 60 working days by March 20"
    assert api.get(f"/cases/{opened[2]}").status_code == 200, "a case number resolves from the stored rows"
    rows.close()
    restarted.close()
