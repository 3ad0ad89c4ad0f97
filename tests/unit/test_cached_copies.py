"""A command works on a copy of a cached aggregate. For enforcement's cases and watches,
and verification's beneficiaries and township tallies, that copy shares the cached state
(deep-copying it cost time and memory growing with every signal a case joined, every
refusal a township's year counted); a command on the copy still leaves the cached one as
it was."""

from __future__ import annotations

import copy
from datetime import date
from uuid import uuid4

import pytest

from services.enforcement.domain.case import Case
from services.enforcement.domain.watch import BirthTally, OutletSales, PatientScans
from services.verification.domain.subsidy.beneficiary import Beneficiary
from services.verification.domain.subsidy.tally import TownshipTally

SIGNAL = {"pattern": "unprescribed_termination_drug_sale", "subject": "outlet:YD-1", "evidence": ["intake-1"], "detected_on": "2026-03-01", "person_refs": ["p1"]}


def a_case() -> Case:
    return Case(id=uuid4(), origin="signal", source_ref="outlet:YD-1", case_number="ZF-2026-00000001", category="two_illegals", township_code="130132100",
                anonymous=False, channel=None, section="执法大队", record_id=None, summary=None, subjects={"outlet_id": "YD-1"}, signal=SIGNAL)


def joined(case: Case) -> None:
    assert case.join_signal({**SIGNAL, "evidence": ["intake-2"], "person_refs": ["p2"]})
    case.triage("two_illegals", "urgent", "执法大队", "ZF-007")
    case.assign("ZF-011", "ZF-007")
    case.record_evidence("EV-1", "document", "现场检查笔录", [], "ZF-011")


def scanned(scans: PatientScans) -> None:
    scans.note_scan(event_id="intake-9", performed_on="2026-03-02", facility_id="F-1", operator_id="O-1")


def sold(sales: OutletSales) -> None:
    sales.note_sale(event_id="intake-9", sold_at="2026-03-02T10:00:00+08:00", window_days=30)


def born(tally: BirthTally) -> None:
    tally.note_birth(event_id="intake-9", birth_date="2026-03-02", sex="F", window_days=365)


def reported(beneficiary: Beneficiary) -> None:
    beneficiary.report("reward", 2026, "130132100", "sub-1", "REC-1", "intake-1", 1960, {"type": "only_child"}, date(2026, 3, 2))


def reported_again_and_died(beneficiary: Beneficiary) -> None:
    assert beneficiary.report("reward", 2026, "130132105", "sub-2", "REC-2", "intake-2", 1960, {"type": "only_child"}, date(2026, 3, 3)) == "elsewhere"
    beneficiary.record_death("2026-03-04", "intake-3")
    beneficiary.record_pension("deceased", "2026-03-04", "intake-4")


def refused(tally: TownshipTally) -> None:
    tally.count_checked(beneficiary_id="BF-1")
    tally.count_refused(beneficiary_id="BF-1", evidence="verification-9")


def a_beneficiary() -> Beneficiary:
    beneficiary = Beneficiary(person_ref="p1", first_seen_on="2026-03-01")
    reported(beneficiary)
    return beneficiary


def a_tally() -> TownshipTally:
    tally = TownshipTally(program="reward", year=2026, township_code="130132100")
    refused(tally)
    return tally


def watched(cls, change):
    aggregate = cls(id=uuid4())
    change(aggregate)
    return aggregate


@pytest.mark.parametrize("make, command", [
    (a_case, joined),
    (lambda: watched(PatientScans, scanned), scanned),
    (lambda: watched(OutletSales, sold), sold),
    (lambda: watched(BirthTally, born), born),
    (a_beneficiary, reported_again_and_died),
    (a_tally, refused),
], ids=["case", "patient scans", "outlet sales", "birth tally", "beneficiary", "township tally"])
def test_a_command_on_a_copy_of_a_cached_aggregate_shares_its_state_and_leaves_it_unchanged(make, command):
    cached = make()
    cached.collect_events()
    before = repr(sorted(vars(cached).items()))

    for_command = copy.deepcopy(cached)
    shared = all(getattr(for_command, name) is value for name, value in vars(cached).items() if name != "_pending_events")
    command(for_command)

    assert shared, "the copy shares the cached state instead of copying it element by element"
    assert repr(sorted(vars(cached).items())) == before and cached.collect_events() == []
    assert for_command.version > cached.version and for_command.collect_events()
