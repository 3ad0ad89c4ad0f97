"""`fpb up --demo`: county officers work the demo applications over HTTP, so that every
kind shows every state: awaiting a decision, information requested, withdrawn,
approved, refused, published, certificate issued, and revoked after an enforcement
case. Steps are dated a few days after the county received the report, never in the
future: the demo's applications arrive as it runs (cli/demo/applications.py), so most
steps fall on the day itself, and what is left open runs on its statutory clock.

A revocation names an enforcement case that proved the falsification: the Enforcement
Brigade opens one by hand (enforcement's POST /cases), triages and assigns it, records
evidence and concludes it as substantiated, and revokes once verification has heard of
the conclusion. Every step the services refuse stops the demo with their answer
(`DemoDriveError`): a demo that quietly skipped a step would not show what it claims.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx

from cli.demo.cases_driver import DemoDriveError

CHINA = timezone(timedelta(hours=8))
# Officers of the owning sections: a clerk checks and asks, a chief decides.
SECTION_CODES = {"法规科": "FG", "县直科": "XZ", "扶助中心": "FZ"}
ENFORCEMENT_OFFICER = {"id": "ZF-03", "section": "执法大队"}
SUPPORTING = ["结婚证", "户口簿", "出生医学证明", "病残儿医学鉴定证明", "再婚结婚证", "离婚证明"]
# What happens to the n-th application of a kind (cycled): enough of each for every state.
PLAN = ("full", "leave", "ask", "withdraw", "decide", "publish", "full", "revoke", "full", "full")
# The states the demo leaves applications of every kind in (tests check each kind shows each).
DEMO_STATES = frozenset({"checked", "information_requested", "withdrawn", "approved", "refused", "published", "certificate_issued", "revoked"})
# an application's row -> the number of a case enforcement concluded as substantiated on it
OpenCase = Callable[[dict[str, Any]], str]


def checked(response: httpx.Response, expected: int = 200) -> dict[str, Any]:
    """The service's answer, or DemoDriveError carrying it."""
    if response.status_code != expected:
        raise DemoDriveError(f"演示申请操作失败 / demo step refused: {response.request.method} {response.request.url.path} → "
                             f"HTTP {response.status_code}: {response.text}")
    return response.json()


def enforcement_cases(enforcement_url: str, today: date, client: httpx.Client | None = None, auth: httpx.Auth | None = None) -> OpenCase:
    """For an application found falsified, the Enforcement Brigade opens a case by hand (category
    证件办理) and works it to a conclusion that the falsification is substantiated."""

    def open_case(row: dict[str, Any]) -> str:
        with nullcontext(client) if client is not None else httpx.Client(base_url=enforcement_url, timeout=30, auth=auth) as http:
            case = checked(http.post("/cases", json={
                "officer": ENFORCEMENT_OFFICER, "reference": f"DEMO-{row['application_id']}", "category": "certificate_service",
                "township_code": row.get("township_code"), "summary": "群众举报申请材料系伪造，立案核查", "received_on": today.isoformat()}), 201)
            for path, body in (
                ("triage", {"category": "certificate_service", "priority": "high"}),
                ("assign", {"assignee": "ZF-011"}),
                ("evidence", {"kind": "document", "description": f"调取申请 {row['application_id']} 的申请材料原件，经核对系伪造"}),
                ("conclusion", {"substantiated": True, "findings": "经调查，申请材料系伪造，举报属实，建议撤销审批决定。"}),
            ):
                checked(http.post(f"/cases/{case['case_id']}/{path}", json={"officer": ENFORCEMENT_OFFICER, **body}))
        return case["case_number"]

    return open_case


def officer(section: str, role: int) -> dict[str, str]:
    return {"id": f"{SECTION_CODES.get(section, 'XX')}-{role:02d}", "section": section}


def wait_for_applications(client: httpx.Client, timeout: float, settle: float = 3.0) -> list[dict[str, Any]]:
    """The applications verification has opened, once their number stops growing."""
    return rows_once_settled(client, "/applications", {}, timeout, settle)


def rows_once_settled(client: httpx.Client, path: str, params: dict[str, Any], timeout: float, settle: float = 3.0) -> list[dict[str, Any]]:
    """A listing's rows once their number has stopped growing for `settle` seconds
    (the demo's records are still flowing through intake), or as they are at the timeout."""
    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while True:
        rows = client.get(path, params=params).json()["rows"]
        if len(rows) != last:
            last, since = len(rows), time.monotonic()
        elif rows and time.monotonic() - since >= settle:
            return rows
        if time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


