"""Enforcement cases: opened from tips, petitions and signals; driven by officers over
HTTP through their whole lifecycle; published on the case stream without personal data."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.enforcement.bootstrap import EnforcementStore
from services.enforcement.adapters.case_index import CaseIndex
from services.enforcement.adapters.case_rows import CASES
from services.enforcement.application.case_listing import CaseListing
from services.enforcement.adapters.outbox import case_translator, is_case_topic
from services.enforcement.adapters.reveal import revealer
from services.enforcement.adapters.duty_register import load_duty_items
from services.enforcement.application.cases import petition_decider, tip_decider
from services.enforcement.application.commands import CaseCommands
from services.enforcement.application.signals import Detection, birth_decider, drug_sale_decider, on_ultrasound, termination_decider
from services.enforcement.domain.case import SIGNAL_AFTER_CLOSURE, case_id_for, signals_in_full
from services.enforcement.domain.deadlines import DeadlineRules
from services.enforcement.domain.errors import CaseRuleError
from services.enforcement.domain.detectors.sex_ratio import SexRatioRule
from services.enforcement.entrypoints.http import add_case_routes
from services.enforcement.entrypoints.routes import PULLED, TEAM_CONSUMER
from shared.eventstore.index_rows import IndexRows
from shared.calendar import add_working_days
from shared.contracts.identity import make_resident_id
from shared.contracts.integration import read_event
from shared.observability.http import add_history_route
from tests.identity_support import guarded_client

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=CHINA)
OFFICER = {"id": "ZF-007", "section": "执法大队"}
RULES = DeadlineRules()
TIP_KEY = bytes(range(32))  # enforcement's anonymous-tip key, in tests
open_case_from_tip = tip_decider(TIP_KEY)


@pytest.fixture
def store() -> EnforcementStore:
    return EnforcementStore("memory://")


@pytest.fixture
def accepted(announced, delivery):
    def make(kind: str, seq: int = 1, body_override=None):
        [event] = [m for m in announced(delivery(kind, seq=seq, body_override=body_override)) if m.subject.startswith("fp.intake.accepted.")]
        return event

    return make


@pytest.fixture
def sample(inbound_sample):
    def make(kind: str, record_id: str, **data):
        _, message = inbound_sample(kind)
        message["record_id"] = record_id
        message["data"].update(data)
        return message

    return make


def decide(store, decider, message):
    aggregates = list(decider(read_event(message.body), store.find))
    if aggregates:
        store.save(*aggregates)
    return aggregates


@pytest.fixture
def api(store):
    http = FastAPI()
    add_case_routes(http, store, CaseIndex(store), CaseListing(store, IndexRows(None, CASES)), CaseCommands(store, RULES, lambda: None), RULES, ("执法大队", "信访科"), lambda: NOW, load_duty_items())
    return guarded_client(http, "enforcement")


def stream(store) -> list:
    translate = case_translator(store)
    return [m for n in store.read_log(0, 1000) for m in translate(n.id, store.decode(n))]


# --- petitions and deadlines ------------------------------------------------------


def test_a_petition_opens_a_case_due_sixty_working_days_after_receipt(store, accepted):
    message = accepted("petitions.petition.received")
    submission = read_event(message.body).payload

    [case] = decide(store, petition_decider(RULES), message)

    assert case.id == case_id_for("petition", submission.submission_id)
    assert case.category == "petition" and case.section == "信访科"
    assert case.deadline["received_on"] == "2026-03-08"
    assert case.deadline["due_on"] == add_working_days(date(2026, 3, 8), 60).isoformat()
    assert case.subjects == {"person_refs": [submission.person_refs["petitioner_id_number"]]}
    assert decide(store, petition_decider(RULES), message) == [], "the same petition opens nothing more"


def test_a_petition_past_its_due_date_shows_as_overdue_and_raises_its_alerts_once(store, accepted, api):
    [case] = decide(store, petition_decider(RULES), accepted("petitions.petition.received"))
    due = date.fromisoformat(case.deadline["due_on"])

    before = api.get("/cases/overdue", params={"as_of": (due - timedelta(days=30)).isoformat()}).json()
    nearing = api.get("/cases/overdue", params={"as_of": (due - timedelta(days=1)).isoformat()}).json()
    after = api.get("/cases/overdue", params={"as_of": (due + timedelta(days=1)).isoformat()}).json()

    assert (before["overdue"], before["nearing"]) == ([], [])
    assert [c["case_number"] for c in nearing["nearing"]] == [case.case_number]
    assert [c["case_number"] for c in after["overdue"]] == [case.case_number]
    sweep = api.auth.headers_for("ops")
    raised = api.post("/deadlines/check", params={"as_of": (due + timedelta(days=1)).isoformat()}, headers=sweep).json()["raised"]
    assert [r["alert"] for r in raised] == ["nearing", "breached"]
    assert api.post("/deadlines/check", params={"as_of": (due + timedelta(days=2)).isoformat()}, headers=sweep).json()["raised"] == []
    subjects = [m.subject for m in stream(store)]
    assert subjects[-2:] == ["fp.enforcement.case.deadline_nearing", "fp.enforcement.case.deadline_breached"]


class CountedFinds:
    """The store, counting which aggregates are loaded."""

    def __init__(self, store) -> None:
        self.store, self.found = store, []

    def __getattr__(self, name):
        return getattr(self.store, name)

    def find(self, aggregate_id):
        self.found.append(aggregate_id)
        return self.store.find(aggregate_id)


def test_the_deadline_check_looks_only_at_cases_whose_statutory_clock_is_running(store, accepted, sample, api):
    index = CaseIndex(store)
    [petition] = decide(store, petition_decider(RULES), accepted("petitions.petition.received"))
    [tip] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))
    [answered] = decide(store, petition_decider(RULES), accepted("petitions.petition.received", 2, sample("petitions.petition.received", "XF-2")))
    walk(api, answered.id, [("triage", {"category": "petition", "priority": "normal"}), ("assign", {"assignee": "XF-002"}),
                            ("conclusion", {"substantiated": False, "findings": "已答复"}), ("close", {})])
    assert index.clock_running() == [petition.id], "a tip has no statutory clock; an answered petition's has stopped"

    walk(api, answered.id, [("reopen", {"reason": "信访人不服答复"})])
    api.post(f"/cases/{tip.id}/triage", json={"officer": OFFICER, "category": "petition", "priority": "normal"})
    assert index.clock_running() == [petition.id, answered.id, tip.id], "reopened, and re-triaged as a petition"

    counted = CountedFinds(store)
    due = date.fromisoformat(petition.deadline["due_on"])
    raised = CaseCommands(counted, RULES, lambda: None).check_deadlines(index.clock_running(), datetime.combine(due + timedelta(days=1), datetime.min.time(), CHINA))
    assert set(counted.found) == {petition.id, answered.id, tip.id}, "nothing else is loaded"
    assert {r["case_id"] for r in raised} == {str(petition.id), str(answered.id)}, "the tip's clock started later, when it came in"
    assert index.clock_running() == [tip.id], "a breached clock raises nothing more until a new deadline is set"


def test_an_answered_petition_is_not_overdue(store, accepted, api):
    [case] = decide(store, petition_decider(RULES), accepted("petitions.petition.received"))
    for path, body in (("triage", {"category": "petition", "priority": "normal"}), ("assign", {"assignee": "XF-002"}),
                       ("conclusion", {"substantiated": False, "findings": "经核查，扶助金已于3月15日补发。"})):
        assert api.post(f"/cases/{case.id}/{path}", json={"officer": {"id": "XF-001", "section": "信访科"}, **body}).status_code == 200

    late = api.get("/cases/overdue", params={"as_of": "2027-01-01"}).json()
    assert late["overdue"] == []


# --- the lifecycle over HTTP ------------------------------------------------------


def test_an_officer_drives_a_tip_from_triage_to_closure_and_reopens_it(store, accepted, api):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))
    ref = case.case_number

    steps = [
        ("triage", {"category": "two_illegals", "priority": "high"}, "triaged"),
        ("assign", {"assignee": "ZF-011"}, "assigned"),
        ("evidence", {"kind": "linked_fact", "description": "B超记录", "linked_event_ids": ["intake-12"]}, "investigating"),
        ("evidence", {"kind": "statement", "description": "诊所负责人询问笔录"}, "investigating"),
        ("referrals", {"target": "judicial", "authority": "元氏县公安局", "reason": "涉嫌非法行医"}, "referred"),
        ("conclusion", {"substantiated": True, "findings": "非医学需要胎儿性别鉴定属实"}, "concluded"),
        ("close", {}, "closed"),
        ("reopen", {"reason": "公安移送回函要求补充证据"}, "reopened"),
    ]
    for path, body, status in steps:
        response = api.post(f"/cases/{ref}/{path}", json={"officer": OFFICER, **body})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status

    shown = api.get(f"/cases/{ref}").json()
    assert [e["evidence_id"] for e in shown["evidence"]] == ["EV-1", "EV-2"]
    assert shown["referrals"][0]["target"] == "judicial"
    assert shown["reopen_reasons"] == ["公安移送回函要求补充证据"]
    assert shown["summary"] == "[encrypted]"


def test_announcing_a_case_s_events_in_log_order_never_replays_the_case_from_the_store(store, accepted, api, monkeypatch):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))
    for path, body in (("triage", {"category": "two_illegals", "priority": "high"}), ("assign", {"assignee": "ZF-011"}),
                       ("evidence", {"kind": "statement", "description": "询问笔录"}), ("evidence", {"kind": "statement", "description": "现场笔录"})):
        assert api.post(f"/cases/{case.case_number}/{path}", json={"officer": OFFICER, **body}).status_code == 200
    replays = []
    read_from_store = store.repository.get
    monkeypatch.setattr(store.repository, "get", lambda *args, **kwargs: replays.append(args) or read_from_store(*args, **kwargs))

    announced = stream(store)

    assert len(announced) >= 4
    assert replays == [], "each event is applied to the state the one before it left, announced or not"


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("assign", {"assignee": "ZF-011"}, 409, "status"),  # not triaged yet
        ("close", {}, 409, "status"),
        ("triage", {"category": "smuggling", "priority": "high"}, 422, "category"),
        ("triage", {"category": "other", "priority": "whenever"}, 422, "body.priority"),
    ],
)
def test_a_command_that_breaks_a_rule_is_refused_naming_the_field(store, accepted, api, path, body, status, field):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))

    response = api.post(f"/cases/{case.id}/{path}", json={"officer": OFFICER, **body})

    assert response.status_code == status
    detail = response.json()["detail"][0]
    assert detail.get("field", ".".join(map(str, detail.get("loc", [])))) == field


def test_an_officer_outside_the_enforcement_sections_may_not_change_a_case(store, accepted, api):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))

    finance = api.post(f"/cases/{case.id}/triage", json={"officer": {"id": "CW-1", "section": "财务科"}, "category": "other", "priority": "low"})
    # An officer of 信访科 and 财务科 holds the right, but may not act on cases as 财务科.
    as_finance = api.post(f"/cases/{case.id}/triage", json={"officer": {"id": "XF-CW", "section": "财务科"}, "category": "other", "priority": "low"})

    assert finance.status_code == 403 and "cases.act" in finance.json()["detail"][0]["message"]
    assert as_finance.status_code == 403 and as_finance.json()["detail"][0]["field"] == "officer.section"


def test_a_command_without_an_officer_acts_as_the_tokens_subject_and_a_body_naming_another_is_refused(store, accepted, api):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))

    posing = api.post(f"/cases/{case.id}/triage", json={"officer": {"id": "ZF-007"}, "category": "other", "priority": "low"},
                      headers=api.auth.headers_for("ZF-011"))
    response = api.post(f"/cases/{case.id}/triage", json={"category": "other", "priority": "low"}, headers=api.auth.headers_for("ZF-011"))

    assert posing.status_code == 403 and posing.json()["detail"][0]["field"] == "officer.id"
    assert response.status_code == 200
    assert [e.officer for e in store.events.get(case.id) if type(e).__name__ == "Triaged"] == ["ZF-011"]


def test_an_unknown_case_is_a_404(api):
    assert api.post("/cases/ZF-2026-00000000/close", json={"officer": OFFICER}).status_code == 404
    assert api.get("/cases/6c381ca9-76c2-5efb-9a61-1297d572b263").status_code == 404


def test_an_officer_opens_an_administrative_review_by_hand_once_per_reference(api):
    body = {"officer": OFFICER, "reference": "FY-2026-003", "category": "administrative_review", "township_code": "130132100",
            "summary": "申请人对社会抚养费征收决定不服，申请行政复议", "received_on": "2026-03-02"}

    first, again = api.post("/cases", json=body), api.post("/cases", json=body)

    assert first.status_code == again.status_code == 201
    assert first.json()["case_id"] == again.json()["case_id"]
    assert first.json()["origin"] == "officer"
    assert first.json()["due_on"] == add_working_days(date(2026, 3, 2), 60).isoformat()
    assert len(api.get("/cases").json()["cases"]) == 1


# --- social maintenance fees ------------------------------------------------------


def fee(api, ref, kind, amount):
    return api.post(f"/cases/{ref}/fees", json={"officer": OFFICER, "kind": kind, "amount": amount, "decision_no": "元计征〔2026〕12号", "on": "2026-03-10"})


def test_fee_records_reconcile_in_decimal_yuan(store, accepted, api):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))
    for kind, amount in (("assessed", "23456.70"), ("paid", "10000.00"), ("waived", "3456.70"), ("paid", "0.10")):
        assert fee(api, case.id, kind, amount).status_code == 200

    shown = api.get(f"/cases/{case.id}").json()

    assert shown["fee_reconciliation"] == {"assessed": "23456.70", "paid": "10000.10", "waived": "3456.70", "outstanding": "9999.90"}


@pytest.mark.parametrize(
    ("amount", "status", "field"),
    [("12000.5", 200, None), ("0.00", 422, "amount"), ("1.234", 422, "body.amount"), ("-5", 422, "body.amount"), ("abc", 422, "body.amount")],
)
def test_a_fee_amount_is_a_positive_yuan_string_with_at_most_two_decimals(store, accepted, api, amount, status, field):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))

    response = fee(api, case.id, "assessed", amount)

    assert response.status_code == status
    if field:
        detail = response.json()["detail"][0]
        assert detail.get("field", ".".join(map(str, detail.get("loc", [])))) == field


def test_a_fee_is_never_a_json_number(store, accepted, api):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))
    assert fee(api, case.id, "assessed", 960.0).status_code == 422


def test_payments_and_waivers_cannot_exceed_what_is_outstanding(store, accepted):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))
    case.record_fee("assessed", Decimal("1000.00"), "N1", "2026-03-01", "ZF-1")
    case.record_fee("paid", Decimal("600.00"), "N1", "2026-03-02", "ZF-1")

    with pytest.raises(CaseRuleError) as refused:
        case.record_fee("waived", Decimal("400.01"), "N1", "2026-03-03", "ZF-1")
    assert refused.value.field == "amount"
    case.record_fee("waived", Decimal("400.00"), "N1", "2026-03-03", "ZF-1")
    assert case.fee_reconciliation()["outstanding"] == "0.00"


# --- two-illegals signals ---------------------------------------------------------


@pytest.fixture
def detection(protector) -> Detection:
    return Detection(reveal=revealer(protector), ratio=SexRatioRule(window_days=365, min_births=4, max_ratio=120.0))


def test_a_late_termination_without_indication_opens_a_case_for_the_facility_and_a_repeat_joins_it(store, accepted, sample, detection):
    on_termination = termination_decider(detection)
    first = accepted("health.termination.recorded", 1, sample("health.termination.recorded", "HB-1", gestation_weeks=16, medical_indication=None))
    second = accepted("health.termination.recorded", 2, sample("health.termination.recorded", "HB-2", gestation_weeks=14, medical_indication=""))
    indicated = accepted("health.termination.recorded", 3, sample("health.termination.recorded", "HB-3", gestation_weeks=20, medical_indication="胎儿严重畸形"))

    [case] = decide(store, on_termination, first)
    decide(store, on_termination, second)
    assert decide(store, on_termination, indicated) == []

    case = store.find(case.id)
    assert (case.origin, case.category, case.subjects) == ("signal", "two_illegals", {"facility_id": "YSX-MCH-002"})
    assert [s["evidence"] for s in signals_in_full(store.events.get(case.id))] == [[read_event(first.body).envelope.event_id], [read_event(second.body).envelope.event_id]]
    assert [s["evidence_count"] for s in case.signals] == [1, 1], "the case in memory keeps the count, its events the evidence"
    assert decide(store, on_termination, first) == [], "the same evidence twice joins nothing"


def test_a_signal_cases_evidence_is_shown_in_full_from_its_events_while_its_state_keeps_counts(store, accepted, sample, detection, api):
    on_termination = termination_decider(detection)
    messages = [accepted("health.termination.recorded", n, sample("health.termination.recorded", f"HB-{n}", gestation_weeks=16, medical_indication=None)) for n in (1, 2)]
    [case] = decide(store, on_termination, messages[0])
    decide(store, on_termination, messages[1])
    evidence = [[read_event(m.body).envelope.event_id] for m in messages]
    audit = FastAPI()
    add_history_route(audit, "enforcement", store, lambda ref: case.id)

    shown = api.get(f"/cases/{case.id}").json()
    history = TestClient(audit).get(f"/history/{case.id}").json()

    assert [s["evidence"] for s in shown["signals_detail"]] == evidence and shown["signals"] == 2
    assert [s["evidence_count"] for s in history["state"]["signals"]] == [1, 1]
    assert [e["data"]["signal"]["evidence"] for e in history["events"] if "signal" in e["data"]] == evidence


def test_the_relays_topic_filter_passes_over_only_events_that_announce_nothing(store, accepted, sample, detection):
    scan = accepted("health.ultrasound.recorded", 1, sample("health.ultrasound.recorded", "HB-U1", performed_on="2026-03-01", patient_id_number="13013219900709086X"))
    termination = accepted("health.termination.recorded", 2, sample("health.termination.recorded", "HB-T1", gestation_weeks=16, medical_indication=None, performed_on="2026-03-05"))
    decide(store, on_ultrasound, scan)
    decide(store, termination_decider(detection), termination)
    log = store.read_log(0, 1000)
    translate, relayed = case_translator(store), case_translator(store)

    every = [m.message_id for n in log for m in translate(n.id, store.decode(n))]
    filtered = [m.message_id for n in log if is_case_topic(n.topic) for m in relayed(n.id, store.decode(n))]

    assert filtered == every and every, "the same messages, the watches' events passed over"
    assert any(not is_case_topic(n.topic) for n in log)


def test_a_scan_then_an_unindicated_termination_is_signalled_against_the_scanning_facility(store, accepted, sample, detection):
    scan = accepted("health.ultrasound.recorded", 1, sample("health.ultrasound.recorded", "HB-U1", performed_on="2026-03-01", patient_id_number="13013219900709086X"))
    termination = accepted("health.termination.recorded", 2, sample("health.termination.recorded", "HB-T1", gestation_weeks=12, medical_indication=None, performed_on="2026-03-05"))

    decide(store, on_ultrasound, scan)
    cases = decide(store, termination_decider(detection), termination)

    [case] = [c for c in cases if c.signals[0]["pattern"] == "ultrasound_then_termination"]
    scan_data = read_event(scan.body).payload.data
    assert case.subjects == {"facility_id": scan_data["facility_id"], "operator_id": scan_data["operator_id"]}
    assert signals_in_full(store.events.get(case.id))[0]["evidence"] == [read_event(scan.body).envelope.event_id, read_event(termination.body).envelope.event_id]
    assert case.signals[0]["person_refs"] == [read_event(termination.body).payload.person_refs["patient_id_number"]]


def test_unprescribed_sales_join_the_outlets_case_and_the_fourth_in_a_month_adds_a_volume_signal(store, accepted, sample, detection):
    on_sale = drug_sale_decider(detection)
    for n in range(1, 5):
        message = sample("drug.sale.recorded", f"DA-{n}", outlet_id="YD-130132100-01", drug_code="H10950347", prescription_id=None, sold_at=f"2026-03-0{n}T10:00:00+08:00")
        decide(store, on_sale, accepted("drug.sale.recorded", n, message))
    prescribed = sample("drug.sale.recorded", "DA-9", outlet_id="YD-130132100-01", drug_code="H10950347", prescription_id="RX-1", sold_at="2026-03-05T10:00:00+08:00")
    assert decide(store, on_sale, accepted("drug.sale.recorded", 9, prescribed)) == []

    case = store.find(case_id_for("signal", "outlet:YD-130132100-01"))
    patterns = [s["pattern"] for s in case.signals]
    assert patterns == ["unprescribed_termination_drug_sale"] * 4 + ["outlet_unprescribed_sales_over_threshold"]
    assert case.signals[-1]["evidence_count"] == len(signals_in_full(store.events.get(case.id))[-1]["evidence"]) == 4


def test_births_linked_to_an_operator_that_skew_male_open_one_case(store, accepted, sample, detection, inbound_sample):
    on_birth = birth_decider(detection)
    mothers = [make_resident_id("130132", date(1990 + n, 3, 1), 2 * n + 2) for n in range(5)]
    seq = 0
    for n, (mother, sex) in enumerate(zip(mothers, "MMMMF")):
        seq += 1
        scan = sample("health.ultrasound.recorded", f"HB-U{n}", facility_id="CLINIC-9", operator_id="OP-3", patient_id_number=mother, performed_on="2025-08-01")
        decide(store, on_ultrasound, accepted("health.ultrasound.recorded", seq, scan))
        seq += 1
        birth = sample("police.birth.registered", f"PSB-{n}", mother_id_number=mother, sex=sex, birth_date="2026-01-10")
        decide(store, on_birth, accepted("police.birth.registered", seq, birth))

    case = store.find(case_id_for("signal", "operator:CLINIC-9/OP-3"))
    assert case is not None and [s["pattern"] for s in case.signals] == ["skewed_sex_ratio"]
    assert len(signals_in_full(store.events.get(case.id))[0]["evidence"]) == 4, "opened on the fourth boy; a girl after it joins nothing"
    assert store.find(case_id_for("signal", "facility:CLINIC-9")) is not None


def test_an_erased_patient_cannot_be_read_and_signals_nothing(store, accepted, sample, detection, key_store):
    message = accepted("health.termination.recorded", 1, sample("health.termination.recorded", "HB-1", gestation_weeks=16, medical_indication=None))
    key_store.erase(read_event(message.body).payload.data_subject_ref)

    assert decide(store, termination_decider(detection), message) == []


# --- the case stream and joint operations -----------------------------------------


def test_sharing_with_the_police_discloses_only_what_the_police_may_see_and_records_it(store, accepted, sample, detection, api):
    on_termination = termination_decider(detection)
    [case] = decide(store, on_termination, accepted("health.termination.recorded", 1, sample("health.termination.recorded", "HB-1", gestation_weeks=16, medical_indication=None)))
    for path, body in (("triage", {"category": "two_illegals", "priority": "urgent"}), ("assign", {"assignee": "ZF-011"}),
                       ("fees", {"kind": "assessed", "amount": "5000.00", "decision_no": "N-1", "on": "2026-03-10"}),
                       ("joint-operations", {"agency": "police", "purpose": "联合调查非法终止妊娠"})):
        assert api.post(f"/cases/{case.id}/{path}", json={"officer": OFFICER, **body}).status_code == 200

    view = api.get(f"/cases/{case.id}/shared/police").json()
    shown = api.get(f"/cases/{case.id}").json()
    [disclosure] = shown["disclosures"]
    shared = [json.loads(m.body) for m in stream(store) if m.subject == "fp.enforcement.shared.police"]

    assert set(view) == set(disclosure["fields"]) and disclosure["by"] == "ZF-007"
    assert "fees" not in view and "summary" not in view and "channel" not in view
    assert view["person_refs"] == case.signals[0]["person_refs"]
    assert [s["payload"]["view"] for s in shared] == [view]
    assert api.get(f"/cases/{case.id}/shared/drug").status_code == 403, "never shared with the drug regulator"


def test_every_case_change_is_on_the_case_stream_with_the_status_after_it(store, accepted, api):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))
    api.post(f"/cases/{case.id}/triage", json={"officer": OFFICER, "category": "two_illegals", "priority": "high"})
    api.post(f"/cases/{case.id}/assign", json={"officer": OFFICER, "assignee": "ZF-011"})
    api.post(f"/cases/{case.id}/evidence", json={"officer": OFFICER, "kind": "document", "description": "现场检查笔录：王某某"})

    messages = stream(store)
    payloads = [json.loads(m.body)["payload"] for m in messages]

    assert [m.subject for m in messages] == ["fp.enforcement.case.opened", "fp.enforcement.case.triaged", "fp.enforcement.case.assigned", "fp.enforcement.case.evidence_recorded"]
    assert [p.get("status") for p in payloads[1:]] == ["triaged", "assigned", "investigating"]
    assert "现场检查笔录" not in messages[-1].body.decode(), "officers' free text stays off the stream"
    assert all(read_event(m.body) for m in messages)


# --- owning sections, deadlines on re-triage, closed cases ------------------------


def walk(api, ref, steps, officer=OFFICER) -> None:
    for path, body in steps:
        response = api.post(f"/cases/{ref}/{path}", json={"officer": officer, **body})
        assert response.status_code == 200, (path, response.text)


def test_triage_without_a_section_gives_the_case_to_the_owner_the_duty_register_names_for_its_category(store, accepted, api):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))

    petition = api.post(f"/cases/{case.id}/triage", json={"officer": OFFICER, "category": "petition", "priority": "normal"})
    again = api.post(f"/cases/{case.id}/triage", json={"officer": OFFICER, "category": "two_illegals", "priority": "high"})

    assert petition.json()["section"] == "信访科", "duty 9 item 2: the Petitions Section registers and answers petitions"
    assert again.json()["section"] == "执法大队", "duty 3 item 1: the two illegals are the brigade's alone"


def test_triage_to_a_section_the_duty_register_does_not_give_that_work_is_a_422_naming_the_section(store, accepted, api):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))

    response = api.post(f"/cases/{case.id}/triage", json={"officer": OFFICER, "category": "two_illegals", "priority": "high", "section": "信访科"})
    unknown = api.post(f"/cases/{case.id}/triage", json={"officer": OFFICER, "category": "other", "priority": "high", "section": "不存在的科"})

    assert response.status_code == 422 and unknown.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["field"] == "section" and "执法大队" in detail["message"] and "信访科" in detail["message"]
    assert unknown.json()["detail"][0]["field"] == "section"
    assert api.get(f"/cases/{case.id}").json()["status"] == "opened", "nothing changed"


def test_a_petition_may_be_owned_by_either_section_the_register_names(store, accepted, api):
    [case] = decide(store, petition_decider(RULES), accepted("petitions.petition.received"))

    response = api.post(f"/cases/{case.id}/triage", json={"officer": OFFICER, "category": "petition", "priority": "normal", "section": "执法大队"})

    assert response.status_code == 200 and response.json()["section"] == "执法大队"


@pytest.mark.parametrize("category", ["petition", "administrative_review"])
def test_a_tip_re_triaged_as_a_petition_or_administrative_review_gets_its_statutory_deadline_from_the_day_it_came_in(store, accepted, api, category):
    [case] = decide(store, open_case_from_tip, accepted("hotline.tip.received"))
    came_in = date.fromisoformat(api.get(f"/cases/{case.id}").json()["opened_on"])

    shown = api.post(f"/cases/{case.id}/triage", json={"officer": OFFICER, "category": category, "priority": "normal"}).json()

    assert shown["deadline_detail"]["kind"] == category
    assert shown["due_on"] == add_working_days(came_in, 60).isoformat()
    triaged = [json.loads(m.body)["payload"] for m in stream(store) if m.subject == "fp.enforcement.case.triaged"]
    assert triaged[-1]["due_on"] == shown["due_on"], "the team's stream shows the new answer date"


def test_a_petition_triaged_again_as_a_petition_keeps_its_deadline(store, accepted, api):
    [case] = decide(store, petition_decider(RULES), accepted("petitions.petition.received"))

    shown = api.post(f"/cases/{case.id}/triage", json={"officer": OFFICER, "category": "petition", "priority": "normal"}).json()

    assert shown["deadline_detail"] == case.deadline
    assert "DeadlineSet" not in [type(e).__name__ for e in store.events.get(case.id)]


def test_an_agency_response_on_a_closed_case_is_refused(store, accepted, sample, detection, api):
    [case] = decide(store, termination_decider(detection), accepted("health.termination.recorded", 1, sample("health.termination.recorded", "HB-1", gestation_weeks=16, medical_indication=None)))
    walk(api, case.id, [("triage", {"category": "two_illegals", "priority": "urgent"}), ("assign", {"assignee": "ZF-011"}),
                        ("joint-operations", {"agency": "police", "purpose": "联合调查"}),
                        ("conclusion", {"substantiated": False, "findings": "未查实"}), ("close", {})])

    response = api.post(f"/cases/{case.id}/agency-responses", json={"officer": OFFICER, "agency": "police", "response": "已立案侦查"})

    assert response.status_code == 409 and response.json()["detail"][0]["field"] == "status"
    assert api.get(f"/cases/{case.id}").json()["joint_operations"][0]["status"] == "requested"


def test_a_repeat_signal_on_a_closed_case_reopens_it_as_events_on_the_stream(store, accepted, sample, detection, api):
    on_termination = termination_decider(detection)
    [case] = decide(store, on_termination, accepted("health.termination.recorded", 1, sample("health.termination.recorded", "HB-1", gestation_weeks=16, medical_indication=None)))
    walk(api, case.id, [("triage", {"category": "two_illegals", "priority": "urgent"}), ("assign", {"assignee": "ZF-011"}),
                        ("conclusion", {"substantiated": False, "findings": "未查实"}), ("close", {})])

    decide(store, on_termination, accepted("health.termination.recorded", 2, sample("health.termination.recorded", "HB-2", gestation_weeks=18, medical_indication=None)))

    shown = api.get(f"/cases/{case.id}").json()
    assert shown["status"] == "reopened" and shown["reopen_reasons"] == [SIGNAL_AFTER_CLOSURE] and shown["conclusion"] is None
    last = [(m.subject, json.loads(m.body)["payload"]) for m in stream(store)][-2:]
    assert [s for s, _ in last] == ["fp.enforcement.case.signal_joined", "fp.enforcement.case.reopened"]
    assert last[1][1]["status"] == "reopened" and last[1][1]["officer"] is None, "reopened by the signal, not by an officer"


def test_the_teams_durable_is_provisioned_with_the_platform_but_not_pulled_by_the_service():
    from cli.platform import ALL_CONSUMERS

    assert TEAM_CONSUMER in ALL_CONSUMERS and TEAM_CONSUMER not in PULLED
    assert (TEAM_CONSUMER.stream, TEAM_CONSUMER.durable, TEAM_CONSUMER.filter_subjects) == ("FP_ENFORCEMENT", "enforcement-team", ("fp.enforcement.case.>",))


def test_reading_a_health_detail_is_logged_under_the_record_read_not_the_whole_batch(accepted, sample, protector):
    message = accepted("health.termination.recorded", 1, sample("health.termination.recorded", "HB-1", gestation_weeks=16, medical_indication=None))
    token = read_event(message.body).payload.data["gestation_weeks"]
    capture = structlog.testing.LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    try:
        with structlog.contextvars.bound_contextvars(correlation_id=["HL-ANON-TIP-1", "HB-1"], causation_id=["intake-1", "intake-2"]):
            weeks = revealer(protector)(token, "late_termination_without_indication", "intake-2")
    finally:
        structlog.reset_defaults()

    [line] = capture.entries
    assert weeks == 16 and line["event"] == "personal_data_read"
    assert (line["correlation_id"], line["causation_id"]) == ("intake-2", "intake-2"), "an anonymous tip handled in the same batch is not named"
    assert set(line) == {"event", "log_level", "by", "field", "subject", "purpose", "correlation_id", "causation_id"}, "the value read is never logged"
