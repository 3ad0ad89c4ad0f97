"""Issue 5, end to end on the whole platform: health and drug feeds produce a
two-illegals signal; the case is worked over HTTP, shared with the police (redacted),
referred and closed; a petition breaches its deadline; an anonymous tip exposes its
source nowhere; a second honor-certificate application for a child who holds one
becomes, through verification, a falsification case."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta, timezone

import httpx
import nats
import pytest

from e2e_support import wait_for
from cli.platform import Platform
from cli.publishing import Outgoing, publish_records
from services.enforcement.adapters.tip_key import ANONYMOUS_TIP_KEY_FILE
from services.enforcement.domain.case import case_id_for
from shared.contracts.identity import make_resident_id
from tests.identity_support import platform_officers

CHINA = timezone(timedelta(hours=8))
TODAY = datetime.now(CHINA).date()
OFFICER = {"id": "ZF-001", "section": "执法大队"}  # a demo account (cli/demo/accounts.json)
PATIENT = make_resident_id("130132", date(1994, 6, 1), 8)
TIPSTER_PHONE = "13912345678"
ANONYMOUS_TIP_ID = "HL-E2E-ANON-1"


def envelope(source: str, kind: str, record_id: str, day: date, data: dict) -> Outgoing:
    body = {"record_id": record_id, "schema": f"county.{kind}/v1", "source": source, "occurred_at": f"{day.isoformat()}T10:00:00+08:00", "data": data}
    return Outgoing(subject=f"county.{kind}", record_id=record_id, body=json.dumps(body, ensure_ascii=False).encode())


def records() -> list[Outgoing]:
    scanned, terminated = TODAY - timedelta(days=20), TODAY - timedelta(days=10)
    out = [
        envelope("health", "health.ultrasound.recorded", "HB-E2E-U1", scanned, {"facility_id": "CLINIC-E2E", "operator_id": "OP-1", "patient_id_number": PATIENT, "gestation_weeks": 15, "performed_on": scanned.isoformat()}),
        envelope("health", "health.termination.recorded", "HB-E2E-T1", terminated, {"facility_id": "YSX-MCH-E2E", "patient_id_number": PATIENT, "gestation_weeks": 17, "medical_indication": None, "performed_on": terminated.isoformat()}),
    ]
    for n in range(4):
        day = TODAY - timedelta(days=8 - n)
        out.append(envelope("drug", "drug.sale.recorded", f"DA-E2E-{n}", day, {"outlet_id": "YD-E2E-01", "drug_code": "H10950347", "quantity": 2, "prescription_id": None, "buyer_id_number": None, "sold_at": f"{day.isoformat()}T15:00:00+08:00"}))
    received = TODAY - timedelta(days=150)
    out.append(envelope("petitions", "petitions.petition.received", "XF-E2E-1", received, {"petitioner_id_number": make_resident_id("130132", date(1958, 3, 14), 3), "township_code": "130132201", "subject": "特别扶助金未按时发放", "text": "请求核查。"}))
    out.append(envelope("hotline", "hotline.tip.received", ANONYMOUS_TIP_ID, TODAY, {"channel": "phone", "anonymous": True, "category": "two_illegals", "township_code": "130132203", "text": f"我是举报人，电话{TIPSTER_PHONE}，某诊所做胎儿性别鉴定。"}))
    return out


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    running = Platform(tmp_path_factory.mktemp("enforcement-e2e"))
    running.start()
    try:
        results = asyncio.run(publish_records(running.nats_url, records(), receipt_timeout=60, credentials=running.credentials))
        assert all(r.receipt and r.receipt["accepted"] for r in results), [r.receipt for r in results]
        yield running, {r.outgoing.record_id: r.receipt["submission_id"] for r in results}
    finally:
        running.stop()


@pytest.fixture(scope="module")
def enforcement(platform) -> httpx.Client:
    client = httpx.Client(base_url=platform[0].services["enforcement"].url, timeout=30, auth=platform_officers(platform[0], "ZF-001"))
    wait_for(lambda: len(client.get("/cases").json()["cases"]) >= 5)
    yield client
    client.close()


def cases_by_origin(client: httpx.Client) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for case in client.get("/cases").json()["cases"]:
        grouped.setdefault(case["origin"], []).append(case)
    return grouped


async def stream_messages(running: Platform, subject: str, stream: str = "FP_ENFORCEMENT", with_headers: bool = False) -> list[tuple]:
    """Every message of the stream on `subject`, read as the auditor's tool reads them (its own NKey)."""
    connection = await nats.connect(running.nats_url, **running.credentials["auditor"].connect_options())
    try:
        js = connection.jetstream()
        info = await js.stream_info(stream)
        subscription = await js.subscribe(subject, ordered_consumer=True)
        messages = []
        try:
            while True:
                message = await subscription.next_msg(timeout=2)
                messages.append((message.subject, json.loads(message.data), *([message.headers] if with_headers else [])))
                if message.metadata.sequence.stream >= info.state.last_seq:
                    break
        except nats.errors.TimeoutError:
            pass
        return messages
    finally:
        await connection.close()


