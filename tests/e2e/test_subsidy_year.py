"""Issue 4, end to end on the whole platform: a full year of reward and special assistance
for one township (赵同乡). Enrolment and confirmation, the year's cycles, a death
reported while the payments are approved but not yet sent (withheld), a death reported
only after the money went out (冒领 signal), a bank return and reissue, a follow-up
shortfall (克扣 signal); then the payments, the signals and the enforcement cases they
opened (linked both ways), the reconciled totals in verification and in reporting, and
one payment's history as an auditor reconstructs it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from e2e_support import wait_for
from cli.platform import Platform
from cli.publishing import Outgoing, publish_records
from shared.contracts.identity import make_resident_id
from tests.identity_support import platform_officers

CHINA = timezone(timedelta(hours=8))
YEAR = datetime.now(CHINA).year - 1  # a past year: every step's day is in the past
TOWNSHIP = "130132201"
FPB = str(sys.executable).replace("/python", "/fpb")
CREATOR, APPROVER, FINANCE = ({"id": "FZ-01", "section": "扶助中心"}, {"id": "FZ-02", "section": "扶助中心"},
                              {"id": "CW-01", "section": "财务科"})


def resident(birth: date, sex: str, n: int) -> str:
    return make_resident_id("130132", birth, 2 * n + (1 if sex == "M" else 0))


# name -> (program, id number, reason)
PEOPLE = {
    "paid": ("reward", resident(date(1950, 2, 1), "M", 1), {"type": "only_child", "household_type": "rural", "living_children": 1}),
    "dies_after_payment": ("reward", resident(date(1951, 3, 2), "F", 2), {"type": "two_daughters", "household_type": "rural", "living_children": 2}),
    "short_changed": ("reward", resident(date(1952, 4, 3), "M", 3), {"type": "only_child", "household_type": "rural", "living_children": 1}),
    "dies_before_payment": ("reward", resident(date(1949, 5, 4), "F", 4), {"type": "only_child", "household_type": "rural", "living_children": 1}),
    "urban": ("reward", resident(date(1953, 6, 5), "M", 5), {"type": "only_child", "household_type": "urban", "living_children": 1}),
    "bereaved_mother": ("special", resident(date(1968, 7, 6), "F", 6), {"type": "only_child_died", "household_type": "rural", "living_children": 0, "child_died_on": f"{YEAR - 3}-08-09"}),
}


def envelope(subject: str, record_id: str, day: date, data: dict) -> Outgoing:
    source = "township" if subject.startswith("township.") else subject.split(".")[1]
    schema = ".".join(subject.split(".")[:1] + subject.split(".")[2:]) if source == "township" else subject
    body = {"record_id": record_id, "schema": f"{schema}/v1", "source": source, "occurred_at": f"{day.isoformat()}T10:00:00+08:00", "data": data}
    return Outgoing(subject=subject, record_id=record_id, body=json.dumps(body, ensure_ascii=False).encode())


def report(name: str, n: int) -> Outgoing:
    program, id_number, reason = PEOPLE[name]
    data = {"program": program, "id_number": id_number, "name": f"受益人{n}", "birth_date": f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
            "reason": reason, "year": YEAR}
    return envelope(f"township.{TOWNSHIP}.beneficiary.reported", f"E2E-SUB-B{n}", date(YEAR, 3, 1 + n), data)


def death(name: str, died_on: date, reported_on: date) -> Outgoing:
    return envelope("county.health.death.reported", f"E2E-SUB-D-{name}", reported_on, {"id_number": PEOPLE[name][1], "died_on": died_on.isoformat()})


def followup(payment: dict, confirmed: str, n: int) -> Outgoing:
    data = {"payment_id": payment["payment_id"], "method": "visit", "amount_confirmed": confirmed, "visited_on": f"{YEAR}-09-1{n}", "notes": "入户回访"}
    return envelope(f"township.{TOWNSHIP}.followup.recorded", f"E2E-SUB-F{n}", date(YEAR, 9, 10 + n), data)


def publish(platform: Platform, *records: Outgoing) -> None:
    results = asyncio.run(publish_records(platform.nats_url, list(records), receipt_timeout=60, credentials=platform.credentials))
    assert all(r.receipt and r.receipt["accepted"] for r in results), [r.receipt for r in results]


def post(client: httpx.Client, path: str, **body) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def rows(client: httpx.Client, path: str, **params) -> list[dict]:
    return client.get(path, params=params).json()["rows"]


def payment_of(client: httpx.Client, cycle_id: str, beneficiary_id: str) -> dict:
    return next(p for p in rows(client, "/payments", cycle_id=cycle_id) if p["beneficiary_id"] == beneficiary_id)


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """Runs the township's year once; the tests below read what it left."""
    platform = Platform(tmp_path_factory.mktemp("subsidy-e2e"))
    platform.start()
    try:
        services = platform.endpoints()["services"]
        verification = httpx.Client(base_url=services["verification"], timeout=30, auth=platform_officers(platform, "FZ-01"))
        publish(platform, *(report(name, n) for n, name in enumerate(PEOPLE, 1)))
        enrolled = wait_for(lambda: len(got := rows(verification, "/beneficiaries", year=YEAR)) == len(PEOPLE) and got)
        # Each person here was born in a different year: that is how the test tells them apart.
        ids = {name: next(b["beneficiary_id"] for b in enrolled if b["birth_year"] == int(id_number[6:10]))
               for name, (_, id_number, _) in PEOPLE.items()}
        cycles = {}
        for program in ("reward", "special"):
            post(verification, "/beneficiaries/confirm", officer=CREATOR, on=f"{YEAR}-05-20", program=program, year=YEAR)
            cycle_id = post(verification, "/payment-cycles", officer=CREATOR, on=f"{YEAR}-06-01", program=program, year=YEAR)["cycle_id"]
            post(verification, f"/payment-cycles/{cycle_id}/compute", officer=CREATOR, on=f"{YEAR}-06-02")
            post(verification, f"/payment-cycles/{cycle_id}/approve", officer=APPROVER, on=f"{YEAR}-06-05")
            cycles[program] = cycle_id
        # Health reports a death while the approved payments wait for the bank.
        publish(platform, death("dies_before_payment", date(YEAR, 6, 10), date(YEAR, 6, 12)))
        wait_for(lambda: verification.get(f"/beneficiaries/{ids['dies_before_payment']}").json()["suspension"])
        batches = {}
        for program, cycle_id in cycles.items():
            payments = rows(verification, "/payments", cycle_id=cycle_id)
            batches[program] = post(verification, f"/payment-cycles/{cycle_id}/batches", officer=FINANCE, on=f"{YEAR}-06-28", batch_id=f"{cycle_id}-B01",
                                    payments=[{"payment_id": p["payment_id"], "bank_reference": f"E2E-{p['payment_id']}", "disbursed_on": f"{YEAR}-06-28"} for p in payments])
        returned = payment_of(verification, cycles["special"], ids["bereaved_mother"])["payment_id"]
        post(verification, f"/payments/{returned}/return", officer=FINANCE, on=f"{YEAR}-07-08", reason="账户已销户", outcome="returned")
        post(verification, f"/payments/{returned}/reissue", officer=FINANCE, on=f"{YEAR}-07-20", bank_reference=f"E2E-{returned}-R1")
        # Deaths reach the county late: this one only after the June payment went out.
        publish(platform, death("dies_after_payment", date(YEAR, 6, 20), date(YEAR, 9, 3)))
        full = payment_of(verification, cycles["reward"], ids["paid"])
        short = payment_of(verification, cycles["reward"], ids["short_changed"])
        publish(platform, followup(full, full["amount"], 1), followup(short, "720.00", 2))
        wait_for(lambda: len(rows(verification, "/subsidy-signals")) >= 2 and all(s["case_number"] for s in rows(verification, "/subsidy-signals")), 90)
        yield {"platform": platform, "verification": verification, "ids": ids, "cycles": cycles, "batches": batches, "returned": returned,
               "enforcement": httpx.Client(base_url=services["enforcement"], timeout=30, auth=platform_officers(platform, "ZF-001")),
               "reporting": httpx.Client(base_url=services["reporting"], timeout=30, auth=platform_officers(platform, "sj-auditor"))}
    finally:
        platform.stop()


