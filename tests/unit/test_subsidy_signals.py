"""Signals of the cross-checks: pure detectors, one signal per pattern and subject that
new evidence joins, and the enforcement case linked back when it is announced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from subsidy_support import TOWNSHIP, SubsidyWorld, resident

from services.verification.application.case_links import UnknownSignalError
from services.verification.domain.subsidy.policy import FailureRate
from services.verification.domain.subsidy.signals import (
    Detection,
    SubsidySignal,
    followup_shortfall,
    paid_after_death,
    township_failure_rate,
)
from shared.contracts.events.enforcement import CASE_OPENED, CASE_UPDATED, CaseOpenedV1, CaseUpdatedV1
from shared.contracts.integration import make_event, read_event

NOW = datetime(2026, 6, 21, 2, 0, tzinfo=timezone.utc)


@dataclass
class PaymentFacts:
    payment_id: str = "PAY-2026-RW-000001"
    township_code: str = TOWNSHIP
    person_ref: str = "ref-1"
    amount: Decimal = Decimal("960.00")
    bucket: str = "disbursed"
    disbursed_on: str | None = "2026-05-10"


@dataclass
class Tally:
    checked: int
    refused: int
    program: str = "reward"
    year: int = 2026
    township_code: str = TOWNSHIP
    refused_evidence: tuple[str, ...] = ("intake-1",)


def test_a_payment_disbursed_on_or_after_the_day_of_death_is_detected_and_one_before_is_not():
    assert paid_after_death(PaymentFacts(), "2026-05-10", ["intake-1", "intake-9"]).pattern == "paid_after_death"
    assert paid_after_death(PaymentFacts(), "2026-05-11", ["intake-1", "intake-9"]) is None
    assert paid_after_death(PaymentFacts(bucket="returned"), "2026-05-01", ["intake-1", "intake-9"]) is None


def test_a_shortfall_is_detected_with_the_money_at_stake():
    detection = followup_shortfall(PaymentFacts(), Decimal("160.00"), ["intake-1", "intake-3"])
    assert (detection.subject, detection.amount, detection.evidence) == ("payment:PAY-2026-RW-000001", Decimal("160.00"), ["intake-1", "intake-3"])
    assert followup_shortfall(PaymentFacts(), None, ["intake-1", "intake-3"]) is None


@pytest.mark.parametrize(("checked", "refused", "signalled"), [(9, 9, False), (10, 2, False), (10, 3, True), (20, 7, True)])
def test_a_township_is_signalled_from_the_minimum_count_at_the_threshold(checked, refused, signalled):
    detection = township_failure_rate(Tally(checked, refused), FailureRate(10, Decimal("0.30")))
    assert (detection is not None) is signalled
    if detection:
        assert detection.subject == f"township:{TOWNSHIP}"


def test_new_evidence_joins_the_signal_and_old_evidence_changes_nothing():
    signal = SubsidySignal(pattern="paid_after_death", subject="payment:PAY-1", township_code=TOWNSHIP, evidence=["intake-1"],
                           person_refs=["ref-1"], amount=Decimal("960.00"), detected_on="2026-06-01", summary="…")
    again = Detection("paid_after_death", "payment:PAY-1", TOWNSHIP, ["intake-1"], "…", ["ref-1"])
    more = Detection("paid_after_death", "payment:PAY-1", TOWNSHIP, ["intake-1", "intake-7"], "…", ["ref-1"])

    assert signal.join(again, "2026-06-02") is False
    assert signal.join(more, "2026-06-03") is True
    assert signal.evidence == ["intake-1", "intake-7"] and signal.signal_id.startswith("SG-") and len(signal.signal_id) == 15
    assert signal.offence == "fraudulent_collection"


# --- the enforcement back-link ----------------------------------------------------------------


@pytest.fixture
def world_with_signal(announced, delivery, protector) -> tuple[SubsidyWorld, str]:
    world = SubsidyWorld(announced, delivery, protector)
    person = resident("1958-01-01", 1)
    world.report(person)
    world.report(person, township="130132200")  # a duplicate enrolment: a signal
    [row] = world.http.get("/subsidy-signals").json()["rows"]
    return world, row["signal_id"]


def case_event(payload, event_type, n: int):
    return read_event(make_event(event_type=event_type, event_id=f"enforcement-{n}", producer="enforcement", aggregate_id="c1",
                                 aggregate_version=n, occurred_at=NOW, correlation_id="x", causation_id="y", payload=payload,
                                 subject="fp.enforcement.case.opened").body)


def opened(signal_id: str | None) -> CaseOpenedV1:
    return CaseOpenedV1(case_id="c1", case_number="ZF-2026-0A1B2C3D", origin="signal", category="subsidy_fraud", township_code=TOWNSHIP,
                        anonymous=False, section="执法大队", submission_id=None, opened_at=NOW, signal_id=signal_id)


def test_a_case_opened_from_a_signal_is_linked_back_and_announced(world_with_signal):
    world, signal_id = world_with_signal

    world.handle("fp.enforcement.case.opened", case_event(opened(signal_id), CASE_OPENED, 1))

    [row] = world.http.get("/subsidy-signals").json()["rows"]
    assert row["case_number"] == "ZF-2026-0A1B2C3D"
    [linked] = world.announcements("verification.subsidy.signal_linked")
    assert linked["payload"] == {"signal_id": signal_id, "case_id": "c1", "case_number": "ZF-2026-0A1B2C3D", "linked_on": "2026-06-21"}


def test_a_signal_joined_to_an_existing_case_is_linked_and_cases_without_a_signal_are_ignored(world_with_signal):
    world, signal_id = world_with_signal
    joined = CaseUpdatedV1(case_id="c2", case_number="ZF-2026-FFFF0000", change="signal_joined", status="investigating",
                           category="subsidy_fraud", section="执法大队", township_code=TOWNSHIP, priority=None, assigned_to=None,
                           due_on=None, officer=None, details={"signal_id": signal_id}, occurred_at=NOW)

    world.handle("fp.enforcement.case.signal_joined", case_event(joined, CASE_UPDATED, 2))
    world.handle("fp.enforcement.case.opened", case_event(opened(None), CASE_OPENED, 3))

    [row] = world.http.get("/subsidy-signals").json()["rows"]
    assert [c["case_number"] for c in row["cases"]] == ["ZF-2026-FFFF0000"]


def test_a_case_naming_an_unknown_signal_is_retried_then_dead_lettered(world_with_signal):
    world, _ = world_with_signal
    with pytest.raises(UnknownSignalError):
        world.handle("fp.enforcement.case.opened", case_event(opened("SG-000000000000"), CASE_OPENED, 4))