def test_the_health_and_drug_feeds_open_two_illegals_cases_with_their_evidence(enforcement):
    signals = {c["case_number"]: enforcement.get(f"/cases/{c['case_id']}").json() for c in cases_by_origin(enforcement)["signal"]}
    by_subject = {tuple(sorted(c["subjects"].items())): c for c in signals.values()}

    late = by_subject[(("facility_id", "YSX-MCH-E2E"),)]
    outlet = by_subject[(("outlet_id", "YD-E2E-01"),)]
    scan = by_subject[(("facility_id", "CLINIC-E2E"), ("operator_id", "OP-1"))]
    assert [s["pattern"] for s in late["signals_detail"]] == ["late_termination_without_indication"]
    assert [s["pattern"] for s in scan["signals_detail"]] == ["ultrasound_then_termination"]
    assert [s["pattern"] for s in outlet["signals_detail"]] == ["unprescribed_termination_drug_sale"] * 4 + ["outlet_unprescribed_sales_over_threshold"]
    assert all(e.startswith("intake-") for s in late["signals_detail"] for e in s["evidence"])
    assert PATIENT not in json.dumps(signals, ensure_ascii=False), "people appear only as person_refs"


def test_a_signal_case_is_shared_with_the_police_redacted_then_referred_and_closed(platform, enforcement):
    running, _ = platform
    [case] = [c for c in cases_by_origin(enforcement)["signal"] if enforcement.get(f"/cases/{c['case_id']}").json()["subjects"] == {"facility_id": "YSX-MCH-E2E"}]
    ref = case["case_number"]
    evidence = enforcement.get(f"/cases/{ref}").json()["signals_detail"][0]["evidence"]
    steps = [
        ("triage", {"category": "two_illegals", "priority": "urgent"}),
        ("assign", {"assignee": "ZF-011"}),
        ("evidence", {"kind": "linked_fact", "description": "终止妊娠记录，孕17周，无医学指征", "linked_event_ids": evidence}),
        ("fees", {"kind": "assessed", "amount": "30000.00", "decision_no": "元计征〔2026〕1号", "on": TODAY.isoformat()}),
        ("joint-operations", {"agency": "police", "purpose": "联合调查非医学需要终止妊娠"}),
        ("agency-responses", {"agency": "police", "response": "已立案侦查"}),
        ("referrals", {"target": "judicial", "authority": "元氏县公安局", "reason": "涉嫌非法行医罪"}),
        ("conclusion", {"substantiated": True, "findings": "查实该院违规实施大月份引产"}),
        ("close", {}),
    ]
    for path, body in steps:
        response = enforcement.post(f"/cases/{ref}/{path}", json={"officer": OFFICER, **body})
        assert response.status_code == 200, (path, response.text)
    assert enforcement.get(f"/cases/{ref}").json()["status"] == "closed"

    police_view = enforcement.get(f"/cases/{ref}/shared/police").json()
    assert police_view["person_refs"] and "fees" not in police_view and "summary" not in police_view
    shared = wait_for(lambda: asyncio.run(stream_messages(running, "fp.enforcement.shared.police")))
    [(_, message)] = [m for m in shared if m[1]["payload"]["case_number"] == ref]
    assert set(message["payload"]["view"]) == set(message["payload"]["fields"])
    assert "30000" not in json.dumps(message)
    history = enforcement.get(f"/history/{case['case_id']}").json()
    [disclosed] = [e for e in history["events"] if e["type"] == "Case.Disclosed"]
    assert disclosed["data"]["agency"] == "police" and disclosed["data"]["officer"] == "ZF-001"
    changes = wait_for(lambda: [s for s, m in asyncio.run(stream_messages(running, "fp.enforcement.case.>")) if m["payload"]["case_number"] == ref and s.endswith(".closed")])
    assert changes == ["fp.enforcement.case.closed"]