def test_the_urban_household_is_refused_citing_the_rule_and_the_others_are_confirmed(year):
    verification, ids = year["verification"], year["ids"]
    urban = verification.get(f"/beneficiaries/{ids['urban']}").json()
    enrolment = next(e for e in urban["enrolments"] if e["year"] == YEAR)
    assert enrolment["status"] == "refused" and any(f["outcome"] == "fail" and f["rule"].startswith("RW") for f in enrolment["findings"])
    for name in ("paid", "dies_after_payment", "short_changed", "bereaved_mother"):
        enrolment = next(e for e in verification.get(f"/beneficiaries/{ids[name]}").json()["enrolments"] if e["year"] == YEAR)
        assert enrolment["status"] == "confirmed", (name, enrolment)


def test_the_death_reported_before_disbursement_withholds_that_payment_and_the_others_are_paid(year):
    verification, ids, cycles, batches = year["verification"], year["ids"], year["cycles"], year["batches"]
    withheld = payment_of(verification, cycles["reward"], ids["dies_before_payment"])
    assert withheld["status"] == "withheld" and withheld["payment_id"] in batches["reward"]["withheld"]
    for name in ("paid", "dies_after_payment", "short_changed"):
        assert payment_of(verification, cycles["reward"], ids[name])["payment_id"] in batches["reward"]["disbursed"]
    assert not [p for p in rows(verification, "/payments", cycle_id=cycles["reward"]) if p["beneficiary_id"] == ids["urban"]]


