"""What may be held once is held once: an honor certificate per child, an exam
qualification per student and exam, re-checked when an application is approved (not
only when it was checked), safe when two approvals race; a conflict is a falsification
signal to enforcement. Revocations name a case enforcement opened and concluded as
substantiated. The county's own reception decides whether a township reported in time."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import get_args

import pytest
from applications_support import HUSBAND, WIFE, World, details_for, resident

from services.verification.domain.falsification import falsification_uuid
from services.verification.domain.registers import AlreadyHeldError, Claim, KnownCase, claim_id, known_case_id
from services.verification.domain.subsidy.beneficiary import beneficiary_uuid
from services.verification.entrypoints.http import Section
from services.verification.entrypoints.routes import ENFORCEMENT_CONSUMER, ENFORCEMENT_ROUTES
from shared.calendar import add_working_days
from shared.contracts.events.enforcement import case_change_subject
from shared.contracts.events.verification import FALSIFICATION_SIGNAL_SUBJECT
from shared.contracts.integration import read_event
from shared.messaging.topology import stream_for_subject

# Another couple claims the same child (or student): the fraud the registers exist for.
OTHER_WIFE, OTHER_HUSBAND = resident("1988-04-04", "F", 3), resident("1987-05-05", "M", 3)


@pytest.fixture
def world(announced, delivery, inbound_sample, protector) -> World:
    return World(announced, delivery, inbound_sample, protector)


def signals(world: World) -> list:
    return [read_event(m.body) for m in world.announcements() if m.subject == FALSIFICATION_SIGNAL_SUBJECT]


def approve_and_issue(world: World, application_id: str, decider: str, clerk: str) -> None:
    for step, officer in (("approve", decider), ("publish", clerk), ("issue-certificate", clerk)):
        assert world.post(application_id, step, officer).status_code == 200


@pytest.mark.parametrize(("kind", "rule", "decider", "register"), [
    ("only_child_honor_certificate", "OC-2", "county_chief", "certificate"),
    ("exam_bonus_qualification", "EX-3", "chief", "qualification"),
])
def test_of_two_pending_applications_for_the_same_child_or_student_only_the_first_approval_holds(world, kind, rule, decider, register):
    world.submit(kind, "APP-1")
    world.submit(kind, "APP-2", applicant=OTHER_WIFE, spouse=OTHER_HUSBAND)
    assert world.finding("APP-1", rule)["outcome"] == world.finding("APP-2", rule)["outcome"] == "pass", "neither holds it yet"
    assert world.post("APP-1", "approve", decider).status_code == 200

    refused = world.post("APP-2", "approve", decider)

    assert refused.status_code == 409
    [problem] = refused.json()["detail"]
    assert problem["field"] == "findings" and rule in problem["message"] and "APP-1" in problem["message"]
    assert world.file("APP-2").status == "checked", "not approved"
    assert world.finding("APP-2", rule) == {"rule": rule, "outcome": "fail", "message": f"already granted: the {register} is held through application APP-1"}
    key = f"{register}:{world.file('APP-2').facts['child_ref' if register == 'certificate' else 'student_ref']}"
    if register == "qualification":
        key += ":gaokao:2026"
    assert world.store.find(claim_id(key)).holders == ["APP-1"]


def test_a_conflict_found_at_approval_is_one_falsification_signal_to_enforcement_with_its_evidence(world):
    world.submit("only_child_honor_certificate", "APP-OC-1")
    world.submit("only_child_honor_certificate", "APP-OC-2", applicant=OTHER_WIFE, spouse=OTHER_HUSBAND)
    approve_and_issue(world, "APP-OC-1", "county_chief", "county_clerk")
    assert signals(world) == [], "nothing contradicts anything while both are pending"

    world.post("APP-OC-2", "approve", "county_chief")
    again = world.post("APP-OC-2", "approve", "county_chief")

    assert again.status_code == 409 and "APP-OC-1" in again.json()["detail"][0]["message"]
    [signal] = signals(world)
    payload, file = signal.payload, world.file("APP-OC-2")
    assert payload.signal_id == f"FS-{falsification_uuid('certificate_already_held', 'APP-OC-2').hex[:12].upper()}"
    assert (payload.pattern, payload.subject, payload.application_kind, payload.township_code) == (
        "certificate_already_held", "application:APP-OC-2", "only_child_honor_certificate", "130132102")
    assert payload.evidence == [file.intake_event_id, world.file("APP-OC-1").intake_event_id] and payload.evidence[0].startswith("intake-")
    assert payload.person_refs == [file.facts["child_ref"]]
    assert payload.summary == "该子女已持有独生子女父母光荣证（APP-OC-1），再次申领，疑似弄虚作假"
    assert "王一诺" not in signal.envelope.model_dump_json(), "no personal data travels"
    assert (signal.envelope.correlation_id, payload.detected_on) == ("APP-OC-2", "2026-03-10")


def test_a_child_already_holding_a_certificate_is_signalled_when_the_application_arrives_and_once_only(world):
    world.submit("only_child_honor_certificate", "APP-OC-1")
    approve_and_issue(world, "APP-OC-1", "county_chief", "county_clerk")

    world.submit("only_child_honor_certificate", "APP-OC-2", applicant=OTHER_WIFE, spouse=OTHER_HUSBAND)
    assert world.finding("APP-OC-2", "OC-2")["outcome"] == "fail"
    assert world.post("APP-OC-2", "check", "county_clerk").status_code == 200
    assert world.post("APP-OC-2", "approve", "county_chief").status_code == 409

    assert [s.payload.application_id for s in signals(world)] == ["APP-OC-2"]


def test_two_approvals_racing_for_one_certificate_meet_on_the_register_and_the_loser_is_refused(world, monkeypatch):
    world.submit("only_child_honor_certificate", "APP-OC-1")
    world.submit("only_child_honor_certificate", "APP-OC-2", applicant=OTHER_WIFE, spouse=OTHER_HUSBAND)
    register = claim_id(f"certificate:{world.file('APP-OC-2').facts['child_ref']}")
    assert world.post("APP-OC-1", "approve", "county_chief").status_code == 200
    read_before_the_other_saved = {register}
    find = world.store.find

    def racing_find(aggregate_id):  # the second approval read the register before the first one was saved
        if aggregate_id in read_before_the_other_saved:
            read_before_the_other_saved.discard(aggregate_id)
            return None
        return find(aggregate_id)

    monkeypatch.setattr(world.store, "find", racing_find)
    response = world.post("APP-OC-2", "approve", "county_chief")

    assert not read_before_the_other_saved, "the stale read happened"
    assert response.status_code == 409 and "APP-OC-1" in response.json()["detail"][0]["message"]
    assert find(register).holders == ["APP-OC-1"] and world.file("APP-OC-2").status == "checked"


def test_the_register_itself_refuses_a_second_holder_naming_the_rule_and_the_holder():
    register = Claim(key="certificate:abc")
    register.hold("APP-1", "OC-2")
    register.hold("APP-1", "OC-2")  # the same holder again changes nothing

    with pytest.raises(AlreadyHeldError) as refused:
        register.hold("APP-2", "OC-2")

    assert (refused.value.rule, refused.value.holder, refused.value.status) == ("OC-2", "APP-1", 409)
    assert register.holders == ["APP-1"]


def revoke(world: World, case_number: str):
    return world.post("APP-130132102-2026-0057", "revoke", "brigade", reason="结婚证系伪造", enforcement_case=case_number)


def test_a_revocation_naming_a_case_enforcement_never_announced_is_refused(world):
    world.submit("first_child_registration")
    approve_and_issue(world, "APP-130132102-2026-0057", "county_chief", "county_clerk")

    unknown = revoke(world, "ZF-2026-NOSUCH00")

    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["field"] == "enforcement_case" and "ZF-2026-NOSUCH00" in unknown.json()["detail"][0]["message"]
    assert world.file("APP-130132102-2026-0057").status == "certificate_issued", "nothing changed"


@pytest.mark.parametrize(("changes", "why"), [
    ((), "is not concluded yet (status: opened)"),
    ((("concluded", "concluded", {"substantiated": False, "concluded_on": "2026-03-10"}),), "was concluded as not substantiated"),
    ((("concluded", "concluded", {"substantiated": True, "concluded_on": "2026-03-10"}), ("reopened", "reopened", {})),
     "is not concluded yet (status: reopened)"),
], ids=["opened-only", "not-substantiated", "reopened-after-its-conclusion"])
def test_a_revocation_naming_a_case_not_concluded_as_substantiated_is_refused_saying_why(world, changes, why):
    world.submit("first_child_registration")
    approve_and_issue(world, "APP-130132102-2026-0057", "county_chief", "county_clerk")
    case_number = world.case_changes(world.open_case("ZF-2026-1A2B3C4D"), *changes)

    refused = revoke(world, case_number)

    assert refused.status_code == 409
    [detail] = refused.json()["detail"]
    assert detail["field"] == "enforcement_case" and detail["message"].startswith("执法大队案件 ZF-2026-1A2B3C4D ")
    assert f"· enforcement case ZF-2026-1A2B3C4D {why}" in detail["message"] and "concluded as substantiated" in detail["message"]
    assert world.file("APP-130132102-2026-0057").status == "certificate_issued", "nothing changed"


def test_a_revocation_naming_a_case_concluded_as_substantiated_is_accepted_and_stays_so_once_the_case_is_closed(world):
    world.submit("first_child_registration")
    approve_and_issue(world, "APP-130132102-2026-0057", "county_chief", "county_clerk")
    case_number = world.conclude_case(world.open_case("ZF-2026-1A2B3C4D"), substantiated=True)
    world.case_changes(case_number, ("closed", "closed", {}))

    revoked = revoke(world, case_number)

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revocation"]["enforcement_case"] == case_number
    known = world.store.find(known_case_id(case_number))
    assert (known.status, known.substantiated) == ("closed", True)


def test_the_register_of_known_cases_follows_each_conclusion_and_a_reopening_withdraws_it():
    case = KnownCase(case_number="ZF-2026-1A2B3C4D", case_id="c-1", status="opened", heard_on="2026-03-01")
    assert not case.proves_falsification
    assert case.note_conclusion(True, "2026-03-05") and case.proves_falsification
    assert not case.note_conclusion(True, "2026-03-05"), "a redelivered conclusion changes nothing"
    assert case.note_status("closed", "2026-03-06") and case.proves_falsification, "closing keeps the conclusion"
    assert case.note_status("reopened", "2026-03-07") and not case.proves_falsification
    assert case.note_conclusion(False, "2026-03-09") and not case.proves_falsification


def test_only_the_owning_section_records_a_withdrawal(world):
    world.submit("first_child_registration")

    wrong = world.post("APP-130132102-2026-0057", "withdraw", "clerk", reason="申请人撤回")

    assert wrong.status_code == 403 and wrong.json()["detail"][0]["field"] == "officer.section"
    assert world.file("APP-130132102-2026-0057").status == "checked"
    assert world.post("APP-130132102-2026-0057", "withdraw", "county_clerk", reason="申请人撤回").json()["status"] == "withdrawn"


def test_the_sections_officers_may_name_are_those_of_the_duty_register():
    register = json.loads((Path(__file__).parents[2] / "services" / "intake" / "adapters" / "duty_register.json").read_text(encoding="utf-8"))
    assert set(get_args(Section)) == set(register["sections"])


def test_the_countys_reception_not_the_townships_own_date_decides_c3_and_starts_the_clock(world):
    world.today = date(2026, 12, 31)
    file = world.submit("only_child_honor_certificate", received_on="2026-12-01", occurred_at="2026-12-02T09:00:00+08:00",
                        arrived_at="2026-12-21T10:00:00+08:00")

    assert file.policy_version == "HB-2021-R1", "received by the county on or after 2026-11-28"
    assert file.submitted_on == "2026-12-21" and file.facts["township_dated_on"] == "2026-12-02"
    assert world.finding(file.application_id, "C-3") == {"rule": "C-3", "outcome": "flag", "message": "the township passed it on after 14 working days (limit 10)"}
    backdated = world.finding(file.application_id, "C-4")
    assert backdated["outcome"] == "flag" and "倒签" in backdated["message"] and "2026-12-02" in backdated["message"] and "2026-12-21" in backdated["message"]
    clock = world.http.get(f"/applications/{file.application_id}", params={"as_of": "2026-12-21"}).json()["clock"]
    assert clock["started_on"] == "2026-12-21"
    assert clock["due_on"] == add_working_days(date(2026, 12, 21), 10, world.applications.calendar).isoformat()


def test_a_report_dated_the_day_the_county_received_it_passes_both_reporting_rules(world):
    file = world.submit("only_child_honor_certificate", received_on="2026-12-04", occurred_at="2026-12-07T08:00:00+08:00",
                        arrived_at="2026-12-07T08:01:00+08:00")
    assert world.finding(file.application_id, "C-3")["outcome"] == world.finding(file.application_id, "C-4")["outcome"] == "pass"


def test_a_township_receiving_date_later_than_the_countys_reception_neither_starts_the_clock_nor_passes_c3(world):
    # The township's own clock runs ahead: it dates its report (and its receiving) after the county already has it.
    world.today = date(2026, 12, 31)
    file = world.submit("only_child_honor_certificate", received_on="2026-12-10", occurred_at="2026-12-10T09:00:00+08:00",
                        arrived_at="2026-12-08T10:00:00+08:00")

    assert file.submitted_on == "2026-12-08", "the clock starts at the county's reception only"
    clock = world.http.get(f"/applications/{file.application_id}", params={"as_of": "2026-12-08"}).json()["clock"]
    assert clock["started_on"] == "2026-12-08"
    assert world.finding(file.application_id, "C-3") == {"rule": "C-3", "outcome": "flag", "message": (
        "乡镇填报的受理日期 2026-12-10 晚于县局接收日期 2026-12-08，日期不可能 · "
        "the township says it received the application on 2026-12-10, after the county received it on 2026-12-08")}
    assert world.post(file.application_id, "approve", "county_chief").status_code == 200, "a flag informs the officer, it does not block"


def test_an_application_the_county_received_before_hb_2021_r1_keeps_the_rules_of_its_date(world):
    """Re-explained under HB-2021: C-3 counted to the date on the township's report, and no C-4."""
    world.today = date(2026, 4, 1)
    file = world.submit("only_child_honor_certificate", received_on="2026-03-02", occurred_at="2026-03-03T09:00:00+08:00",
                        arrived_at="2026-03-20T10:00:00+08:00")

    assert file.policy_version == "HB-2021" and file.submitted_on == "2026-03-20"
    assert world.finding(file.application_id, "C-3") == {"rule": "C-3", "outcome": "pass", "message": "the township passed it on within 1 working days (limit 10)"}
    assert "C-4" not in {f["rule"] for f in file.findings}
    assert world.http.get(f"/applications/{file.application_id}", params={"as_of": "2026-03-20"}).json()["clock"]["started_on"] == "2026-03-20"