def test_a_petition_past_its_statutory_deadline_shows_as_overdue(platform, enforcement):
    [petition] = cases_by_origin(enforcement)["petition"]
    due = date.fromisoformat(petition["due_on"])

    assert due < TODAY
    overdue = enforcement.get("/cases/overdue").json()["overdue"]
    assert [c["case_number"] for c in overdue] == [petition["case_number"]]
    assert enforcement.get("/cases/overdue", params={"as_of": (due - timedelta(days=20)).isoformat()}).json()["overdue"] == []
    refused = enforcement.post("/deadlines/check")  # an enforcement officer does not run the sweep
    raised = enforcement.post("/deadlines/check", auth=platform_officers(platform[0], "ops")).json()["raised"]
    assert refused.status_code == 403 and "deadlines.sweep" in refused.text
    alerts = {r["alert"] for r in raised} | set(enforcement.get(f"/cases/{petition['case_id']}").json()["deadline_alerts"])
    assert alerts == {"nearing", "breached"}


def test_an_anonymous_tip_exposes_its_source_in_no_read_model_log_or_stream(platform, enforcement):
    running, submissions = platform
    [tip] = cases_by_origin(enforcement)["hotline_tip"]
    secrets = (TIPSTER_PHONE, ANONYMOUS_TIP_ID, submissions[ANONYMOUS_TIP_ID], "举报人")
    reporting = running.services["reporting"].url

    wait_for(lambda: any(r["case_id"] == tip["case_id"] for r in httpx.get(f"{reporting}/reports/cases", auth=platform_officers(running, "sj-auditor")).json()["rows"]))
    tips_listed = wait_for(lambda: httpx.get(f"{reporting}/reports/submissions/records", params={"kind": "hotline.tip.received"}, auth=platform_officers(running, "sj-auditor")).json()["rows"])
    seen = [
        json.dumps(tips_listed, ensure_ascii=False),
        json.dumps(enforcement.get("/cases").json(), ensure_ascii=False),
        json.dumps(enforcement.get(f"/cases/{tip['case_id']}").json(), ensure_ascii=False),
        json.dumps(enforcement.get(f"/history/{tip['case_id']}").json(), ensure_ascii=False),
        json.dumps(httpx.get(f"{reporting}/reports/cases", auth=platform_officers(running, "sj-auditor")).json(), ensure_ascii=False),
        json.dumps(asyncio.run(stream_messages(running, "fp.enforcement.>")), ensure_ascii=False),
        *((running.data_dir / "logs" / f"{service}.log").read_text(encoding="utf-8") for service in ("enforcement", "reporting", "verification")),
    ]
    assert tip["anonymous"] is True and tip["case_number"] in seen[1]
    assert [row["record_id"] for row in tips_listed] == [""], "the tip is listed (it counts) but names no record"
    for text in seen:
        for secret in secrets:
            assert secret not in text
    # intake's own stream names the submission (it is intake's), never the call record, not even in headers
    accepted = json.dumps(asyncio.run(stream_messages(running, "fp.intake.accepted.hotline.>", "FP_INTAKE", with_headers=True)), ensure_ascii=False)
    assert submissions[ANONYMOUS_TIP_ID] in accepted
    for secret in (TIPSTER_PHONE, ANONYMOUS_TIP_ID, "举报人"):
        assert secret not in accepted
    public = case_id_for("hotline_tip", submissions[ANONYMOUS_TIP_ID])
    assert tip["case_id"] != str(public) and public.hex[:8].upper() not in tip["case_number"], "the submission id does not lead to the case"
    # the key those case ids are hashed under is not in the key directory intake is given
    assert (running.data_dir / "keys-enforcement" / ANONYMOUS_TIP_KEY_FILE).is_file()
    assert not (running.data_dir / "keys" / ANONYMOUS_TIP_KEY_FILE).exists()


