"""Each kind of application from a township's publish to an issued (or refused)
certificate, on the platform started as a user starts it (`fpb up`), driven through
`fpb publish`, the officers' HTTP commands, `fpb certificate verify` and `fpb history`; a
revocation names a case the Enforcement Brigade opened in enforcement and concluded as
substantiated (refused before)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from shared.contracts.identity import make_resident_id

FPB = str(sys.executable).replace("/python", "/fpb")
CHINA = timezone(timedelta(hours=8))
TODAY = datetime.now(CHINA).date()
RECEIVED = TODAY - timedelta(days=2)


# The officers' HTTP client: each request logs in as the demo account its body names (the
# `platform` fixture makes the accounts in the platform's own OpenID provider; one platform
# for the module), else as the auditor.
HTTP: list[httpx.Client] = []
OFFICER_IDS = {"法规科": "FG", "县直科": "XZ"}  # demo accounts FG-01/02/04, XZ-01/02/04 (cli/demo/accounts.json)


def http() -> httpx.Client:
    return HTTP[0]


def fpb(*args: str, data_dir, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([FPB, *args, "--data-dir", str(data_dir)], input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "250"}, check=False)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("fpb-applications")
    log = (data_dir / "up.out").open("w+")  # the platform writes to it until the module ends
    process = subprocess.Popen([FPB, "up", "--data-dir", str(data_dir)], stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while "Press Ctrl-C to stop." not in (data_dir / "up.out").read_text():
        assert process.poll() is None, (data_dir / "up.out").read_text()
        assert time.monotonic() < deadline, "fpb up did not start"
        time.sleep(0.3)
    from cli.tokens import DemoOfficers
    from cli.users import create_demo_accounts

    endpoints = json.loads((data_dir / "endpoints.json").read_text())
    create_demo_accounts(endpoints["identity_store"], data_dir / "demo-accounts.json")
    HTTP[:] = [httpx.Client(timeout=30, auth=DemoOfficers.for_demo(data_dir, default="sj-auditor"))]
    yield data_dir, endpoints["services"]["verification"]
    HTTP.pop().close()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def person(birth: date, sex: str, n: int) -> str:
    return make_resident_id("130132", birth, 2 * n + (1 if sex == "M" else 0))


def years_ago(years: int, n: int = 0) -> date:
    return date(TODAY.year - years, 3, 1 + n)


APPLICATIONS = {
    "rebirth_approval": {
        "existing_children": [{"name": "李思琪", "sex": "F", "birth_date": years_ago(8).isoformat(), "status": "healthy"}],
        "reason": "家庭经济条件较好，希望再生育一个孩子",  # no ground the rules accept: refused (RB-3)
        "documents": [], "submitted_by": {"id": "TS130132104-01"},
    },
    "first_child_registration": {
        "marriage_registered_on": (TODAY - timedelta(days=300)).isoformat(), "household_type": "urban", "documents": ["结婚证", "户口簿"],
    },
    "only_child_honor_certificate": {
        "child": {"name": "李一诺", "sex": "F", "birth_date": years_ago(5).isoformat(), "id_number": person(years_ago(5), "F", 40)},
        "household_type": "urban", "commitment": "夫妻双方自愿终身只生育一个子女", "documents": ["户口簿"],  # 出生医学证明 missing
    },
    "exam_bonus_qualification": {
        "student_name": "李梓豪", "student_id_number": person(years_ago(18), "M", 41), "exam": "gaokao",
        "household_type": "rural", "form": "河北省农村独生子女审定表", "exam_year": TODAY.year + 1,
    },
}
SECTION = {"rebirth_approval": "法规科", "exam_bonus_qualification": "法规科"}


def publish_applications(data_dir) -> None:
    lines = []
    for n, (kind, details) in enumerate(APPLICATIONS.items(), start=1):
        data = {"application_id": f"APP-E2E-{n}", "kind": kind, "applicant_id_number": person(years_ago(33, n), "F", n),
                "spouse_id_number": person(years_ago(35, n), "M", n), "received_on": RECEIVED.isoformat(), "details": details}
        message = {"record_id": f"TS-E2E-{n}", "schema": "township.application.submitted/v1", "source": "township",
                   "occurred_at": datetime.now(CHINA).isoformat(timespec="seconds"), "data": data}
        lines.append(json.dumps({"subject": "township.130132104.application.submitted", "message": message}, ensure_ascii=False))
    result = fpb("publish", "-", data_dir=data_dir, stdin="\n".join(lines))
    assert result.returncode == 0, result.stdout + result.stderr


def wait_for(url: str, application_id: str) -> dict:
    deadline = time.monotonic() + 30
    while (response := http().get(f"{url}/applications/{application_id}")).status_code != 200:
        assert time.monotonic() < deadline, f"{application_id} was not opened"
        time.sleep(0.2)
    return response.json()


def step(url: str, application_id: str, name: str, officer: int, section: str, **body) -> dict:
    """The `officer`-th officer of the section takes the step (1 and 3: staff, 2: the head)."""
    officer_id = f"{OFFICER_IDS[section]}-0{4 if officer == 3 else officer}"
    response = http().post(f"{url}/applications/{application_id}/{name}", json={"officer": {"id": officer_id, "section": section}, **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_each_kind_goes_from_the_townships_publish_to_a_certificate_or_a_refusal(platform):
    data_dir, url = platform
    publish_applications(data_dir)
    outcomes = {}
    for n, kind in enumerate(APPLICATIONS, start=1):
        application_id, section = f"APP-E2E-{n}", SECTION.get(kind, "县直科")
        file = wait_for(url, application_id)
        assert file["status"] == "checked" and file["policy_version"] == "HB-2021-R1", "received by the county today"
        missing = [f for f in file["findings"] if f["outcome"] == "missing"]
        if missing:  # the honor certificate: the birth certificate is asked for, then supplied
            step(url, application_id, "request-information", 1, section, items=[f["message"] for f in missing])
            file = step(url, application_id, "supply-information", 1, section, documents=["出生医学证明"])
        failed = [f for f in file["findings"] if f["outcome"] == "fail"]
        decided = step(url, application_id, "refuse" if failed else "approve", 2, section)
        step(url, application_id, "publish", 3, section)
        if decided["status"] == "approved":
            file = step(url, application_id, "issue-certificate", 3, section)
        outcomes[kind] = file["status"] if decided["status"] == "approved" else decided["decision"]["reasons"][0]["rule"]
        if kind == "first_child_registration":
            verified = fpb("certificate", "verify", file["certificate"]["code"], data_dir=data_dir)
            assert verified.returncode == 0 and "GENUINE AND VALID" in verified.stdout and file["certificate"]["number"] in verified.stdout

    assert outcomes == {"rebirth_approval": "RB-3", "first_child_registration": "certificate_issued",
                        "only_child_honor_certificate": "certificate_issued", "exam_bonus_qualification": "certificate_issued"}
    unknown = fpb("certificate", "verify", "NOTACODE", data_dir=data_dir)
    assert unknown.returncode == 1 and "NOT GENUINE" in unknown.stdout


def test_the_history_as_of_a_moment_in_the_middle_shows_the_approval_but_not_yet_the_certificate(platform):
    data_dir, url = platform
    events = http().get(f"{url}/history/APP-E2E-3").json()["events"]
    assert [e["type"].removeprefix("ApplicationFile.") for e in events] == [
        "Opened", "DocumentsChecked", "InformationRequested", "InformationSupplied", "DocumentsChecked", "Approved", "Published", "CertificateIssued"]
    approved_at = next(e["timestamp"] for e in events if e["type"].endswith("Approved"))

    middle = fpb("history", "APP-E2E-3", "--as-of", approved_at, data_dir=data_dir)

    assert middle.returncode == 0, middle.stdout + middle.stderr
    assert "ApplicationFile.Approved" in middle.stdout and "CertificateIssued" not in middle.stdout
    state = http().get(f"{url}/history/APP-E2E-3", params={"as_of": approved_at}).json()["state"]
    assert state["status"] == "approved" and state["certificate"] is None and state["decision"]["rules"][0] == "C-1"


def revoke_until(url: str, body: dict, refused_while: int, timeout: float = 30) -> httpx.Response:
    """Revokes, retrying while verification answers `refused_while` on enforcement_case: it hears
    of enforcement's cases (case.opened, case.concluded) through the broker, a moment later."""
    deadline = time.monotonic() + timeout
    while (answer := http().post(f"{url}/applications/APP-E2E-4/revoke", json=body)).status_code == refused_while:
        assert answer.json()["detail"][0]["field"] == "enforcement_case", answer.text
        if time.monotonic() > deadline:
            return answer
        time.sleep(0.3)
    return answer


