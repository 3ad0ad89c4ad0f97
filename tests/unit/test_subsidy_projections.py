"""The subsidy projections (pure): each payment and enrolment is one row ordered by its
event's time and version, money stays Decimal, no person_ref reaches a read model, and a
signal meets its case from either side. The reconciliation itself: exact sums, and a
payment in no known bucket shows as a township that does not reconcile."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from services.reporting.application.subsidy_report import subsidy_sheet, township_funds
from services.reporting.domain.projections import Upsert
from services.reporting.domain.subsidy_projections import subsidy_changes
from shared.contracts.events.subsidy import BENEFICIARY_TYPES, PAYMENT, BeneficiaryCheckedV1, BeneficiaryReinstatedV1, PaymentChangedV1
from shared.contracts.integration import make_event, read_event

PERSON = "pr-" + "d" * 61
AT = datetime(2026, 6, 1, 8, 30, tzinfo=timezone.utc)
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "integration"


def received(event_type, payload, version: int = 1, subject: str = "fp.test"):
    message = make_event(event_type=event_type, event_id="verification-1", producer="verification", aggregate_id="a", aggregate_version=version,
                         occurred_at=AT, correlation_id="c", causation_id="c", payload=payload, subject=subject)
    return read_event(message.body)


def sample(event_type: str, **payload_changes):
    envelope = json.loads((SAMPLES / f"{event_type}.v1.json").read_text())
    envelope["payload"].update(payload_changes)
    return read_event(json.dumps(envelope, ensure_ascii=False).encode())


def test_a_payment_change_upserts_the_payment_row_ordered_by_time_and_version_without_the_person():
    payload = PaymentChangedV1(
        payment_id="PAY-2026-RW-000001", cycle_id="2026-reward", program="reward", year=2026, township_code="130132100",
        beneficiary_id="BF-0000000000A1", person_ref=PERSON, amount=Decimal("960.00"), change="returned", status="returned",
        bucket="returned", on="2026-06-01", officer_id="CW-01", officer_section="财务科", reason="账户已注销",
    )

    [change] = subsidy_changes(received(PAYMENT, payload, version=4))

    assert isinstance(change, Upsert) and change.table == "rm_payments" and change.key == {"payment_id": "PAY-2026-RW-000001"}
    assert change.values["amount"] == Decimal("960.00") and isinstance(change.values["amount"], Decimal)
    assert (change.values["bucket"], change.values["status"], change.values["last_change"]) == ("returned", "returned", "returned")
    assert (change.values["changed_at"], change.values["version"]) == ("2026-06-01T08:30:00.000000+00:00", 4)
    assert change.newer_by == ("changed_at", "version")
    assert PERSON not in json.dumps(change.values, default=str)


def step(model, name: str, **extra):
    payload = model(beneficiary_id="BF-0000000000A1", person_ref=PERSON, program="special", year=2026, township_code="130132105",
                    on="2026-04-01", officer_id=None, officer_section=None, **extra)
    return received(BENEFICIARY_TYPES[f"verification.beneficiary.{name}"], payload, version=3)


def test_an_enrolment_row_is_keyed_by_beneficiary_program_and_year():
    [incomplete] = subsidy_changes(step(BeneficiaryCheckedV1, "checked", policy_version="2026-1", findings=[], outcome="incomplete"))
    [reinstated] = subsidy_changes(step(BeneficiaryReinstatedV1, "reinstated", reason="死亡报告有误"))

    assert incomplete.key == {"beneficiary_id": "BF-0000000000A1", "program": "special", "year": 2026}
    assert incomplete.values["status"] == "incomplete" and reinstated.values["status"] == "confirmed"
    assert incomplete.newer_by == ("changed_at", "version") and "person_ref" not in incomplete.values


def test_a_case_names_its_signal_from_case_opened_or_signal_joined_and_other_cases_change_nothing_here():
    opened = sample("enforcement.case.opened", signal_id="SG-0000000000A1", origin="signal")
    joined = sample("enforcement.case.updated", change="signal_joined", details={"pattern": "followup_shortfall", "signal_id": "SG-0000000000B2"})

    assert subsidy_changes(opened) == [Upsert("rm_subsidy_signals", {"signal_id": "SG-0000000000A1"}, {"case_number": opened.payload.case_number})]
    assert subsidy_changes(joined) == [Upsert("rm_subsidy_signals", {"signal_id": "SG-0000000000B2"}, {"case_number": joined.payload.case_number})]
    assert subsidy_changes(sample("enforcement.case.opened")) == []
    assert subsidy_changes(sample("enforcement.case.updated")) == []
    assert subsidy_changes(sample("verification.application.opened")) == []


def test_sums_are_exact_and_a_payment_in_no_known_bucket_does_not_reconcile():
    entitled = [{"township_code": "130132100", "payments": 3, "entitled": Decimal("0.60")},
                {"township_code": "130132105", "payments": 2, "entitled": Decimal("2.00")}]
    buckets = [
        {"township_code": "130132100", "bucket": "disbursed", "payments": 2, "amount": Decimal("0.30")},  # 0.10 + 0.20
        {"township_code": "130132100", "bucket": "returned", "payments": 1, "amount": Decimal("0.30")},
        {"township_code": "130132105", "bucket": "pending", "payments": 1, "amount": Decimal("1.00")},
        {"township_code": "130132105", "bucket": "mislaid", "payments": 1, "amount": Decimal("1.00")},
    ]

    townships, county = township_funds(entitled, buckets, [], [])

    by_code = {funds.township_code: funds for funds in townships}
    assert by_code["130132100"].reconciles and not by_code["130132105"].reconciles
    assert county.entitled == Decimal("2.60") and not county.reconciles
    assert county.as_json()["disbursed"] == "0.30" and county.as_json()["returned"] == "0.30"
    sheet = subsidy_sheet(2026, {"reward": (townships, county)})
    assert [row[-1] for row in sheet.rows if row[1] in ("130132105", "130132")] == ["不符", "不符"]