def test_an_application_received_before_2021_11_23_is_decided_under_hb_2016_with_its_time_limit(world):
    world.today = date(2021, 7, 1)
    third = {"name": "王小三", "sex": "M", "birth_date": "2020-10-01", "id_number": resident("2020-10-01", "M", 9), "status": "healthy"}
    details = details_for("rebirth_approval")
    details["existing_children"] = [*details["existing_children"], third]

    file = world.submit("rebirth_approval", received_on="2021-06-01", occurred_at="2021-06-03T09:00:00+08:00", details=details)

    assert (file.policy_version, file.time_limit) == ("HB-2016", 30)
    assert world.finding(file.application_id, "RB-2") == {"rule": "RB-2", "outcome": "fail", "message": "3 living children; approval is possible with at most 2"}
    clock = world.http.get(f"/applications/{file.application_id}", params={"as_of": "2021-06-03"}).json()["clock"]
    assert clock["due_on"] == add_working_days(date(2021, 6, 3), 30, world.applications.calendar).isoformat()
    refused = world.post(file.application_id, "refuse", "chief")
    assert refused.json()["decision"] == {"outcome": "refused", "on": "2021-07-01", "policy_version": "HB-2016",
                                          "reasons": [{"rule": "RB-2", "message": "3 living children; approval is possible with at most 2"}]}


