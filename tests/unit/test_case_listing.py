"""The enforcement team's case lists: read from the case listing's rows a page at a time,
in the order the cases were opened, never by loading every case ever opened."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
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
from shared.calendar import add_working_days
from shared.eventstore.index_rows import IndexRows
from tests.identity_support import guarded_client, token_issuer

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=CHINA)
OFFICER = {"id": "ZF-007", "section": "执法大队"}
RULES = DeadlineRules()


@pytest.fixture
def store() -> EnforcementStore:
    return EnforcementStore("memory://")


@pytest.fixture
def listing(store) -> CaseListing:
    return CaseListing(store, IndexRows(None, CASES))


@pytest.fixture
def api(store, listing) -> TestClient:
    http = FastAPI()
    add_case_routes(http, store, CaseIndex(store), listing, CaseCommands(store, RULES, lambda: None), RULES, ("执法大队", "信访科"), lambda: NOW,
                    load_duty_items())
    return guarded_client(http, "enforcement")


def open_case(api, reference: str, category: str = "administrative_review", township_code: str = "130132100", received_on: str = "2026-03-02") -> dict:
    response = api.post("/cases", json={"officer": OFFICER, "reference": reference, "category": category, "township_code": township_code,
                                        "summary": "群众来信反映情况", "received_on": received_on})
    assert response.status_code == 201, response.text
    return response.json()


def every_page(api, **params) -> tuple[list[str], int]:
    """The case numbers of every page, following `next`, and how many pages it took."""
    numbers, after, pages = [], None, 0
    while True:
        body = api.get("/cases", params={**params, **({"after": after} if after else {})}).json()
        numbers += [c["case_number"] for c in body["cases"]]
        pages += 1
        if (after := body["next"]) is None:
            return numbers, pages


def test_pages_of_cases_follow_one_another_in_the_order_the_cases_were_opened(api):
    opened = [open_case(api, f"FY-2026-{n:03d}")["case_number"] for n in range(7)]

    numbers, pages = every_page(api, limit=3)

    assert numbers == opened, "every case once, as opened"
    assert pages == 3
    assert api.get("/cases", params={"limit": 7}).json()["next"] is None, "a page that holds the rest is the last"


def test_a_list_is_filtered_by_status_origin_category_and_township(api):
    review = open_case(api, "FY-2026-001")
    other_township = open_case(api, "FY-2026-002", township_code="130132101")
    tip = open_case(api, "ZF-2026-009", category="two_illegals")
    api.post(f"/cases/{tip['case_id']}/triage", json={"officer": OFFICER, "category": "two_illegals", "priority": "high"})

    def numbers(**params) -> list[str]:
        return [c["case_number"] for c in api.get("/cases", params=params).json()["cases"]]

    assert numbers(category="administrative_review") == [review["case_number"], other_township["case_number"]]
    assert numbers(township_code="130132101") == [other_township["case_number"]]
    assert numbers(status="triaged") == [tip["case_number"]]
    assert numbers(origin="officer", category="two_illegals") == [tip["case_number"]]
    assert numbers(origin="petition") == []


@pytest.mark.parametrize("field, value", [("status", "lost"), ("origin", "rumour"), ("category", "gossip")])
def test_an_unknown_filter_value_is_refused_naming_the_field_and_what_it_may_be(api, field, value):
    response = api.get("/cases", params={field: value})

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["field"] == field and repr(value) in problem["message"] and "one of" in problem["message"]


@pytest.mark.parametrize("limit", [0, 5001, "many"])
def test_a_page_size_outside_one_to_five_thousand_is_refused(api, limit):
    response = api.get("/cases", params={"limit": limit})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_a_list_shows_what_changed_since_the_last_one_and_resolves_case_numbers(api):
    case = open_case(api, "FY-2026-001")
    assert api.get("/cases").json()["cases"][0]["status"] == "opened"

    api.post(f"/cases/{case['case_number']}/triage", json={"officer": OFFICER, "category": "administrative_review", "priority": "urgent"})

    [row] = api.get("/cases").json()["cases"]
    assert (row["status"], row["priority"], row["version"]) == ("triaged", "urgent", case["version"] + 1)
    assert api.get(f"/cases/{case['case_number']}").json()["case_id"] == case["case_id"]


def test_a_list_reads_rows_and_loads_only_the_cases_changed_since_the_last_list(api, store, monkeypatch):
    cases = [open_case(api, f"FY-2026-{n:03d}") for n in range(5)]
    api.get("/cases")  # the listing catches up
    loaded = []
    find_in_passing = store.find_in_passing
    monkeypatch.setattr(store, "find_in_passing", lambda case_id: loaded.append(str(case_id)) or find_in_passing(case_id))

    assert len(api.get("/cases").json()["cases"]) == 5
    assert loaded == [], "nothing changed: no case is loaded"
    api.post(f"/cases/{cases[3]['case_id']}/triage", json={"officer": OFFICER, "category": "administrative_review", "priority": "high"})
    api.get("/cases")
    assert loaded == [cases[3]["case_id"]], "only the changed case"


def test_the_overdue_list_holds_unanswered_cases_whose_clock_is_nearing_or_past_and_drops_them_once_answered(api):
    late = open_case(api, "FY-2026-001", received_on="2026-01-05")
    open_case(api, "FY-2026-002", received_on="2026-03-02")  # well within its limit
    open_case(api, "ZF-2026-003", category="two_illegals", received_on="2025-01-05")  # a tip: no statutory clock
    due = date.fromisoformat(late["due_on"])
    assert due == add_working_days(date(2026, 1, 5), 60)
    after_due = (due + timedelta(days=1)).isoformat()

    assert [c["case_number"] for c in api.get("/cases/overdue", params={"as_of": after_due}).json()["overdue"]] == [late["case_number"]]
    ref = late["case_id"]
    for step, body in (("triage", {"category": "administrative_review", "priority": "high"}), ("assign", {"assignee": "ZF-008"}),
                       ("conclusion", {"substantiated": False, "findings": "复议决定已作出，维持原决定"})):
        assert api.post(f"/cases/{ref}/{step}", json={"officer": OFFICER, **body}).status_code == 200, step
    assert api.get("/cases/overdue", params={"as_of": after_due}).json()["overdue"] == []


def test_the_cli_lists_a_page_and_prints_the_command_for_the_next_one(api, monkeypatch):
    from rich.console import Console
    from typer.testing import CliRunner

    from cli import cases as cli_cases

    opened = [open_case(api, f"FY-2026-{n:03d}")["case_number"] for n in range(3)]
    monkeypatch.setattr(cli_cases, "console", Console(width=250))  # whole case numbers in the table
    monkeypatch.setattr(cli_cases, "_endpoints", lambda data_dir: {"services": {"enforcement": ""}})
    monkeypatch.setattr(cli_cases.httpx, "get", lambda url, params, timeout, auth: api.get(url, params=params, auth=auth))
    monkeypatch.setenv("FPB_TOKEN", token_issuer().token("ZF-007", ["enforcement_officer"], ["执法大队"]))  # the CLI acts as FPB_TOKEN says
    runner = CliRunner()

    first = runner.invoke(cli_cases.app, ["list", "--limit", "2"])
    cursor = first.output.rpartition("--after '")[2].partition("'")[0]
    second = runner.invoke(cli_cases.app, ["list", "--limit", "2", "--after", cursor])
    refused = runner.invoke(cli_cases.app, ["list", "--status", "lost"])

    assert first.exit_code == second.exit_code == 0
    assert [n in first.output for n in opened] == [True, True, False] and "fpb cases list --limit 2 --after" in first.output
    assert [n in second.output for n in opened] == [False, False, True] and "--after" not in second.output
    assert refused.exit_code == 1 and "unknown status 'lost'" in refused.output
