"""Subsidy fund reconciliation (扶助资金对账) from the read models, on SQLite and
PostgreSQL, against a hand-computed fixture: payments through their buckets (one
returned, one withheld), a redelivered event, an older event arriving late, enrolments
through their steps, and signals linked to their cases from either side."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
from openpyxl import load_workbook

from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.projector import Projector
from services.reporting.bootstrap import bootstrap
from services.reporting.settings import ReportingSettings
from shared.contracts.events.enforcement import CASE_OPENED, CaseOpenedV1
from shared.contracts.events.subsidy import (
    BENEFICIARY_EVENTS,
    BENEFICIARY_TYPES,
    PAYMENT,
    SIGNAL_LINKED,
    SIGNAL_RAISED,
    PaymentChangedV1,
    SubsidySignalLinkedV1,
    SubsidySignalV1,
    payment_subject,
)
from shared.contracts.integration import OutgoingMessage, make_event
from shared.messaging.consumer import Delivery
from tests.identity_support import acting_officers

HUAIYANG, NANZUO = "130132100", "130132105"  # 槐阳镇, 南佐镇
START = datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc)
PERSON = "pr-" + "c" * 61
_clock = iter(range(10_000))


def moment() -> datetime:
    """Each event a minute after the one before: the fixture's events are in time order."""
    return START + timedelta(minutes=next(_clock))


def payment(payment_id: str, township: str, amount: str, steps: list[tuple[str, str, str]], program: str = "reward", year: int = 2026) -> list[OutgoingMessage]:
    """steps: (change, status, bucket) in order; each is the payment's next version."""
    messages = []
    for version, (change, status, bucket) in enumerate(steps, start=1):
        payload = PaymentChangedV1(
            payment_id=payment_id, cycle_id=f"{year}-{program}", program=program, year=year, township_code=township,
            beneficiary_id="BF-" + payment_id[-6:].rjust(12, "0"), person_ref=PERSON, amount=Decimal(amount), change=change,
            status=status, bucket=bucket, on="2026-06-01", officer_id="CW-01", officer_section="财务科",
        )
        messages.append(make_event(
            event_type=PAYMENT, event_id=f"verification-{payment_id}-{version}", producer="verification", aggregate_id=payment_id,
            aggregate_version=version, occurred_at=moment(), correlation_id=payment_id, causation_id=payment_id, payload=payload,
            subject=payment_subject(change),
        ))
    return messages


def enrolment(beneficiary_id: str, township: str, steps: list[str]) -> list[OutgoingMessage]:
    extra = {
        "reported": {"submission_id": "s-1", "birth_year": 1962},
        "checked": {"policy_version": "2026-1", "findings": [], "outcome": "eligible"},
        "confirmed": {"policy_version": "2026-1", "rules": ["RW-1"], "yearly_amount": Decimal("960.00")},
        "refused": {"policy_version": "2026-1", "reasons": [{"rule": "RW-2", "outcome": "fail", "message": "年龄不符"}]},
        "suspended": {"effective_on": "2026-05-01", "cause": "death", "evidence": ["health-1"]},
        "reinstated": {"reason": "死亡报告有误"},
    }
    messages = []
    for version, step in enumerate(steps, start=1):
        name = f"verification.beneficiary.{step}"
        subject, model = BENEFICIARY_EVENTS[name]
        payload = model(beneficiary_id=beneficiary_id, person_ref=PERSON, program="reward", year=2026, township_code=township,
                        on="2026-04-01", officer_id=None, officer_section=None, **extra[step])
        messages.append(make_event(
            event_type=BENEFICIARY_TYPES[name], event_id=f"verification-{beneficiary_id}-{version}", producer="verification",
            aggregate_id=beneficiary_id, aggregate_version=version, occurred_at=moment(), correlation_id=beneficiary_id,
            causation_id=beneficiary_id, payload=payload, subject=subject,
        ))
    return messages


def signal(signal_id: str, pattern: str, offence: str, township: str, amount: str, detected_on: str) -> OutgoingMessage:
    payload = SubsidySignalV1(signal_id=signal_id, pattern=pattern, offence=offence, township_code=township, subject="payment:PAY-2026-RW-000001",
                              evidence=["health-1"], person_refs=[PERSON], amount=Decimal(amount), detected_on=detected_on, summary="发放异常")
    return make_event(event_type=SIGNAL_RAISED, event_id=f"verification-{signal_id}", producer="verification", aggregate_id=signal_id,
                      aggregate_version=1, occurred_at=moment(), correlation_id=signal_id, causation_id=signal_id, payload=payload,
                      subject="fp.verification.subsidy.signal_raised")


