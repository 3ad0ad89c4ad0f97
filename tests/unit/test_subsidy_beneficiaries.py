"""Beneficiaries: townships report, verification checks at once, the county confirms;
deaths, the pension roll and proven fraud suspend; re-reports and duplicates are caught."""

from __future__ import annotations

import pytest
from subsidy_support import CHILD_DIED, OTHER_TOWNSHIP, TOWNSHIP, SubsidyWorld, resident


@pytest.fixture
def world(announced, delivery, protector) -> SubsidyWorld:
    return SubsidyWorld(announced, delivery, protector)


ELDER = resident("1960-05-01", 3)
MOTHER = resident("1970-02-11", 4)


def enrolment(world: SubsidyWorld, id_number: str, program: str = "reward", year: int = 2026) -> dict:
    return world.person(id_number).enrolment(program, year)


def test_a_complete_report_is_checked_at_once_and_awaits_the_countys_confirmation(world):
    person = world.report(ELDER)

    assert enrolment(world, ELDER)["status"] == "eligible"
    response = world.post(f"/beneficiaries/{person.beneficiary_id}/confirm", "assist", program="reward", year=2026, on="2026-03-20")

    assert response.status_code == 200, response.text
    [confirmed] = response.json()["enrolments"]
    assert confirmed["status"] == "confirmed" and confirmed["yearly_amount"] == "960.00"
    assert confirmed["decision"]["rules"] == ["RW-1", "RW-2", "RW-3", "X-1", "X-2"]


def test_a_failed_rule_refuses_automatically_with_no_officer_citing_the_rule(world):
    world.report(ELDER, reason={"type": "only_child", "household_type": "urban"})

    refused = enrolment(world, ELDER)
    assert refused["status"] == "refused"
    assert refused["decision"] == {"outcome": "refused", "on": "2026-03-02", "officer": None,
                                   "reasons": [{"rule": "RW-1", "message": "a urban household; only rural households qualify"}]}
    [announced] = world.announcements("verification.beneficiary.refused")
    assert announced["payload"]["officer_id"] is None and announced["payload"]["reasons"][0]["rule"] == "RW-1"


def test_missing_information_leaves_it_incomplete_until_the_township_reports_it_again(world):
    world.report(ELDER, reason={"type": "only_child"}, record_id="JSB-1")
    assert enrolment(world, ELDER)["status"] == "incomplete"

    world.report(ELDER, reason={"type": "only_child"}, record_id="JSB-1")  # the same record again: nothing new
    world.report(ELDER, reason={"type": "only_child", "household_type": "rural"}, record_id="JSB-2")

    again = enrolment(world, ELDER)
    assert again["status"] == "eligible" and len(again["submission_ids"]) == 2
    assert [a["payload"]["outcome"] for a in world.announcements("verification.beneficiary.checked")] == ["incomplete", "eligible"]


def test_the_same_person_reported_by_a_second_township_is_a_false_reporting_signal(world):
    person = world.report(ELDER)
    world.report(ELDER, township=OTHER_TOWNSHIP)

    assert enrolment(world, ELDER)["township_code"] == TOWNSHIP, "the first report keeps the enrolment"
    assert enrolment(world, ELDER)["other_townships"] == [OTHER_TOWNSHIP]
    [signal] = world.http.get("/subsidy-signals", params={"pattern": "duplicate_enrolment"}).json()["rows"]
    assert signal["subject"] == f"beneficiary:{person.beneficiary_id}" and signal["offence"] == "false_reporting"
    assert len(signal["evidence"]) == 2


def test_enrolment_in_both_programs_in_one_year_is_refused_and_signalled(world):
    world.report(MOTHER, program="special", reason=CHILD_DIED)
    world.report(MOTHER, program="reward", reason={"type": "only_child", "household_type": "rural"})

    assert enrolment(world, MOTHER, "special")["status"] == "eligible"
    reward = enrolment(world, MOTHER, "reward")
    assert reward["status"] == "refused" and {r["rule"] for r in reward["decision"]["reasons"]} >= {"X-1"}
    assert [s["pattern"] for s in world.http.get("/subsidy-signals").json()["rows"]] == ["duplicate_enrolment"]