def test_a_couple_applying_again_for_the_first_child_card_they_hold_is_signalled(world):
    world.submit("first_child_registration", "APP-FC-1")
    approve_and_issue(world, "APP-FC-1", "county_chief", "county_clerk")

    world.submit("first_child_registration", "APP-FC-2", applicant=HUSBAND, spouse=WIFE)

    assert world.finding("APP-FC-2", "FC-2")["outcome"] == "fail"
    [signal] = signals(world)
    assert signal.payload.summary == "该夫妻已领取第一个子女生育登记卡（APP-FC-1），再次申领，疑似弄虚作假"
    assert sorted(signal.payload.person_refs) == sorted([world.file("APP-FC-1").applicant_ref, world.file("APP-FC-1").spouse_ref])


def test_a_child_declared_living_whom_a_death_report_records_as_dead_is_a_falsification_signal(world):
    details = details_for("rebirth_approval")
    disabled = details["existing_children"][0]
    world.death(disabled["id_number"], "2024-02-01")

    file = world.submit("rebirth_approval", details=details)

    [signal] = signals(world)
    child_ref = world.applications.protector.person_ref(disabled["id_number"])
    [death_report] = world.store.find(beneficiary_uuid(child_ref)).death_evidence
    assert (signal.payload.pattern, signal.payload.subject) == ("declared_children_mismatch", f"application:{file.application_id}")
    assert signal.payload.summary == "申报为存活的子女中有1人已有死亡登记，申报子女与登记不符，疑似弄虚作假"
    assert signal.payload.evidence == [file.intake_event_id, death_report] and death_report.startswith("intake-")
    assert signal.payload.person_refs == [child_ref]


def test_a_child_declared_deceased_or_dying_after_the_application_is_no_contradiction(world):
    details = details_for("rebirth_approval")
    details["existing_children"][1] = dict(details["existing_children"][1], status="deceased")
    world.death(details["existing_children"][1]["id_number"], "2024-02-01")
    world.death(details["existing_children"][0]["id_number"], "2026-03-08")  # after the township received it (03-06)

    world.submit("rebirth_approval", details=details)

    assert signals(world) == []


def test_signals_go_to_verifications_stream_and_every_case_subject_verification_follows_has_a_route():
    assert stream_for_subject(FALSIFICATION_SIGNAL_SUBJECT) == "FP_VERIFICATION"
    assert set(ENFORCEMENT_CONSUMER.filter_subjects) == set(ENFORCEMENT_ROUTES)
    assert {case_change_subject(c) for c in ("concluded", "closed", "reopened")} <= set(ENFORCEMENT_CONSUMER.filter_subjects)