def linked(signal_id: str, case_number: str) -> OutgoingMessage:
    payload = SubsidySignalLinkedV1(signal_id=signal_id, case_id="c-" + signal_id, case_number=case_number, linked_on="2026-07-03")
    return make_event(event_type=SIGNAL_LINKED, event_id=f"verification-link-{signal_id}", producer="verification", aggregate_id=signal_id,
                      aggregate_version=2, occurred_at=moment(), correlation_id=signal_id, causation_id=signal_id, payload=payload,
                      subject="fp.verification.subsidy.signal_linked")


def case_opened(signal_id: str, case_number: str) -> OutgoingMessage:
    payload = CaseOpenedV1(case_id="c-" + signal_id, case_number=case_number, origin="signal", category="subsidy_fraud", township_code=NANZUO,
                           anonymous=False, section="执法大队", submission_id=None, opened_at=moment(), signal_id=signal_id)
    return make_event(event_type=CASE_OPENED, event_id=f"enforcement-{signal_id}", producer="enforcement", aggregate_id=payload.case_id,
                      aggregate_version=1, occurred_at=payload.opened_at, correlation_id=payload.case_id, causation_id=payload.case_id,
                      payload=payload, subject="fp.enforcement.case.opened")


SCHEDULED, APPROVED = ("scheduled", "scheduled", "pending"), ("approved", "approved", "pending")
DISBURSED = ("disbursed", "disbursed", "disbursed")
# 槐阳镇 (reward 2026): 960.00 disbursed, 960.00 disbursed then returned, 1080.10 withheld.
# 南佐镇 (reward 2026): 960.00 still pending, 720.20 disbursed; (special 2026) 1800.00 disbursed.
# 2025 (another year): 960.00 disbursed in 槐阳镇, counted nowhere below.
PAY_3_SCHEDULED, *PAY_3_LATER = payment("PAY-2026-RW-000003", HUAIYANG, "1080.10", [SCHEDULED, ("withheld", "withheld", "withheld")])
PAY_5 = payment("PAY-2026-RW-000005", NANZUO, "720.20", [SCHEDULED, DISBURSED])
BF_A1 = enrolment("BF-0000000000A1", HUAIYANG, ["reported", "checked", "confirmed"])
EVENTS = [
    *payment("PAY-2026-RW-000001", HUAIYANG, "960.00", [SCHEDULED, APPROVED, DISBURSED]),
    *payment("PAY-2026-RW-000002", HUAIYANG, "960.00", [SCHEDULED, DISBURSED, ("returned", "returned", "returned")]),
    PAY_3_SCHEDULED, *PAY_3_LATER,
    *payment("PAY-2026-RW-000004", NANZUO, "960.00", [SCHEDULED]),
    *PAY_5,
    PAY_5[1],  # the disbursement redelivered: the same event id
    *payment("PAY-2026-SP-000001", NANZUO, "1800.00", [SCHEDULED, DISBURSED], program="special"),
    *payment("PAY-2025-RW-000009", HUAIYANG, "960.00", [SCHEDULED, DISBURSED], year=2025),
    # 槐阳镇: 3 reported, 1 confirmed, 1 suspended, 1 refused; 南佐镇: 2 reported, 1 confirmed (reinstated).
    *BF_A1,
    *enrolment("BF-0000000000A2", HUAIYANG, ["reported", "confirmed", "suspended"]),
    *enrolment("BF-0000000000A3", HUAIYANG, ["reported", "refused"]),
    *enrolment("BF-0000000000B1", NANZUO, ["reported", "confirmed", "suspended", "reinstated"]),
    *enrolment("BF-0000000000B2", NANZUO, ["reported"]),
    # Signals: one per township in 2026 (one linked by verification, one by enforcement's
    # case.opened before the signal itself arrived), one in 2025.
    signal("SG-0000000000A1", "paid_after_death", "fraudulent_collection", HUAIYANG, "960.00", "2026-07-02"),
    linked("SG-0000000000A1", "ZF-2026-AAAA0001"),
    case_opened("SG-0000000000B2", "ZF-2026-BBBB0002"),
    signal("SG-0000000000B2", "followup_shortfall", "skimming", NANZUO, "160.00", "2026-09-01"),
    signal("SG-0000000000C3", "duplicate_enrolment", "false_reporting", NANZUO, "960.00", "2025-12-01"),
]
# Older states published again under new ids (a republish after the broker's window):
# they arrive after the newer states and must not overwrite them.
LATE = [
    OutgoingMessage(m.subject, m.body.replace(b'"event_id":"', b'"event_id":"late-'), "late-" + m.message_id, m.headers)
    for m in (PAY_3_SCHEDULED, PAY_5[0], BF_A1[0])
]


