"""The platform started as a user starts it (`fpb up --demo`), driven through `fpb`."""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

FPB = str(Path(sys.executable).with_name("fpb"))
SAMPLES = Path(__file__).parent.parent / "samples" / "inbound"
CHINA = timezone(timedelta(hours=8))


def demo_year() -> int:
    """The year `fpb up --demo` loads: the last complete year, in county time (cli/main.py)."""
    return datetime.now(CHINA).year - 1


# Who the test reads as: demo accounts of the module's platform, logged in through its own
# OpenID provider (set by the `platform` fixture; one platform for the whole module).
LOGINS: dict[str, httpx.Auth] = {}


def login(username: str) -> httpx.Auth:
    return LOGINS[username]


def read_model_totals(reporting: str) -> dict:
    """Accepted and rejected records, and the cases (id -> number), as reporting has them."""
    submissions = httpx.get(f"{reporting}/reports/submissions", auth=login("sj-auditor")).json()
    return {
        "accepted": sum(row["accepted"] for row in submissions["accepted"]),
        "rejected": sum(row["rejected"] for row in submissions["rejected"]),
        "cases": {row["case_id"]: row["case_number"] for row in httpx.get(f"{reporting}/reports/cases", auth=login("sj-auditor")).json()["rows"]},
    }


def totals_once_settled(reporting: str, reached=lambda totals: True) -> dict:
    """The totals once `reached(totals)` holds and nothing changes any more: so a count
    that went past the expected one is seen, not a moment on the way to it."""
    deadline = time.monotonic() + 60
    while not reached(read_model_totals(reporting)):
        assert time.monotonic() < deadline, f"read models never reached the expected totals: {read_model_totals(reporting)}"
        time.sleep(0.5)
    wait_until_settled(reporting)
    return read_model_totals(reporting)