def test_only_the_assistance_center_confirms_and_a_refusal_cites_known_rules(world):
    person = world.report(ELDER)
    path = f"/beneficiaries/{person.beneficiary_id}"

    wrong = world.post(f"{path}/confirm", "clerk", program="reward", year=2026)
    unknown = world.post(f"{path}/refuse", "assist", program="reward", year=2026, reasons=[{"rule": "ZZ-9", "message": "?"}])
    not_reported = world.post(f"{path}/confirm", "assist", program="special", year=2026)

    assert wrong.status_code == 403 and "subsidies.work" in wrong.json()["detail"][0]["message"], "法规科 holds no right on subsidies"
    assert unknown.status_code == 422 and "ZZ-9" in unknown.json()["detail"][0]["message"]
    assert not_reported.status_code == 404
    refused = world.post(f"{path}/refuse", "assist", program="reward", year=2026, reasons=[{"rule": "RW-3", "message": "走访核实有两个儿子"}])
    assert refused.status_code == 200 and refused.json()["enrolments"][0]["status"] == "refused"


def test_confirming_a_township_confirms_every_eligible_enrolment_in_it(world):
    a, b = world.report(resident("1958-01-01", 5)), world.report(resident("1959-01-01", 6))
    world.report(resident("1957-01-01", 7), township=OTHER_TOWNSHIP)

    response = world.post("/beneficiaries/confirm", "assist", program="reward", year=2026, township_code=TOWNSHIP)

    assert sorted(response.json()["confirmed"]) == sorted([a.beneficiary_id, b.beneficiary_id])
    rows = world.http.get("/beneficiaries", params={"status": "eligible"}).json()["rows"]
    assert [r["township_code"] for r in rows] == [OTHER_TOWNSHIP]


def test_a_fraud_suspension_blocks_confirmation_until_an_officer_reinstates_with_a_reason(world):
    person = world.report(ELDER)
    path = f"/beneficiaries/{person.beneficiary_id}"

    suspended = world.post(f"{path}/suspend", "brigade", effective_on="2026-03-05", cause="fraud", reason="冒名顶替查实",
                           enforcement_case="ZF-2026-0A1B2C3D", on="2026-03-06")
    blocked = world.post(f"{path}/confirm", "assist", program="reward", year=2026, on="2026-03-10")
    reinstated = world.post(f"{path}/reinstate", "assist", reason="复查撤销", on="2026-03-12")
    confirmed = world.post(f"{path}/confirm", "assist", program="reward", year=2026, on="2026-03-12")

    assert suspended.status_code == 200 and suspended.json()["suspended"] is True
    assert blocked.status_code == 409 and "suspended since 2026-03-05" in blocked.json()["detail"][0]["message"]
    assert reinstated.status_code == 200 and reinstated.json()["suspended"] is False
    assert confirmed.status_code == 200
    [announced] = world.announcements("verification.beneficiary.suspended")
    assert announced["payload"]["cause"] == "fraud" and announced["payload"]["effective_on"] == "2026-03-05"


def test_the_pension_roll_suspends_and_its_return_to_active_reinstates_automatically(world):
    world.report(ELDER)
    world.pension(ELDER, "suspended", "2026-04-01")
    assert world.person(ELDER).suspension_on("2026-04-15")["cause"] == "pension_suspended"

    world.pension(ELDER, "active", "2026-05-01")

    person = world.person(ELDER)
    assert person.suspension_on("2026-04-15") is not None and person.suspension_on("2026-05-01") is None
    [reinstated] = world.announcements("verification.beneficiary.reinstated")
    assert reinstated["payload"]["officer_id"] is None and "新农保" in reinstated["payload"]["reason"]


def test_a_death_suspends_and_a_report_for_a_later_year_is_refused_as_false_reporting(world):
    world.death(ELDER, "2025-08-01", occurred_at="2025-08-03T09:00:00+08:00")
    person = world.report(ELDER, year=2026)

    refused = enrolment(world, ELDER)
    assert refused["status"] == "refused" and [r["rule"] for r in refused["decision"]["reasons"]] == ["X-2"]
    assert person.suspension_on("2025-08-01")["cause"] == "death"
    [signal] = world.http.get("/subsidy-signals", params={"pattern": "deceased_reported"}).json()["rows"]
    assert signal["subject"] == f"beneficiary:{person.beneficiary_id}"