def test_the_late_death_and_the_shortfall_raise_signals_that_enforcement_opened_as_linked_cases(year):
    verification, enforcement, ids, cycles = year["verification"], year["enforcement"], year["ids"], year["cycles"]
    signals = {s["pattern"]: s for s in rows(verification, "/subsidy-signals")}
    paid_after_death = signals["paid_after_death"]
    assert paid_after_death["offence"] == "fraudulent_collection"
    assert paid_after_death["subject"] == f"payment:{payment_of(verification, cycles['reward'], ids['dies_after_payment'])['payment_id']}"
    shortfall = signals["followup_shortfall"]
    assert shortfall["offence"] == "skimming" and Decimal(shortfall["amount"]) == Decimal("240.00")
    cases = {c["case_number"]: c for c in enforcement.get("/cases").json()["cases"]}
    for signal in (paid_after_death, shortfall):
        case = cases[signal["case_number"]]
        assert case["category"] == "subsidy_fraud" and case["township_code"] == TOWNSHIP
        assert signal["signal_id"] in json.dumps(enforcement.get(f"/cases/{case['case_id']}").json(), ensure_ascii=False)
        # The enrolment's report and the death or follow-up that contradicts the payment named in `subject`.
        assert len(signal["evidence"]) >= 2 and all(e.startswith("intake-") for e in signal["evidence"])


def test_the_cycles_reconcile_to_the_yuan_in_verification_and_in_reporting(year):
    verification, reporting, cycles = year["verification"], year["reporting"], year["cycles"]
    reward = verification.get(f"/payment-cycles/{cycles['reward']}").json()
    county = reward["county"]
    amount = Decimal("960.00")
    assert (Decimal(county["entitled"]), Decimal(county["disbursed"]), Decimal(county["withheld"]), Decimal(county["returned"])) == (4 * amount, 3 * amount, amount, 0)
    assert reward["reconciles"] is True
    special = verification.get(f"/payment-cycles/{cycles['special']}").json()["county"]
    assert Decimal(special["disbursed"]) == Decimal(special["entitled"]) > 0  # returned, then reissued

    def reported():
        report = reporting.get("/reports/subsidies", params={"year": YEAR, "program": "reward"}).json()
        return report if Decimal(report["county"]["withheld"]) == amount else None

    report = wait_for(reported)
    assert report["reconciles"] is True and report["county"]["reconciles"] is True
    assert Decimal(report["county"]["entitled"]) == 4 * amount and Decimal(report["county"]["disbursed"]) == 3 * amount


def test_an_auditor_reconstructs_the_returned_payment_as_it_stood_before_it_was_reissued(year):
    platform, verification, returned = year["platform"], year["verification"], year["returned"]
    events = verification.get(f"/history/{returned}").json()["events"]
    names = [e["type"].split(".")[-1] for e in events]
    assert names[0] == "Scheduled" and "Disbursed" in names and "Returned" in names and names[-1] in ("Reissued", "FollowedUp")
    returned_at = next(e["timestamp"] for e in events if e["type"].endswith("Returned"))

    before_reissue = subprocess.run([FPB, "history", returned, "--as-of", returned_at, "--data-dir", str(platform.data_dir)],
                                    capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "250"}, check=False)

    assert before_reissue.returncode == 0, before_reissue.stdout + before_reissue.stderr
    assert "Returned" in before_reissue.stdout and "Reissued" not in before_reissue.stdout
    audit_view = year["reporting"].get(f"/audit/history/{returned}", params={"as_of": returned_at}).json()
    [history] = audit_view["histories"]  # the dashboard's audit view asks the service that keeps it
    assert history["state"]["status"] == "returned" and history["state"]["payment_id"] == returned
