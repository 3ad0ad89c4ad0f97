"""Enforcement opens subsidy-fraud cases from verification's subsidy signals: one case
per subject, later signals join it, and the signal id travels with the case so
verification can link signal and case both ways."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from services.enforcement.bootstrap import EnforcementStore
from services.enforcement.adapters.outbox import case_translator
from services.enforcement.application.subsidy_signals import open_case_from_subsidy_signal
from services.enforcement.domain.case import case_id_for, signals_in_full
from services.enforcement.entrypoints.routes import CONSUMERS, VERIFICATION_CONSUMER, routes
from services.enforcement.settings import EnforcementSettings
from shared.contracts.events.enforcement import CaseOpenedV1
from shared.contracts.events.subsidy import SIGNAL_RAISED, SIGNAL_RAISED_SUBJECT, SubsidySignalV1
from shared.contracts.integration import OutgoingMessage, make_event, read_event

PERSON = "pr-" + "a" * 61  # a person_ref (keyed hash), never an ID number


@pytest.fixture
def store() -> EnforcementStore:
    return EnforcementStore("memory://")


def signal_message(n: int, signal_id: str, pattern: str, offence: str, subject: str, evidence: list[str], amount: str | None = "960.00") -> OutgoingMessage:
    payload = SubsidySignalV1(
        signal_id=signal_id, pattern=pattern, offence=offence, township_code="130132105", subject=subject,
        evidence=evidence, person_refs=[PERSON], amount=None if amount is None else Decimal(amount),
        detected_on="2026-07-02", summary="死亡后仍发放奖励扶助金",
    )
    return make_event(
        event_type=SIGNAL_RAISED, event_id=f"verification-{n}", producer="verification", aggregate_id=signal_id,
        aggregate_version=1, occurred_at=datetime(2026, 7, 2, 1, 0, tzinfo=timezone.utc), correlation_id=subject,
        causation_id=evidence[-1], payload=payload, subject=SIGNAL_RAISED_SUBJECT,
    )


PAID_AFTER_DEATH = signal_message(1, "SG-0000000000A1", "paid_after_death", "fraudulent_collection", "payment:PAY-2026-RW-000017", ["health-death-9", "verification-88"])
SHORTFALL = signal_message(2, "SG-0000000000B2", "followup_shortfall", "skimming", "payment:PAY-2026-RW-000017", ["verification-120"], "160.00")
OTHER_PAYMENT = signal_message(3, "SG-0000000000C3", "followup_shortfall", "skimming", "payment:PAY-2026-RW-000018", ["verification-121"])


def decide(store: EnforcementStore, message: OutgoingMessage) -> list:
    aggregates = list(open_case_from_subsidy_signal(read_event(message.body), store.find))
    if aggregates:
        store.save(*aggregates)
    return aggregates


def stream(store: EnforcementStore) -> list[dict]:
    translate = case_translator(store)
    return [{"subject": m.subject, **json.loads(m.body)} for n in store.read_log(0, 1000) for m in translate(n.id, store.decode(n))]


def test_a_subsidy_signal_opens_a_subsidy_fraud_case_for_its_subject_owned_by_the_brigade(store):
    [case] = decide(store, PAID_AFTER_DEATH)

    assert case.id == case_id_for("signal", "payment:PAY-2026-RW-000017")
    assert (case.origin, case.category, case.section, case.township_code) == ("signal", "subsidy_fraud", "执法大队", "130132105")
    assert case.case_number == f"ZF-2026-{case.id.hex[:8].upper()}"
    assert case.subjects == {"payment_id": "PAY-2026-RW-000017"}
    [signal] = signals_in_full(store.events.get(case.id))
    assert signal["signal_id"] == case.signals[0]["signal_id"] == "SG-0000000000A1"
    assert (signal["pattern"], signal["offence"], signal["amount"]) == ("paid_after_death", "fraudulent_collection", "960.00")
    assert signal["evidence"] == ["health-death-9", "verification-88"] and signal["person_refs"] == [PERSON]


def test_case_opened_carries_the_signal_id(store):
    decide(store, PAID_AFTER_DEATH)

    [opened] = stream(store)

    assert opened["subject"] == "fp.enforcement.case.opened"
    payload = CaseOpenedV1.model_validate(opened["payload"])
    assert (payload.origin, payload.category, payload.signal_id, payload.submission_id) == ("signal", "subsidy_fraud", "SG-0000000000A1", None)


def test_a_second_signal_on_the_same_subject_joins_the_case_and_names_its_signal(store):
    [opened] = decide(store, PAID_AFTER_DEATH)
    [joined] = decide(store, SHORTFALL)

    assert joined.id == opened.id
    assert [s["signal_id"] for s in joined.signals] == ["SG-0000000000A1", "SG-0000000000B2"]
    messages = stream(store)
    assert [m["subject"] for m in messages] == ["fp.enforcement.case.opened", "fp.enforcement.case.signal_joined"]
    details = messages[1]["payload"]["details"]
    assert details == {"pattern": "followup_shortfall", "subject": "payment:PAY-2026-RW-000017", "evidence": ["verification-120"],
                       "detected_on": "2026-07-02", "signal_id": "SG-0000000000B2"}


def test_the_same_signal_twice_changes_nothing_and_another_subject_opens_its_own_case(store):
    [first] = decide(store, PAID_AFTER_DEATH)

    assert decide(store, PAID_AFTER_DEATH) == []
    [other] = decide(store, OTHER_PAYMENT)
    assert other.id != first.id and other.subjects == {"payment_id": "PAY-2026-RW-000018"}


@pytest.mark.parametrize(
    ("subject", "subjects"),
    [("beneficiary:BF-0123456789AB", {"beneficiary_id": "BF-0123456789AB"}), ("township:130132105", {"township_code": "130132105"})],
)
def test_a_signal_on_a_beneficiary_or_a_township_office_files_its_subject(store, subject, subjects):
    [case] = decide(store, signal_message(4, "SG-0000000000D4", "township_failure_rate", "false_reporting", subject, ["verification-7"], None))

    assert case.subjects == subjects and case.signals[0]["amount"] is None


def test_nothing_personal_is_kept_or_published_beyond_person_refs(store):
    decide(store, PAID_AFTER_DEATH)
    decide(store, SHORTFALL)
    [case] = [store.find(case_id_for("signal", "payment:PAY-2026-RW-000017"))]

    assert case.summary is None and case.record_id is None and case.channel is None
    kept = {"pattern", "subject", "detected_on", "person_refs", "signal_id", "offence", "amount", "summary"}
    for signal in signals_in_full(store.events.get(case.id)):
        assert set(signal) == kept | {"evidence"}
    for signal in case.signals:
        assert set(signal) == kept | {"evidence_count"}
    published = json.dumps(stream(store), ensure_ascii=False)
    assert PERSON not in published, "person_refs stay in the case; the case stream carries none"


def test_the_verification_consumer_reads_subsidy_and_falsification_signals_and_is_routed():
    assert VERIFICATION_CONSUMER in CONSUMERS
    assert (VERIFICATION_CONSUMER.stream, VERIFICATION_CONSUMER.durable) == ("FP_VERIFICATION", "enforcement-verification")
    assert VERIFICATION_CONSUMER.filter_subjects == ("fp.verification.subsidy.signal_raised", "fp.verification.application.falsification_signal")
    settings = EnforcementSettings(nats_url="nats://127.0.0.1:1", store_url="memory://")
    table = routes(settings.detection(lambda value, purpose, cause: value), settings.deadline_rules(), bytes(32))
    assert table[SIGNAL_RAISED_SUBJECT] is open_case_from_subsidy_signal


def test_the_platform_provisions_the_new_consumer():
    from cli.platform import ALL_CONSUMERS

    assert VERIFICATION_CONSUMER in ALL_CONSUMERS
    assert len({(spec.stream, spec.durable) for spec in ALL_CONSUMERS}) == len(ALL_CONSUMERS)


def test_a_v1_case_opened_without_signal_id_still_reads():
    payload = {"case_id": "c", "case_number": "ZF-2026-00000000", "origin": "hotline_tip", "category": "other", "township_code": None,
               "anonymous": True, "section": "执法大队", "submission_id": None, "opened_at": "2026-03-09T01:30:01Z"}

    assert CaseOpenedV1.model_validate(payload).signal_id is None