def test_a_certificate_revoked_after_an_enforcement_case_is_reported_as_not_valid(platform):
    data_dir, url = platform
    code = http().get(f"{url}/applications/APP-E2E-4").json()["certificate"]["code"]
    officer = {"id": "ZF-03", "section": "执法大队"}
    revoke = {"officer": officer, "reason": "户籍证明系伪造"}
    unknown = http().post(f"{url}/applications/APP-E2E-4/revoke", json={**revoke, "enforcement_case": "ZF-2026-00E2E004"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "enforcement_case", unknown.text
    enforcement = json.loads((data_dir / "endpoints.json").read_text())["services"]["enforcement"]
    opened = http().post(f"{enforcement}/cases", json={"officer": officer, "reference": "E2E-REVOKE-4", "category": "certificate_service",
                                                      "township_code": "130132104", "summary": "举报户籍证明系伪造，立案核查", "received_on": TODAY.isoformat()})
    assert opened.status_code == 201, opened.text
    case_id, case_number = opened.json()["case_id"], opened.json()["case_number"]

    not_concluded = revoke_until(url, {**revoke, "enforcement_case": case_number}, refused_while=422)
    assert not_concluded.status_code == 409, not_concluded.text
    assert "not concluded yet" in not_concluded.json()["detail"][0]["message"], "an open case proves nothing yet"
    for path, body in (("triage", {"category": "certificate_service", "priority": "high"}), ("assign", {"assignee": "ZF-011"}),
                       ("evidence", {"kind": "document", "description": "调取户籍证明原件，经公安机关核对系伪造"}),
                       ("conclusion", {"substantiated": True, "findings": "经调查，户籍证明系伪造，举报属实"})):
        step_answer = http().post(f"{enforcement}/cases/{case_id}/{path}", json={"officer": officer, **body})
        assert step_answer.status_code == 200, step_answer.text
    revoked = revoke_until(url, {**revoke, "enforcement_case": case_number}, refused_while=409)
    assert revoked.status_code == 200 and revoked.json()["revocation"]["enforcement_case"] == case_number, revoked.text

    verified = fpb("certificate", "verify", code, data_dir=data_dir)

    assert verified.returncode == 1 and "GENUINE BUT NOT VALID" in verified.stdout and "户籍证明系伪造" in verified.stdout