class FileWorker:
    def __init__(self, client: httpx.Client, today: date, open_case: OpenCase | None = None, timeout: float = 30.0) -> None:
        self.client, self.today, self.open_case, self.timeout = client, today, open_case, timeout

    def step(self, application_id: str, name: str, who: dict[str, str], on: date, **body: Any) -> dict[str, Any]:
        """One officer's step; DemoDriveError with the service's answer if it is refused."""
        return checked(self.client.post(f"/applications/{application_id}/{name}", json={"officer": who, "on": min(on, self.today).isoformat(), **body}))

    def fails(self, application_id: str) -> bool:
        findings = self.client.get(f"/applications/{application_id}").json()["findings"]
        return any(f["outcome"] == "fail" for f in findings)

    def work(self, row: dict[str, Any], plan: str) -> str:
        application_id, section = row["application_id"], row["section"]
        file = self.client.get(f"/applications/{application_id}").json()
        start = date.fromisoformat(file["submitted_on"])
        clerk, chief, publisher = officer(section, 1), officer(section, 2), officer(section, 4)
        if plan == "leave" or file["status"] != "checked":
            return file["status"]  # left open, or already worked (`fpb up --demo` again on the same data)
        blocking = [f for f in file["findings"] if f["outcome"] in ("fail", "missing")]
        if plan == "withdraw":
            return self.step(application_id, "withdraw", clerk, start + timedelta(days=3), reason="申请人书面申请撤回")["status"]
        if any(f["outcome"] == "missing" for f in blocking) or plan == "ask":
            asked = self.step(application_id, "request-information", clerk, start + timedelta(days=2),
                              items=[f["message"] for f in blocking if f["outcome"] == "missing"] or ["补充提交户口簿原件"])
            if plan == "ask":
                return asked["status"]
            file = self.step(application_id, "supply-information", clerk, start + timedelta(days=9), documents=SUPPORTING, note="申请人已补齐材料")
        failed = [f for f in file["findings"] if f["outcome"] in ("fail", "missing")]
        reasons = [{"rule": f["rule"], "message": f["message"]} for f in failed]
        decided = (self.step(application_id, "refuse", chief, start + timedelta(days=12), reasons=reasons) if failed
                   else self.step(application_id, "approve", chief, start + timedelta(days=12), note="经审核符合规定"))
        if plan == "decide" or (failed and plan != "publish"):
            return decided["status"]  # most refusals wait to be published with the period's list
        published = self.step(application_id, "publish", publisher, start + timedelta(days=14))
        if published["decision"]["outcome"] != "approved" or plan == "publish":
            return published["status"]
        issued = self.step(application_id, "issue-certificate", publisher, start + timedelta(days=16))
        if plan != "revoke" or self.open_case is None:
            return issued["status"]
        return self.revoke(application_id, self.open_case(row), start + timedelta(days=75))["status"]

    def revoke(self, application_id: str, case_number: str, on: date) -> dict[str, Any]:
        """Revokes naming the case, once verification has heard of its conclusion (case.concluded
        reaches it through the broker); any other refusal, or none heard in time, stops the demo."""
        deadline = time.monotonic() + self.timeout
        while True:
            response = self.client.post(f"/applications/{application_id}/revoke", json={
                "officer": ENFORCEMENT_OFFICER, "on": min(on, self.today).isoformat(), "reason": "经举报核查，申请材料系伪造",
                "enforcement_case": case_number})
            not_heard_yet = response.status_code in (409, 422) and response.json()["detail"][0]["field"] == "enforcement_case"
            if not not_heard_yet or time.monotonic() > deadline:
                return checked(response)
            time.sleep(0.5)


def drive_applications(verification_url: str, say: Callable[[str], Any] = print, today: date | None = None,
                       timeout: float = 120.0, client: httpx.Client | None = None, enforcement_url: str | None = None,
                       open_case: OpenCase | None = None, auth: httpx.Auth | None = None) -> dict[str, dict[str, int]]:
    """Work every demo application per PLAN; returns the count of states per kind.
    `client` replaces the HTTP client (tests pass an in-process one); cases for the
    revocations are opened and concluded in enforcement at `enforcement_url` (or by
    `open_case`); without either, nothing is revoked. A refused step raises
    DemoDriveError with the service's answer. `auth` logs each officer in (cli.tokens.DemoOfficers)."""
    states: dict[str, dict[str, int]] = {}
    today = today or datetime.now(CHINA).date()  # verification's "today": steps are dated in China time
    if open_case is None and enforcement_url:
        open_case = enforcement_cases(enforcement_url, today, auth=auth)
    with client or httpx.Client(base_url=verification_url, timeout=30, auth=auth) as http:
        rows = wait_for_applications(http, timeout)
        worker = FileWorker(http, today, open_case, timeout)
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for row in sorted(rows, key=lambda r: r["application_id"]):
            by_kind.setdefault(row["kind"], []).append(row)
        for kind, kind_rows in by_kind.items():
            # Flawed filings are refused (every other refusal published); the sound ones cycle through PLAN.
            flawed = [r for r in kind_rows if worker.fails(r["application_id"])]
            sound = [r for r in kind_rows if r not in flawed]
            plans = [(r, ("decide", "publish")[n % 2]) for n, r in enumerate(flawed)]
            plans += [(r, PLAN[n % len(PLAN)]) for n, r in enumerate(sound)]
            for row, plan in plans:
                status = worker.work(row, plan)
                states.setdefault(kind, {}).setdefault(status, 0)
                states[kind][status] += 1
        checked(http.post("/applications/warnings"))
    for kind, counts in sorted(states.items()):
        say(f"demo applications · {kind}: " + ", ".join(f"{status} {count}" for status, count in sorted(counts.items())))
    return states