def deliveries(messages: list[OutgoingMessage]) -> list[Delivery]:
    return [
        Delivery(subject=m.subject, body=m.body, headers={"Nats-Msg-Id": m.message_id}, stream="FP_VERIFICATION",
                 stream_sequence=n, num_delivered=1, published_at=START)
        for n, m in enumerate(messages, start=1)
    ]


async def project(store_url: str, messages: list[OutgoingMessage], one_by_one: bool = False) -> list[str]:
    read_models = ReadModelStore(store_url)
    projector = Projector(read_models)
    if one_by_one:
        outcomes = [await projector.handle(d) for d in deliveries(messages)]
    else:
        outcomes = await projector.handle_many(deliveries(messages))
    read_models.close()
    return outcomes


async def report(store_url: str, path: str, **params: str):
    service = bootstrap(ReportingSettings(nats_url="nats://127.0.0.1:1", store_url=store_url))
    try:
        transport = httpx.ASGITransport(app=service.http)
        async with httpx.AsyncClient(transport=transport, base_url="http://reporting", auth=acting_officers("sj-auditor")) as client:
            return await client.get(path, params=params)
    finally:
        for close in service.closers:
            close()


def money_of(row: dict) -> tuple[str, ...]:
    return tuple(row[k] for k in ("entitled", "pending", "disbursed", "withheld", "returned"))


async def test_the_reconciliation_matches_the_hand_computed_fixture(store_url):
    outcomes = await project(store_url, [*EVENTS, *LATE])
    assert outcomes.count("duplicate") == 1, "the redelivered disbursement is applied once"

    body = (await report(store_url, "/reports/subsidies", year="2026", program="reward")).json()

    rows = {row["township_code"]: row for row in body["rows"]}
    assert len(rows) == 15 and (body["year"], body["program_name"]) == (2026, "奖励扶助")
    # entitled, pending, disbursed, withheld, returned
    assert money_of(rows[HUAIYANG]) == ("3000.10", "0.00", "960.00", "1080.10", "960.00")
    assert money_of(rows[NANZUO]) == ("1680.20", "960.00", "720.20", "0.00", "0.00"), "the late scheduled event did not undo the disbursement"
    assert money_of(body["county"]) == ("4680.30", "960.00", "1680.20", "1080.10", "960.00")
    assert (rows[HUAIYANG]["payments"], rows[NANZUO]["payments"], body["county"]["payments"]) == (3, 2, 5)
    assert rows[HUAIYANG]["payments_by_bucket"] == {"pending": 0, "disbursed": 1, "withheld": 1, "returned": 1}
    assert rows[HUAIYANG]["township_name"] == "槐阳镇" and body["county"]["township_name"] == "全县合计"
    assert money_of(rows["130132203"]) == ("0.00",) * 5, "a township with no payments shows zeros"
    assert rows[HUAIYANG]["beneficiaries"] == {"reported": 3, "confirmed": 1, "refused": 1, "suspended": 1}
    assert rows[NANZUO]["beneficiaries"] == {"reported": 2, "confirmed": 1, "refused": 0, "suspended": 0}
    assert (rows[HUAIYANG]["signals"], rows[NANZUO]["signals"], body["county"]["signals"]) == (1, 1, 2)
    assert body["reconciles"] and all(row["reconciles"] for row in body["rows"])

    both = (await report(store_url, "/reports/subsidies", year="2026")).json()
    assert money_of({r["township_code"]: r for r in both["rows"]}[NANZUO]) == ("3480.20", "960.00", "2520.20", "0.00", "0.00")
    assert money_of(both["county"]) == ("6480.30", "960.00", "3480.20", "1080.10", "960.00")
    assert both["years"] == [2025, 2026]


