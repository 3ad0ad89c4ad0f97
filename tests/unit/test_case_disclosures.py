"""An agency (police, health, drug) sees a case it works jointly only as the case stood
at its last disclosure, redacted for its role: what the case learns afterwards stays
hidden until it is disclosed again, and every disclosure is an event."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.enforcement.bootstrap import EnforcementStore
from services.enforcement.adapters.case_index import CaseIndex
from services.enforcement.adapters.case_rows import CASES
from services.enforcement.application.case_listing import CaseListing
from services.enforcement.adapters.duty_register import load_duty_items
from services.enforcement.adapters.outbox import case_translator
from services.enforcement.application.commands import CaseCommands
from services.enforcement.domain.case import Case, case_id_for
from services.enforcement.domain.deadlines import DeadlineRules
from services.enforcement.domain.redaction import AGENCY_FIELDS
from services.enforcement.entrypoints.http import add_case_routes
from shared.eventstore.index_rows import IndexRows
from tests.identity_support import guarded_client

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=timezone(timedelta(hours=8)))
OFFICER = {"id": "ZF-007", "section": "执法大队"}
FIRST_PATIENT, LATER_PATIENT = "pr-" + "1" * 61, "pr-" + "2" * 61
NEVER_SHARED = ("fees", "summary", "channel", "record_id", "joint_operations", "disclosures")


@pytest.fixture
def store() -> EnforcementStore:
    return EnforcementStore("memory://")


@pytest.fixture
def api(store) -> TestClient:
    http = FastAPI()
    rules = DeadlineRules()
    add_case_routes(http, store, CaseIndex(store), CaseListing(store, IndexRows(None, CASES)), CaseCommands(store, rules, lambda: None), rules, ("执法大队",), lambda: NOW, load_duty_items())
    return guarded_client(http, "enforcement")


def signal(evidence: str, person_ref: str) -> dict:
    return {"pattern": "late_termination_without_indication", "subject": "facility:YSX-MCH-002", "evidence": [evidence], "detected_on": "2026-03-10", "person_refs": [person_ref]}


def a_shared_case(store, api, agency: str) -> Case:
    """A signal case about a facility and an outlet, with a fee record, shared with the agency."""
    case = Case(id=case_id_for("signal", "facility:YSX-MCH-002"), origin="signal", source_ref="facility:YSX-MCH-002", case_number="ZF-2026-AAAA0001",
                category="two_illegals", township_code="130132100", anonymous=False, channel=None, section="执法大队", record_id=None, summary=None,
                subjects={"facility_id": "YSX-MCH-002", "outlet_id": "YD-130132100-01"}, signal=signal("intake-1", FIRST_PATIENT))
    store.save(case)
    for path, body in (("triage", {"category": "two_illegals", "priority": "urgent"}), ("assign", {"assignee": "ZF-011"}),
                       ("evidence", {"kind": "document", "description": "引产登记台账复印件"}),
                       ("fees", {"kind": "assessed", "amount": "45678.00", "decision_no": "元计征〔2026〕7号", "on": "2026-03-12"}),
                       ("joint-operations", {"agency": agency, "purpose": "联合调查"})):
        assert api.post(f"/cases/{case.id}/{path}", json={"officer": OFFICER, **body}).status_code == 200
    return store.find(case.id)


def learn_more(store, case_id) -> None:
    """After the disclosure: a new signal (another patient) joins and new evidence is recorded."""
    case = store.find(case_id)
    case.join_signal(signal("intake-2", LATER_PATIENT))
    case.record_evidence("EV-2", "statement", "院长询问笔录", [], "ZF-011")
    store.save(case)


@pytest.mark.parametrize("agency", ["police", "health", "drug"])
def test_an_agency_sees_only_the_fields_its_role_allows(store, api, agency):
    case = a_shared_case(store, api, agency)

    view = api.get(f"/cases/{case.id}/shared/{agency}").json()

    assert list(view) == list(AGENCY_FIELDS[agency])
    assert not set(NEVER_SHARED) & set(view)
    assert "45678" not in json.dumps(view), "fee records are never shared"
    assert (FIRST_PATIENT in json.dumps(view)) is (agency == "police"), "only the police receive person_refs"


@pytest.mark.parametrize("agency", ["police", "health", "drug"])
def test_what_the_case_learns_after_a_disclosure_stays_hidden_until_it_is_disclosed_again(store, api, agency):
    case = a_shared_case(store, api, agency)
    disclosed = api.get(f"/cases/{case.id}/shared/{agency}").json()

    learn_more(store, case.id)
    before = api.get(f"/cases/{case.id}/shared/{agency}").json()
    again = api.post(f"/cases/{case.id}/disclosures", json={"officer": OFFICER, "agency": agency})
    after = api.get(f"/cases/{case.id}/shared/{agency}").json()

    assert before == disclosed, "nothing new is shown without a new disclosure"
    assert again.status_code == 200 and [d["agency"] for d in again.json()["disclosures"]] == [agency, agency]
    assert [s["evidence"] for s in after["signals"]] == [["intake-1"], ["intake-2"]]
    assert list(after) == list(AGENCY_FIELDS[agency]) and "45678" not in json.dumps(after)
    if agency == "police":
        assert [e["evidence_id"] for e in after["evidence"]] == ["EV-1", "EV-2"] and after["person_refs"] == [FIRST_PATIENT, LATER_PATIENT]
    else:
        assert LATER_PATIENT not in json.dumps(after)


def test_each_disclosure_is_published_to_the_agency_as_the_case_stood_then(store, api):
    case = a_shared_case(store, api, "health")
    learn_more(store, case.id)
    api.post(f"/cases/{case.id}/disclosures", json={"officer": OFFICER, "agency": "health"})

    translate = case_translator(store)
    shared = [json.loads(m.body)["payload"] for n in store.read_log(0, 1000) for m in translate(n.id, store.decode(n)) if m.subject == "fp.enforcement.shared.health"]

    assert [len(p["view"]["signals"]) for p in shared] == [1, 2]
    assert shared[-1]["view"] == api.get(f"/cases/{case.id}/shared/health").json()


def test_disclosing_again_needs_a_joint_operation_with_that_agency(store, api):
    case = a_shared_case(store, api, "police")

    response = api.post(f"/cases/{case.id}/disclosures", json={"officer": OFFICER, "agency": "drug"})

    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "agency"
    assert api.get(f"/cases/{case.id}/shared/drug").status_code == 403


def test_a_later_change_of_the_field_table_does_not_widen_what_an_earlier_disclosure_shows(store, api, monkeypatch):
    case = a_shared_case(store, api, "health")
    disclosed = api.get(f"/cases/{case.id}/shared/health").json()

    monkeypatch.setitem(AGENCY_FIELDS, "health", (*AGENCY_FIELDS["health"], "person_refs", "evidence"))
    later = api.get(f"/cases/{case.id}/shared/health").json()
    translate = case_translator(store)
    [republished] = [json.loads(m.body)["payload"] for n in store.read_log(0, 1000) for m in translate(n.id, store.decode(n)) if m.subject == "fp.enforcement.shared.health"]

    assert later == disclosed and FIRST_PATIENT not in json.dumps(later), "the view is what the disclosure event recorded"
    assert republished["view"] == disclosed and republished["fields"] == list(disclosed)
    widened = api.post(f"/cases/{case.id}/disclosures", json={"officer": OFFICER, "agency": "health"})
    assert widened.status_code == 200 and FIRST_PATIENT in json.dumps(api.get(f"/cases/{case.id}/shared/health").json()), "only a new disclosure shows more"