def test_a_person_reported_by_the_township_after_their_death_in_the_same_year_is_false_reporting(world):
    world.death(ELDER, "2026-02-10", occurred_at="2026-02-12T09:00:00+08:00")
    person = world.report(ELDER, year=2026, occurred_at="2026-03-02T10:00:00+08:00")

    refused = enrolment(world, ELDER)
    assert refused["status"] == "refused" and [r["rule"] for r in refused["decision"]["reasons"]] == ["X-2"]
    [signal] = world.http.get("/subsidy-signals", params={"pattern": "deceased_reported"}).json()["rows"]
    assert signal["subject"] == f"beneficiary:{person.beneficiary_id}" and signal["offence"] == "false_reporting"


def test_a_death_after_the_report_suspends_without_calling_the_report_false(world):
    world.report(ELDER, year=2026, occurred_at="2026-03-02T10:00:00+08:00")
    world.death(ELDER, "2026-04-10", occurred_at="2026-04-12T09:00:00+08:00")

    assert world.http.get("/subsidy-signals", params={"pattern": "deceased_reported"}).json()["rows"] == []
    assert world.person(ELDER).suspension_on("2026-04-10")["cause"] == "death"


def test_a_township_whose_reports_fail_unusually_often_is_signalled_as_an_office(world):
    for n in range(7):
        world.report(resident("1955-03-01", 10 + n))
    for n in range(3):
        world.report(resident("1975-03-01", 20 + n))  # 51 in 2026: too young for reward assistance

    [signal] = world.http.get("/subsidy-signals", params={"pattern": "township_failure_rate"}).json()["rows"]
    assert signal["subject"] == f"township:{TOWNSHIP}" and len(signal["evidence"]) == 3


def test_listing_filters_by_township_program_year_and_status(world):
    world.report(ELDER)
    world.report(MOTHER, program="special", township=OTHER_TOWNSHIP)

    rows = world.http.get("/beneficiaries", params={"program": "special", "year": 2026}).json()["rows"]

    assert [(r["township_code"], r["status"], r["suspended"]) for r in rows] == [(OTHER_TOWNSHIP, "eligible", False)]


def test_the_list_marks_who_is_suspended_now_reading_only_the_listed_beneficiaries_suspensions(world):
    elder, mother = world.report(ELDER), world.report(MOTHER, program="special", township=OTHER_TOWNSHIP)
    for person in (elder, mother):
        world.post(f"/beneficiaries/{person.beneficiary_id}/suspend", "brigade", effective_on="2026-03-05", cause="fraud",
                   reason="冒名顶替查实", enforcement_case="ZF-2026-0A1B2C3D", on="2026-03-06")
    world.post(f"/beneficiaries/{mother.beneficiary_id}/reinstate", "assist", reason="复查撤销", on="2026-03-12")
    world.index.catch_up()  # so that what the lists read below is theirs alone
    read: list[list[tuple[str, str]]] = []
    original = world.index.rows.load_many

    def recorded(wanted):
        read.append(list(wanted))
        return original(read[-1])

    world.index.rows.load_many = recorded

    listed = {r["beneficiary_id"]: r["suspended"] for r in world.http.get("/beneficiaries").json()["rows"]}
    reward_only = world.http.get("/beneficiaries", params={"program": "reward"}).json()["rows"]

    assert listed == {elder.beneficiary_id: True, mother.beneficiary_id: False}
    assert [r["suspended"] for r in reward_only] == [True]
    assert [sorted(kind for kind, _ in wanted) for wanted in read] == [["suspended"] * 2, ["suspended"]]  # the listed ones only


def test_the_listing_index_keeps_its_rows_and_position_and_never_goes_back(world):
    from shared.eventstore.index_rows import IndexRows

    world.report(ELDER, year=2026)
    rows = world.index.rows
    world.index.catch_up()
    reached = rows.position()
    [(key, row)] = rows.select("enrolment", {"program": "reward", "year": 2026})

    assert reached == world.store.log_head() and row["status"] == "eligible"
    assert rows.save({("enrolment", key): {**row, "status": "reported"}}, reached) is False  # an older batch: refused
    assert list(rows.select("enrolment", {"status": "eligible"})) == [(key, row)]
    assert isinstance(rows, IndexRows)