def fpb(*args: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FPB, *args, "--data-dir", str(data_dir)], input=stdin, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("fpb")
    log = open(data_dir / "up.out", "w+")
    process = subprocess.Popen([FPB, "up", "--data-dir", str(data_dir), "--demo"], stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while "Press Ctrl-C to stop." not in (data_dir / "up.out").read_text():
        assert process.poll() is None, (data_dir / "up.out").read_text()
        assert time.monotonic() < deadline, "fpb up did not finish starting and loading the demo"
        time.sleep(0.5)
    endpoints = json.loads((data_dir / "endpoints.json").read_text())
    from cli.tokens import DemoLogin

    LOGINS.update({username: DemoLogin.for_demo(data_dir, None, username=username) for username in ("sj-auditor", "FZ-01", "FG-02", "ops")})
    yield data_dir, endpoints, process
    if process.poll() is None:
        process.kill()


def test_fpb_up_writes_its_endpoints_and_every_service_is_ready(platform):
    data_dir, endpoints, _ = platform
    assert endpoints["nats_url"].startswith("nats://127.0.0.1:")
    assert set(endpoints["services"]) == {"identity", "intake", "verification", "enforcement", "reporting"}
    assert endpoints["oidc_issuer"] == endpoints["services"]["identity"]
    for url in endpoints["services"].values():
        assert httpx.get(f"{url}/readyz").json()["ready"] is True
    output = (data_dir / "up.out").read_text()
    demo = re.search(r"demo: (\d+) published, (\d+) accepted", output)
    assert demo and int(demo.group(1)) > 1000
    assert demo.group(1) == demo.group(2), "every demo record got its receipt, and was accepted"


def test_fpb_up_names_each_clients_nats_credentials_and_refuses_clients_without(platform):
    import asyncio
    import stat

    import nats

    data_dir, endpoints, _ = platform
    credentials = endpoints["credentials"]
    assert {"police", "health", "drug", "pension", "petitions", "hotline", "online_hall", "township-130132100", "township-130132206",
            "intake", "verification", "enforcement", "reporting", "provisioner", "case-stream", "auditor"} <= set(credentials)
    assert len([user for user in credentials if user.startswith("township-")]) == 15
    for entry in credentials.values():
        seed = Path(entry["nkey_seed"])
        assert seed.is_absolute() and seed.parent == (data_dir / "credentials").resolve()
        assert stat.S_IMODE(seed.stat().st_mode) == 0o600
    assert not re.search(r"\bSU[A-Z2-7]{50,}", (data_dir / "nats" / "nats-server.conf").read_text())  # public keys only, never a seed

    async def anonymous() -> None:
        await nats.connect(endpoints["nats_url"], allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=3)

    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        asyncio.run(anonymous())


def test_every_service_refuses_anonymous_callers_and_fpb_token_logs_a_demo_account_in(platform):
    data_dir, endpoints, _ = platform
    verification, reporting = endpoints["services"]["verification"], endpoints["services"]["reporting"]
    assert httpx.get(f"{verification}/applications").status_code == 401
    assert httpx.get(f"{reporting}/reports/submissions", headers={"Authorization": "Bearer forged"}).status_code == 401
    assert httpx.get(f"{verification}/healthz").status_code == 200

    issued = fpb("token", "--role", "section_head", "--section", "法规科", data_dir=data_dir)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    bearer = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    assert httpx.get(f"{verification}/applications", headers=bearer).status_code == 200
    posing = httpx.post(f"{verification}/applications/APP-NOSUCH/approve", json={"officer": {"id": "someone-else"}}, headers=bearer)
    assert posing.status_code == 403 and posing.json()["detail"][0]["field"] == "officer.id"
    assert httpx.get(f"{reporting}/admin/rebuild", headers=bearer).status_code == 403, "a head of 法规科 does not run rebuilds"
    unknown = fpb("token", "--role", "nobody", data_dir=data_dir)
    assert unknown.returncode == 2 and "--role" in unknown.stderr


def test_fpb_publish_as_another_source_is_refused_before_anything_is_published(platform):
    data_dir, _, _ = platform
    sample = json.loads((SAMPLES / "police.birth.registered.v1.json").read_text())
    message = dict(sample["message"], record_id="PSB-E2E-AS-HEALTH")
    result = fpb("publish", "-", "--as", "health", data_dir=data_dir, stdin=json.dumps(message, ensure_ascii=False))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "health may not publish on county.police.birth.registered" in result.stdout
    assert "PubAck" not in result.stdout


def test_the_demo_data_reaches_every_read_model(platform):
    _, endpoints, _ = platform
    reporting = endpoints["services"]["reporting"]
    submissions = httpx.get(f"{reporting}/reports/submissions", auth=login("sj-auditor")).json()["accepted"]
    assert {row["township_code"] for row in submissions if row["township_code"]} >= {"130132100", "130132206"}
    assert len({row["kind"] for row in submissions}) == 14
    assert httpx.get(f"{reporting}/reports/applications", auth=login("sj-auditor")).json()["rows"]
    assert httpx.get(f"{reporting}/reports/cases", auth=login("sj-auditor")).json()["rows"]


def test_after_the_demo_verification_lists_applications_of_every_kind_in_every_state(platform):
    from cli.demo.applications_driver import DEMO_STATES

    _, endpoints, _ = platform
    rows = httpx.get(f"{endpoints['services']['verification']}/applications", auth=login("FG-02")).json()["rows"]
    shown: dict[str, set[str]] = {}
    for row in rows:
        shown.setdefault(row["kind"], set()).add(row["status"])
    kinds = ("rebirth_approval", "first_child_registration", "only_child_honor_certificate", "exam_bonus_qualification")
    assert shown == dict.fromkeys(kinds, set(DEMO_STATES)), "the demo driver's resting states, as the in-process test expects them"


def test_the_demo_year_of_subsidies_is_paid_reconciled_and_its_planted_irregularities_become_cases(platform):
    _, endpoints, _ = platform
    verification, reporting = endpoints["services"]["verification"], endpoints["services"]["reporting"]
    signals = httpx.get(f"{verification}/subsidy-signals", auth=login("FZ-01")).json()["rows"]
    assert {s["pattern"] for s in signals} == {"duplicate_enrolment", "deceased_reported", "township_failure_rate",
                                               "paid_after_death", "followup_shortfall"}
    assert all(s["case_number"] for s in signals), "enforcement opened a case for every signal, and it is linked back"
    year = httpx.get(f"{verification}/beneficiaries", auth=login("FZ-01")).json()["rows"][0]["year"]  # the demo's year is last year
    for program in ("reward", "special"):
        cycle = httpx.get(f"{verification}/payment-cycles/{year}-{program}", auth=login("FZ-01")).json()
        assert cycle["status"] == "closed" and cycle["reconciles"] is True
        report = httpx.get(f"{reporting}/reports/subsidies", params={"year": year, "program": program}, auth=login("sj-auditor")).json()
        assert report["reconciles"] is True and report["county"]["entitled"] == cycle["county"]["entitled"]
        assert report["county"]["disbursed"] == cycle["county"]["disbursed"]


def test_fpb_publish_prints_pubacks_then_receipts_for_valid_invalid_and_duplicate_records(platform):
    data_dir, endpoints, _ = platform
    reporting = endpoints["services"]["reporting"]
    sample = json.loads((SAMPLES / "police.birth.registered.v1.json").read_text())
    valid = dict(sample["message"], record_id="PSB-E2E-0001")
    invalid = dict(valid, record_id="PSB-E2E-0002", data=dict(valid["data"], mother_id_number="130132199001011230"))
    lines = "\n".join(json.dumps(m, ensure_ascii=False) for m in (valid, invalid, valid))
    before = totals_once_settled(reporting)
    result = fpb("publish", "-", data_dir=data_dir, stdin=lines)
    assert result.returncode == 1, result.stdout + result.stderr  # one record was rejected
    assert result.stdout.count("PubAck") == 3
    assert "PubAck PSB-E2E-0001: stream=COUNTY_INBOX" in result.stdout
    assert "duplicate: the broker already had it" in result.stdout
    assert '"accepted": true' in result.stdout and '"submission_id"' in result.stdout
    assert '"field": "data.mother_id_number"' in result.stdout and "check digit" in result.stdout

    history = fpb("history", "police:PSB-E2E-0001", data_dir=data_dir)
    assert history.returncode == 0 and "Submission.Accepted" in history.stdout and "执法大队" in history.stdout

    after = totals_once_settled(reporting, lambda t: t["accepted"] > before["accepted"] and t["rejected"] > before["rejected"])
    assert after["accepted"] == before["accepted"] + 1, "the valid record once; its duplicate adds nothing"
    assert after["rejected"] == before["rejected"] + 1, "the invalid record"


def test_a_record_republished_after_the_broker_window_gets_a_duplicate_receipt(platform):
    import asyncio

    import nats

    data_dir, endpoints, _ = platform
    reporting = endpoints["services"]["reporting"]
    sample = json.loads((SAMPLES / "hotline.tip.received.v1.json").read_text())
    message = dict(sample["message"], record_id="HL-E2E-0001")
    tip_year = datetime.fromisoformat(message["occurred_at"]).astimezone(CHINA).year

    async def publish_twice() -> list[dict]:
        # As the hotline does: with its own NKey, from endpoints.json (CONTRACT.md, Authentication).
        connection = await nats.connect(endpoints["nats_url"], nkeys_seed=endpoints["credentials"]["hotline"]["nkey_seed"], inbox_prefix="_INBOX_hotline")
        receipts: list[dict] = []
        await connection.subscribe("fp.receipts.hotline", cb=functools.partial(_append, receipts))
        js = connection.jetstream()
        body = json.dumps(message).encode()
        await js.publish(sample["subject"], body, headers={"Nats-Msg-Id": "HL-E2E-0001"})
        await js.publish(sample["subject"], body, headers={"Nats-Msg-Id": "HL-E2E-0001-an-hour-later"})
        for _ in range(100):
            if len([r for r in receipts if r["record_id"] == "HL-E2E-0001"]) == 2:
                break
            await asyncio.sleep(0.1)
        await connection.close()
        return [r for r in receipts if r["record_id"] == "HL-E2E-0001"]

    before = totals_once_settled(reporting)
    receipts = asyncio.run(publish_twice())
    assert len(receipts) == 2
    assert receipts[0]["submission_id"] == receipts[1]["submission_id"]
    assert sorted(r["duplicate"] for r in receipts) == [False, True]  # either may arrive first

    after = totals_once_settled(reporting, lambda t: len(t["cases"]) > len(before["cases"]))
    assert after["accepted"] == before["accepted"] + 1, "the republished tip is not a second submission"
    assert len(after["cases"]) == len(before["cases"]) + 1, "exactly one case for the tip"
    [new_case] = set(after["cases"]) - set(before["cases"])
    assert after["cases"][new_case].startswith(f"ZF-{tip_year}-"), "numbered in the year the tip was made"


async def _append(receipts: list, message) -> None:
    receipts.append(json.loads(message.data))


def test_fpb_history_reveal_needs_a_reason_and_shows_the_plain_values(platform):
    data_dir, _, _ = platform
    refused = fpb("history", "police:PSB-E2E-0001", "--reveal", data_dir=data_dir)
    assert refused.returncode != 0 and "--reason" in refused.stdout + refused.stderr
    posing = fpb("history", "police:PSB-E2E-0001", "--reveal", "--reader", "auditor-1", "--reason", "e2e audit sample", data_dir=data_dir)
    assert posing.returncode != 0 and "reader.id" in posing.stdout, "the reader is who the login says, not a name typed in"
    revealed = fpb("history", "police:PSB-E2E-0001", "--reveal", "--reason", "e2e audit sample", data_dir=data_dir)
    assert revealed.returncode == 0, revealed.stdout + revealed.stderr
    assert "disclosure" in revealed.stdout and "王子涵" in revealed.stdout  # the child's name, decrypted


def test_fpb_erasure_is_refused_with_the_cited_rule_while_the_law_keeps_the_persons_records(platform):
    data_dir, _, _ = platform
    sample = json.loads((SAMPLES / "police.birth.registered.v1.json").read_text())
    # A mother of her own, so the record touches nobody else's case or tally.
    from datetime import date

    from shared.contracts.identity import make_resident_id

    data = dict(sample["message"]["data"], mother_id_number=make_resident_id("130132", date(1993, 7, 9), 731), father_id_number=None)
    record = dict(sample["message"], record_id="PSB-E2E-ERASE-1", data=data)
    assert fpb("publish", "-", data_dir=data_dir, stdin=json.dumps(record, ensure_ascii=False)).returncode == 0
    mother = record["data"]["mother_id_number"]

    asked = fpb("erasure", "ask", "--ground", "consent_withdrawn", "--reason", "本人书面申请（e2e）", "--id-number", mother, data_dir=data_dir)

    assert asked.returncode == 1, asked.stdout + asked.stderr
    assert "保存期限未满" in asked.stdout and "police.birth.registered" in asked.stdout and mother not in asked.stdout
    erasure_id = asked.stdout.split()[0]
    listed = fpb("erasure", "list", data_dir=data_dir)
    assert erasure_id in listed.stdout and "保存期限未满" in listed.stdout
    approved = fpb("erasure", "approve", erasure_id, data_dir=data_dir)
    assert approved.returncode == 1 and "refused (409) erasure_id" in approved.stdout
    revealed = fpb("history", "police:PSB-E2E-ERASE-1", "--reveal", "--reason", "e2e erasure check", data_dir=data_dir)
    assert record["data"]["child_name"] in revealed.stdout  # nothing was erased


def test_fpb_history_as_of_a_date_before_the_record_shows_no_events(platform):
    data_dir, _, _ = platform
    result = fpb("history", "police:PSB-E2E-0001", "--as-of", "2000-01-01", data_dir=data_dir)
    assert result.returncode == 0
    assert "Submission.Accepted" not in result.stdout
    bad = fpb("history", "police:PSB-E2E-0001", "--as-of", "yesterday", data_dir=data_dir)
    assert bad.returncode != 0 and "--as-of" in bad.stdout + bad.stderr


def wait_until_settled(reporting: str) -> None:
    """The read models stop changing once every record has flowed through."""
    previous = None
    for _ in range(60):
        current = httpx.get(f"{reporting}/read-models/digest", auth=login("sj-auditor")).json()["sha256"]
        if current == previous:
            return
        previous = current
        time.sleep(1.0)
    raise AssertionError("read models kept changing for a minute")


def test_fpb_rebuild_reporting_gives_identical_read_models(platform):
    data_dir, endpoints, _ = platform
    wait_until_settled(endpoints["services"]["reporting"])
    result = fpb("rebuild", "reporting", data_dir=data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "identical to the live read models" in result.stdout


def test_fpb_audit_verify_finds_every_store_intact(platform):
    data_dir, _, _ = platform
    result = fpb("audit", "verify", "--checkpoints", str(data_dir / "checkpoints"), data_dir=data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    for store in ("intake", "verification", "enforcement"):
        assert store in result.stdout
    assert result.stdout.count("intact") == 3
    assert list((data_dir / "checkpoints" / "intake").glob("*.json")), "a year of demo data passes the first checkpoint"


def test_fpb_cases_lists_shows_and_replays_the_case_stream(platform):
    data_dir, _, _ = platform
    demo_case = rf"ZF-{demo_year()}-[0-9A-F]{{8}}"  # the demo's tips were made in the demo year
    listed = fpb("cases", "list", data_dir=data_dir)
    assert listed.returncode == 0 and re.search(demo_case, listed.stdout), listed.stdout
    case_number = re.search(demo_case, listed.stdout).group(0)
    shown = fpb("cases", "show", case_number, data_dir=data_dir)
    assert shown.returncode == 0 and case_number in shown.stdout
    watched = fpb("cases", "watch", "--from-start", "--count", "5", data_dir=data_dir)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert len(re.findall(demo_case, watched.stdout)) == 5
    missing = fpb("cases", "show", f"ZF-{demo_year()}-00000000", data_dir=data_dir)
    assert missing.returncode != 0


def test_sigterm_stops_the_whole_platform_cleanly(platform):
    data_dir, endpoints, process = platform
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    assert "stopped." in (data_dir / "up.out").read_text()
    for url in endpoints["services"].values():
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/healthz", timeout=1)