def honor_application(n: int, child: str) -> Outgoing:
    """Couple n's township asks for an only-child honor certificate for `child` (complete and valid)."""
    parents = [make_resident_id("130132", date(TODAY.year - 33, 4, n), 2 * n), make_resident_id("130132", date(TODAY.year - 35, 4, n), 2 * n + 1)]
    details = {"child": {"name": "赵一诺", "sex": "F", "birth_date": date(TODAY.year - 5, 3, 1).isoformat(), "id_number": child},
               "household_type": "urban", "commitment": "夫妻双方自愿终身只生育一个子女", "documents": ["户口簿", "出生医学证明"]}
    data = {"application_id": f"APP-E2E-OC-{n}", "kind": "only_child_honor_certificate", "applicant_id_number": parents[0],
            "spouse_id_number": parents[1], "received_on": (TODAY - timedelta(days=2)).isoformat(), "details": details}
    message = {"record_id": f"TS-E2E-OC-{n}", "schema": "township.application.submitted/v1", "source": "township",
               "occurred_at": datetime.now(CHINA).isoformat(timespec="seconds"), "data": data}
    return Outgoing(subject="township.130132104.application.submitted", record_id=message["record_id"], body=json.dumps(message, ensure_ascii=False).encode())


def test_a_second_application_for_a_child_who_holds_the_certificate_becomes_a_falsification_case(platform, enforcement):
    running, _ = platform
    child = make_resident_id("130132", date(TODAY.year - 5, 3, 1), 21)
    published = asyncio.run(publish_records(running.nats_url, [honor_application(n, child) for n in (1, 2)], receipt_timeout=60,
                                            credentials=running.credentials))
    assert all(r.receipt and r.receipt["accepted"] for r in published), [r.receipt for r in published]
    first, second = "APP-E2E-OC-1", "APP-E2E-OC-2"
    verification = httpx.Client(base_url=running.services["verification"].url, timeout=30, auth=platform_officers(running, "XZ-02"))

    def officer(officer_id: str) -> dict:
        return {"officer": {"id": officer_id, "section": "县直科"}}

    files = {a: wait_for(lambda a=a: (r := verification.get(f"/applications/{a}")).status_code == 200 and r.json()) for a in (first, second)}
    assert all(f["status"] == "checked" and not [x for x in f["findings"] if x["outcome"] in ("fail", "missing")] for f in files.values()), files
    for name, officer_id in (("approve", "XZ-02"), ("publish", "XZ-04"), ("issue-certificate", "XZ-04")):
        response = verification.post(f"/applications/{first}/{name}", json=officer(officer_id))
        assert response.status_code == 200, (name, response.text)
    refused = verification.post(f"/applications/{second}/approve", json=officer("XZ-02"))
    assert refused.status_code == 409 and first in refused.text, refused.text

    cases = wait_for(lambda: enforcement.get("/cases", params={"category": "falsification"}).json()["cases"])
    case = enforcement.get(f"/cases/{cases[0]['case_id']}").json()
    [signal] = [m for _, m in asyncio.run(stream_messages(running, "fp.verification.application.falsification_signal", "FP_VERIFICATION"))]
    accepted = {m["payload"]["submission_id"]: m["event_id"] for _, m in asyncio.run(stream_messages(running, "fp.intake.accepted.township.>", "FP_INTAKE"))}
    submitted = {r.outgoing.record_id: accepted[r.receipt["submission_id"]] for r in published}

    assert [c["case_number"] for c in cases] == [case["case_number"]], "one case, for the application that asked again"
    assert (case["origin"], case["category"], case["section"], case["subjects"]) == ("signal", "falsification", "执法大队", {"application_id": second})
    [recorded] = case["signals_detail"]
    assert (recorded["pattern"], recorded["application_id"], recorded["signal_id"]) == ("certificate_already_held", second, signal["payload"]["signal_id"])
    assert recorded["evidence"] == signal["payload"]["evidence"] == [submitted["TS-E2E-OC-2"], submitted["TS-E2E-OC-1"]], "the two applications' intake events"
    assert child not in json.dumps(case, ensure_ascii=False), "the child appears only as a person_ref"
    verification.close()
