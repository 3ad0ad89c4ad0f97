"""A township officer (乡级计生办) receives nothing of another township: the lists'
township filter is set to their own in the query that reads, asking for another
township is refused naming the field, and another township's record reads as absent."""

from __future__ import annotations

import pytest
from applications_support import World
from subsidy_support import OTHER_TOWNSHIP, TOWNSHIP, SubsidyWorld, resident

from tests.identity_support import token_issuer

OWN_APPLICATIONS = "130132102"  # the township of the applications World files


def township_officer(code: str) -> dict[str, str]:
    return token_issuer().headers(f"ts-{code}", ["township_officer"], [], code)


@pytest.fixture
def applications(announced, delivery, inbound_sample, protector) -> World:
    world = World(announced, delivery, inbound_sample, protector)
    world.submit("first_child_registration", "APP-130132102-2026-0001")
    world.submit("only_child_honor_certificate", "APP-130132102-2026-0002")
    return world


def test_a_township_officer_lists_only_their_townships_applications_and_the_county_sees_all(applications):
    own = applications.http.get("/applications", headers=township_officer(OWN_APPLICATIONS)).json()["rows"]
    other = applications.http.get("/applications", headers=township_officer("130132100")).json()["rows"]
    county = applications.http.get("/applications").json()["rows"]

    assert [r["application_id"] for r in own] == ["APP-130132102-2026-0001", "APP-130132102-2026-0002"]
    assert other == [], "another township's officer receives no row"
    assert len(county) == 2


def test_asking_for_another_township_is_refused_naming_the_field(applications):
    for path in ("/applications", "/applications/overdue"):
        response = applications.http.get(path, params={"township_code": OWN_APPLICATIONS}, headers=township_officer("130132100"))
        assert response.status_code == 403 and response.json()["detail"][0]["field"] == "township_code", path


def test_another_townships_application_reads_as_absent_and_the_own_one_reads(applications):
    mine = applications.http.get("/applications/APP-130132102-2026-0001", headers=township_officer(OWN_APPLICATIONS))
    theirs = applications.http.get("/applications/APP-130132102-2026-0001", headers=township_officer("130132100"))

    assert mine.status_code == 200 and mine.json()["township_code"] == OWN_APPLICATIONS
    assert theirs.status_code == 404 and "APP-130132102" not in theirs.text.replace("'APP-130132102-2026-0001'", "")


def test_the_overdue_list_of_a_township_officer_counts_only_their_township(applications):
    other = applications.http.get("/applications/overdue", params={"as_of": "2026-12-31"}, headers=township_officer("130132100")).json()
    own = applications.http.get("/applications/overdue", params={"as_of": "2026-12-31"}, headers=township_officer(OWN_APPLICATIONS)).json()

    assert other["applications"] == [] and own["applications"]


def test_a_township_officer_may_not_decide_or_read_county_wide_figures(applications):
    approve = applications.http.post("/applications/APP-130132102-2026-0001/approve", json={}, headers=township_officer(OWN_APPLICATIONS))
    satisfaction = applications.http.get("/applications/satisfaction", headers=township_officer(OWN_APPLICATIONS))
    assert approve.status_code == satisfaction.status_code == 403


@pytest.fixture
def subsidies(announced, delivery, protector) -> SubsidyWorld:
    world = SubsidyWorld(announced, delivery, protector)
    world.report(resident("1960-03-03", 5), township=TOWNSHIP)
    world.report(resident("1961-04-04", 7), township=OTHER_TOWNSHIP)
    world.report(resident("1962-05-05", 9), township=TOWNSHIP)
    world.report(resident("1962-05-05", 9), township=OTHER_TOWNSHIP)  # one person reported by both townships
    return world


def test_a_township_officer_lists_only_beneficiaries_and_payments_of_their_township(subsidies):
    own = subsidies.http.get("/beneficiaries", headers=township_officer(TOWNSHIP)).json()["rows"]
    county = subsidies.http.get("/beneficiaries").json()["rows"]

    assert own and {r["township_code"] for r in own} == {TOWNSHIP}
    assert {r["township_code"] for r in county} == {TOWNSHIP, OTHER_TOWNSHIP}
    refused = subsidies.http.get("/beneficiaries", params={"township_code": OTHER_TOWNSHIP}, headers=township_officer(TOWNSHIP))
    assert refused.status_code == 403 and refused.json()["detail"][0]["field"] == "township_code"
    assert subsidies.http.get("/payments", params={"township_code": OTHER_TOWNSHIP}, headers=township_officer(TOWNSHIP)).status_code == 403


def test_a_beneficiary_reported_by_two_townships_shows_each_officer_only_their_own_enrolment(subsidies):
    shared = subsidies.person(resident("1962-05-05", 9)).beneficiary_id
    only_other = subsidies.person(resident("1961-04-04", 7)).beneficiary_id

    mine = subsidies.http.get(f"/beneficiaries/{shared}", headers=township_officer(TOWNSHIP)).json()
    hidden = subsidies.http.get(f"/beneficiaries/{only_other}", headers=township_officer(TOWNSHIP))

    assert [e["township_code"] for e in mine["enrolments"]] == [TOWNSHIP]
    assert "other_townships" not in mine["enrolments"][0] and OTHER_TOWNSHIP not in str(mine)
    assert hidden.status_code == 404
    county = subsidies.http.get(f"/beneficiaries/{shared}").json()
    assert county["enrolments"][0]["other_townships"] == [OTHER_TOWNSHIP]