async def test_the_drill_down_lists_the_payments_behind_a_figure_and_signals_name_their_cases(store_url):
    await project(store_url, [*EVENTS, *LATE])

    withheld = (await report(store_url, "/reports/subsidies/payments", year="2026", township_code=HUAIYANG, bucket="withheld")).json()
    returned = (await report(store_url, "/reports/subsidies/payments", year="2026", program="reward", bucket="returned")).json()
    signals = (await report(store_url, "/reports/subsidies/signals", year="2026")).json()

    [row] = withheld["rows"]
    assert (row["payment_id"], row["amount"], row["status"], row["bucket_name"], row["township_name"]) == ("PAY-2026-RW-000003", "1080.10", "withheld", "暂停/扣发", "槐阳镇")
    assert "person_ref" not in row
    assert [r["payment_id"] for r in returned["rows"]] == ["PAY-2026-RW-000002"]
    by_id = {s["signal_id"]: s for s in signals["rows"]}
    assert set(by_id) == {"SG-0000000000A1", "SG-0000000000B2"}
    assert (by_id["SG-0000000000A1"]["offence_name"], by_id["SG-0000000000A1"]["pattern_name"], by_id["SG-0000000000A1"]["case_number"]) == ("冒领", "死亡后仍发放", "ZF-2026-AAAA0001")
    assert (by_id["SG-0000000000B2"]["offence_name"], by_id["SG-0000000000B2"]["amount"], by_id["SG-0000000000B2"]["case_number"]) == ("克扣", "160.00", "ZF-2026-BBBB0002")


async def test_any_delivery_order_gives_the_same_read_models(store_url):
    """Replay-safe: one batch forwards, or one by one backwards (older events last), the
    rows are identical."""
    await project(store_url, [*EVENTS, *LATE])
    read_models = ReadModelStore(store_url)
    forwards = read_models.digest()
    read_models.clear()
    outcomes = await project(store_url, list(reversed([*EVENTS, *LATE])), one_by_one=True)
    backwards = read_models.digest()
    read_models.close()

    assert outcomes.count("duplicate") == 1
    for table in ("rm_payments", "rm_beneficiary_enrolments", "rm_subsidy_signals"):
        assert forwards["tables"][table] == backwards["tables"][table], table


async def test_bad_filters_are_refused_naming_the_field(store_url):
    for path, params, field in (
        ("/reports/subsidies", {"year": "abc"}, "year"),
        ("/reports/subsidies", {"year": "2026", "program": "other"}, "program"),
        ("/reports/subsidies/payments", {"bucket": "lost"}, "bucket"),
        ("/reports/subsidies/payments", {"township_code": "999"}, "township_code"),
        ("/reports/subsidies/signals", {"offence": "theft"}, "offence"),
    ):
        response = await report(store_url, path, **params)
        assert response.status_code == 422 and response.json()["detail"][0]["field"] == field, (path, params, response.text)


async def test_the_statistical_report_has_a_reconciliation_sheet_with_chinese_headings(store_url):
    await project(store_url, EVENTS)

    workbook = await report(store_url, "/reports/statistical.xlsx", period="2026")
    csv = await report(store_url, "/reports/statistical.csv", period="2026-H1", sheet="subsidies")

    rows = list(load_workbook(io.BytesIO(workbook.content))["subsidies"].iter_rows(values_only=True))
    assert rows[0][0] == "元氏县奖励扶助和特别扶助资金对账表（2026年度）"
    assert rows[1][:8] == ("项目", "乡镇代码", "乡镇", "应发金额", "已发金额", "暂停/扣发金额", "退回金额", "待发金额")
    assert len(rows) == 2 + 2 * (15 + 1)  # both programs: every township, then the program's total
    reward_total = [r for r in rows if r[0] == "奖励扶助" and r[2] == "全县合计"][0]
    assert [Decimal(str(v)) for v in reward_total[3:8]] == [Decimal("4680.30"), Decimal("1680.20"), Decimal("1080.10"), Decimal("960.00"), Decimal("960.00")]
    assert reward_total[9] == "相符"
    text = csv.content.decode("utf-8")
    assert "项目,乡镇代码,乡镇,应发金额,已发金额,暂停/扣发金额,退回金额,待发金额" in text
    assert "特别扶助,130132105,南佐镇,1800.00,1800.00,0.00,0.00,0.00,1,相符" in text
