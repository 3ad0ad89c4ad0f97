"""After the demo records: officers of the Enforcement Brigade and the Petitions Section
work the cases over the enforcement service's HTTP API, so the demo shows cases in
every state (opened, triaged, assigned, investigating, referred, concluded, closed,
reopened), joint operations with the police, health and drug regulators, fee records,
an administrative review opened by hand, and petitions past their deadline."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date
from typing import Any

import httpx

BRIGADE = {"id": "ZF-001", "section": "执法大队"}
PETITIONS = {"id": "XF-001", "section": "信访科"}
INVESTIGATORS = ("ZF-011", "ZF-012", "ZF-015", "ZF-021")
# How far along each case is driven, in turn: every state appears.
STAGES = ("opened", "triaged", "assigned", "investigating", "joint", "referred", "concluded", "closed", "reopened", "fees")


def wait_for_cases(client: httpx.Client, settle_seconds: float = 3.0, timeout: float = 180.0) -> list[dict[str, Any]]:
    """The cases, once enforcement has caught up with the demo records (the count settles)."""
    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        cases = client.get("/cases").json()["cases"]
        if len(cases) != last:
            last, since = len(cases), time.monotonic()
        elif cases and time.monotonic() - since >= settle_seconds:
            return cases
        time.sleep(0.5)
    return client.get("/cases").json()["cases"]


class DemoDriveError(RuntimeError):
    """The enforcement service refused an officer's step: the demo would not show what it claims."""


def checked(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise DemoDriveError(f"演示案件操作失败 / demo step refused: {response.request.method} {response.request.url.path} → HTTP {response.status_code}: {response.text}")
    return response


def poster(client: httpx.Client) -> Callable[..., httpx.Response]:
    """post(case, path, officer, **body): one officer step, raising on any HTTP error."""
    return lambda case, path, officer, **body: checked(client.post(f"/cases/{case['case_id']}/{path}", json={"officer": officer, **body}))


def drive_cases(enforcement_url: str, say: Callable[[str], None] = print, seed: int = 2026, client: httpx.Client | None = None,
                settle_seconds: float = 3.0, auth: httpx.Auth | None = None) -> dict[str, int]:
    """Drive realistic officer actions; returns how many cases end in each status.
    `client` lets a test drive an in-process service; `auth` logs each officer in (cli.tokens.DemoOfficers)."""
    rng = random.Random(seed)
    with nullcontext(client) if client is not None else httpx.Client(base_url=enforcement_url, timeout=30, auth=auth) as http:
        cases = wait_for_cases(http, settle_seconds)
        post = poster(http)
        for n, case in enumerate(sorted(cases, key=lambda c: c["case_number"])):
            stage = STAGES[n % len(STAGES)]
            if case["origin"] == "petition" and n % 3 == 0:
                stage = "opened"  # left unanswered: shows in the overdue list
            _drive(case, stage, post, rng)
        review = {"reference": "FY-DEMO-001", "category": "administrative_review", "township_code": "130132203",
                  "summary": "当事人对社会抚养费征收决定不服，向县政府申请行政复议，要求本局答复。", "received_on": date.today().isoformat()}
        checked(http.post("/cases", json={"officer": BRIGADE, **review}))
        tally: dict[str, int] = {}
        for case in checked(http.get("/cases")).json()["cases"]:
            tally[case["status"]] = tally.get(case["status"], 0) + 1
        overdue = len(checked(http.get("/cases/overdue")).json()["overdue"])
    say("demo cases: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())) + f"; {overdue} past their deadline")
    return tally


def _drive(case: dict[str, Any], stage: str, post: Callable[..., httpx.Response], rng: random.Random) -> None:
    petition = case["origin"] == "petition"
    officer = PETITIONS if petition else BRIGADE
    order = STAGES.index(stage)
    if order < 1:
        return
    category = case["category"] if case["category"] != "other" else "official_misconduct"
    post(case, "triage", officer, category=category, priority=rng.choice(("normal", "high", "urgent") if case["origin"] == "signal" else ("low", "normal", "high")))
    if order < 2:
        return
    post(case, "assign", officer, assignee=rng.choice(INVESTIGATORS))
    if order < 3:
        return
    post(case, "evidence", officer, kind="document", description="调取相关机构登记台账及收费票据复印件")
    post(case, "evidence", officer, kind="statement", description="对相关人员制作询问笔录一份")
    if stage == "fees":
        post(case, "fees", officer, kind="assessed", amount="23456.00", decision_no=f"元计征〔{case['opened_on'][:4]}〕{rng.randint(1, 80)}号", on=case["opened_on"])
        post(case, "fees", officer, kind="paid", amount="10000.00", decision_no="分期缴纳第一期", on=case["opened_on"])
        return
    if order < 4:
        return
    if case["origin"] == "signal" or case["category"] == "two_illegals":
        post(case, "joint-operations", officer, agency="police", purpose="两非案件联合调查：核实当事人身份及出生登记")
        post(case, "joint-operations", officer, agency="health", purpose="核查B超及终止妊娠手术登记")
        post(case, "agency-responses", officer, agency="police", response="已核实出生登记信息，未发现异常户籍变更")
    if order < 5:
        return
    if stage in ("referred", "closed", "reopened") and not petition:
        target = "discipline" if case["category"] in ("official_misconduct", "subsidy_fraud") else "judicial"
        authority = "县纪委监委" if target == "discipline" else "元氏县公安局"
        post(case, "referrals", officer, target=target, authority=authority, reason="案件事实清楚，涉嫌违法犯罪，依法移送")
    if order < 6:
        return
    substantiated = rng.random() < 0.6
    findings = "经调查，举报反映问题基本属实，已责令整改。" if substantiated else "经调查核实，举报反映问题不属实。"
    post(case, "conclusion", officer, substantiated=substantiated, findings=findings)
    if order < 7:
        return
    post(case, "close", officer)
    if stage == "reopened":
        post(case, "reopen", officer, reason="当事人提出新的证据，依法重新调查")
