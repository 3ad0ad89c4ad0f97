"""Applications from the township's publish to a certificate: automatic checks on the
decrypted details, officers' steps over HTTP with their section, segregation of duties,
certificates numbered per kind and year, and what is announced at each step."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from applications_support import HUSBAND, OFFICERS, WIFE, World, details_for, resident

from services.verification.domain.application_file import ApplicationFile
from shared.contracts.integration import read_event

CHINA = timezone(timedelta(hours=8))


@pytest.fixture
def world(announced, delivery, inbound_sample, protector) -> World:
    return World(announced, delivery, inbound_sample, protector)


def walk_to_certificate(world: World, application_id: str, decider: str = "chief", checker: str = "clerk") -> dict:
    for step, officer in (("approve", decider), ("publish", checker), ("issue-certificate", checker)):
        response = world.post(application_id, step, officer)
        assert response.status_code == 200, response.text
    return response.json()


def test_an_application_is_checked_on_arrival_and_every_finding_cites_its_rule(world):
    file = world.submit("rebirth_approval")

    assert file.status == "checked" and file.policy_version == "HB-2021" and file.time_limit == 20, "received by the county in March 2026"
    assert [(f["rule"], f["outcome"]) for f in file.findings] == [
        ("C-1", "pass"), ("C-2", "pass"), ("C-3", "pass"), ("RB-1", "pass"), ("RB-2", "pass"), ("RB-3", "pass")]
    assert file.facts["woman_age"] == 33 and file.facts["man_age"] == 36, "ages come from the decrypted resident IDs"
    assert file.facts["living_children"] == 2 and file.facts["reason_category"] == "disabled_child"
    assert WIFE not in json.dumps(file.facts, ensure_ascii=False), "no personal value is recorded"


def test_the_frozen_sample_with_a_number_of_children_is_checked_too(world, inbound_sample):
    _, message = inbound_sample("township.application.submitted")
    file = world.submit("rebirth_approval", details=message["data"]["details"])
    assert world.finding(file.application_id, "RB-2")["outcome"] == "pass"
    assert world.finding(file.application_id, "RB-3") == {"rule": "RB-3", "outcome": "missing", "message": "ground disabled_child needs: 病残儿医学鉴定证明"}


def test_a_rebirth_application_goes_from_publish_to_an_issued_certificate_and_each_step_records_its_officer(world):
    world.submit("rebirth_approval")
    certificate = walk_to_certificate(world, "APP-130132102-2026-0057")["certificate"]

    assert certificate["number"] == "130132-ZS-2026-00001" and certificate["code"] == "CODE0001"
    verified = world.http.get("/certificates/verify/code0001").json()
    assert verified["genuine"] and verified["current"] and verified["kind_zh"] == "再生育审批"
    subjects = [m.subject.removeprefix("fp.verification.") for m in world.announcements()]
    assert subjects == ["application.opened", "application.checked", "application.approved", "application.published", "certificate.issued"]
    approved = read_event(world.announcements()[2].body).payload
    assert (approved.officer_id, approved.officer_section, approved.section) == ("fg-li", "法规科", "法规科")
    assert approved.rules == ["C-1", "C-2", "C-3", "RB-1", "RB-2", "RB-3"] and approved.on == "2026-03-10"


def test_certificate_numbers_run_per_kind_and_year_and_are_never_reused(world):
    for n in (1, 2):
        world.submit("first_child_registration", f"APP-FC-{n}", applicant=resident(f"1998-01-0{n}", "F", n), spouse=None)
        walk_to_certificate(world, f"APP-FC-{n}", decider="county_chief", checker="county_clerk")
    world.submit("only_child_honor_certificate", "APP-OC-1")
    walk_to_certificate(world, "APP-OC-1", decider="county_chief", checker="county_clerk")
    world.today = date(2027, 1, 4)
    world.submit("first_child_registration", "APP-FC-3", applicant=resident("1998-01-03", "F", 3), spouse=None,
                 received_on="2027-01-04", occurred_at="2027-01-04T09:00:00+08:00")
    walk_to_certificate(world, "APP-FC-3", decider="county_chief", checker="county_clerk")

    numbers = [world.file(a).certificate["number"] for a in ("APP-FC-1", "APP-FC-2", "APP-OC-1", "APP-FC-3")]
    assert numbers == ["130132-DJ-2026-00001", "130132-DJ-2026-00002", "130132-GR-2026-00001", "130132-DJ-2027-00001"]
    revoked = world.post("APP-FC-2", "revoke", "brigade", reason="结婚证系伪造", enforcement_case=world.proven_case())
    assert revoked.json()["status"] == "revoked"
    world.submit("first_child_registration", "APP-FC-4", applicant=resident("1998-01-04", "F", 4), spouse=None,
                 received_on="2027-01-04", occurred_at="2027-01-04T09:00:00+08:00")
    assert walk_to_certificate(world, "APP-FC-4", decider="county_chief", checker="county_clerk")["certificate"]["number"] == "130132-DJ-2027-00002"


def test_a_revoked_certificate_is_genuine_but_no_longer_valid_and_names_the_enforcement_case(world):
    world.submit("only_child_honor_certificate")
    walk_to_certificate(world, "APP-130132102-2026-0057", decider="county_chief", checker="county_clerk")
    world.proven_case("ZF-2026-0000ABCD")
    response = world.post("APP-130132102-2026-0057", "revoke", "brigade", reason="出生医学证明系伪造", enforcement_case="ZF-2026-0000ABCD")

    assert response.status_code == 200 and response.json()["status"] == "revoked"
    verified = world.http.get("/certificates/verify/CODE0001").json()
    assert verified["genuine"] is True and verified["current"] is False and "出生医学证明系伪造" in verified["message"]
    revoked = read_event(world.announcements()[-1].body).payload
    assert (revoked.enforcement_case, revoked.certificate_no) == ("ZF-2026-0000ABCD", "130132-GR-2026-00001")
    assert world.http.get("/certificates/verify/NOSUCH99").status_code == 404


def test_missing_information_is_requested_and_supplied_then_the_application_can_be_approved(world):
    details = details_for("first_child_registration") | {"documents": ["结婚证"]}
    world.submit("first_child_registration", details=details)
    assert world.finding("APP-130132102-2026-0057", "FC-3")["outcome"] == "missing"
    blocked = world.post("APP-130132102-2026-0057", "approve", "county_chief")
    assert blocked.status_code == 409 and blocked.json()["detail"][0] == {"field": "findings", "message": "cannot approve while findings block it: FC-3 (missing)"}

    assert world.post("APP-130132102-2026-0057", "request-information", "county_clerk", items=["户口簿"], on="2026-03-10").status_code == 200
    world.today = date(2026, 3, 20)
    supplied = world.post("APP-130132102-2026-0057", "supply-information", "county_clerk", documents=["户口簿"], on="2026-03-20")

    assert supplied.json()["status"] == "checked" and world.finding("APP-130132102-2026-0057", "FC-3")["outcome"] == "pass"
    assert supplied.json()["pauses"] == [["2026-03-10", "2026-03-20"]]
    assert world.post("APP-130132102-2026-0057", "approve", "county_chief").status_code == 200


@pytest.mark.parametrize(("decider", "why"), [
    ("chief", "asked for information"),
    ("township", "filed the application"),
])
def test_segregation_of_duties_refuses_a_decision_by_whoever_filed_or_reviewed_it(world, decider, why):
    """On real identities: the head who asked for information, or whoever filed the
    application (here an account that is also a head of 法规科), may not decide it."""
    details = details_for("rebirth_approval") | {"documents": []}
    world.submit("rebirth_approval", details=details)
    world.post("APP-130132102-2026-0057", "request-information", "chief", items=["病残儿医学鉴定证明"])
    world.post("APP-130132102-2026-0057", "supply-information", "clerk", documents=["病残儿医学鉴定证明"])
    officer = OFFICERS["chief"] if decider == "chief" else {"id": "ts-130132102-zhou", "section": "法规科"}

    response = world.http.post("/applications/APP-130132102-2026-0057/approve", json={"officer": officer})

    assert response.status_code == 409
    assert response.json()["detail"][0]["field"] == "officer.id" and why in response.json()["detail"][0]["message"]


def test_only_the_owning_section_decides_and_bad_input_names_the_field(world):
    world.submit("rebirth_approval")
    wrong = world.post("APP-130132102-2026-0057", "approve", "county_chief")
    assert wrong.status_code == 403 and wrong.json()["detail"][0]["field"] == "officer.section"
    unknown = world.http.post("/applications/APP-130132102-2026-0057/approve", json={"officer": {"id": "x", "section": "教育局"}})
    assert unknown.status_code == 403 and unknown.json()["detail"][0]["field"] == "authorization", "an account with no role decides nothing"
    posing = world.http.post("/applications/APP-130132102-2026-0057/approve", json={"officer": OFFICERS["chief"]},
                             headers=world.officers.headers_for("xz-sun"))
    assert posing.status_code == 403 and posing.json()["detail"][0]["field"] == "officer.id", "the body cannot name another officer"
    no_section = world.http.post("/applications/APP-130132102-2026-0057/approve", json={})
    assert no_section.status_code == 422 and no_section.json()["detail"][0]["field"] == "officer.section", "a head of two sections says which acts"
    future = world.post("APP-130132102-2026-0057", "approve", "chief", on="2026-03-11")
    assert future.status_code == 422 and future.json()["detail"][0]["field"] == "on"
    assert world.post("APP-NOPE", "approve", "chief").status_code == 404


def test_a_refusal_cites_the_failed_rules_and_unknown_rules_are_rejected(world):
    world.submit("rebirth_approval", applicant=resident("1970-01-01", "F", 9))  # 56 years old
    assert world.finding("APP-130132102-2026-0057", "RB-1")["outcome"] == "fail"
    bad = world.post("APP-130132102-2026-0057", "refuse", "chief", reasons=[{"rule": "XX-9", "message": "?"}])
    assert bad.status_code == 422 and "XX-9" in bad.json()["detail"][0]["message"]

    refused = world.post("APP-130132102-2026-0057", "refuse", "chief")

    assert refused.status_code == 200
    assert refused.json()["decision"]["reasons"] == [{"rule": "RB-1", "message": "the woman is 56; the rule allows 20-49"}]
    assert world.post("APP-130132102-2026-0057", "publish", "clerk").json()["status"] == "published"
    assert world.post("APP-130132102-2026-0057", "issue-certificate", "clerk").status_code == 409


def test_the_same_couple_applying_twice_is_a_duplicate_until_the_first_is_withdrawn(world):
    world.submit("first_child_registration", "APP-1")
    second = world.submit("first_child_registration", "APP-2", applicant=HUSBAND, spouse=WIFE)
    assert world.finding("APP-2", "C-2") == {"rule": "C-2", "outcome": "fail",
                                             "message": "the same couple already has application APP-1 of this kind in hand or approved"}
    assert second.applicant_ref != world.file("APP-1").applicant_ref, "matched by person_refs in either order"

    assert world.post("APP-1", "withdraw", "county_clerk", reason="申请人撤回").json()["status"] == "withdrawn"
    assert world.post("APP-2", "check", "county_clerk").json()["findings"][1]["outcome"] == "pass"


def test_a_child_already_holding_an_honor_certificate_and_a_student_already_qualified_are_found_by_person_ref(world):
    world.submit("only_child_honor_certificate", "APP-OC-1")
    walk_to_certificate(world, "APP-OC-1", decider="county_chief", checker="county_clerk")
    world.submit("only_child_honor_certificate", "APP-OC-2", applicant=HUSBAND, spouse=WIFE)
    assert world.finding("APP-OC-2", "OC-2")["message"] == "already granted: the certificate is held through application APP-OC-1"

    world.submit("exam_bonus_qualification", "APP-EX-1")
    assert world.post("APP-EX-1", "approve", "chief").status_code == 200
    world.submit("exam_bonus_qualification", "APP-EX-2", applicant=resident("1975-01-01", "F", 3), spouse=resident("1974-01-01", "M", 3))
    assert world.finding("APP-EX-2", "EX-3")["outcome"] == "fail"
    world.submit("exam_bonus_qualification", "APP-EX-3", applicant=resident("1976-01-01", "F", 4), spouse=None,
                 details=details_for("exam_bonus_qualification") | {"exam": "zhongkao"})
    assert world.finding("APP-EX-3", "EX-3")["outcome"] == "pass", "one qualification per student *per exam*"


def test_a_late_exam_filing_and_a_late_township_report_are_recorded_and_flagged_not_dropped(world):
    world.today = date(2026, 6, 1)
    file = world.submit("exam_bonus_qualification", received_on="2026-05-06", occurred_at="2026-05-28T10:00:00+08:00")
    assert world.finding(file.application_id, "EX-2")["outcome"] == "flag"
    assert world.finding(file.application_id, "C-3")["outcome"] == "flag"
    assert world.post(file.application_id, "approve", "chief").status_code == 200, "flags inform the officer, they do not block"


def test_a_rating_is_attached_to_the_application_and_counted_for_its_section_and_township(world):
    world.submit("first_child_registration")
    world.rate("APP-130132102-2026-0057", 4)
    world.rate("APP-130132102-2026-0057", 2, record_id="OH-2")

    assert [r["score"] for r in world.file("APP-130132102-2026-0057").ratings] == [4, 2]
    summary = world.http.get("/applications/satisfaction").json()
    assert summary["by_section"] == {"县直科": {"ratings": 2, "average": 3.0}}
    assert summary["by_township"] == {"130132102": {"ratings": 2, "average": 3.0}}
    rated = read_event(world.announcements()[-1].body).payload
    assert (rated.score, rated.section, rated.township_code) == (2, "县直科", "130132102")


def test_the_applications_index_keeps_its_rows_so_a_restart_reads_only_what_is_new(world):
    from services.verification.application.queries import ApplicationIndex

    world.submit("first_child_registration")
    world.rate("APP-130132102-2026-0057", 4)
    before = list(world.queries.index.select(kind="first_child_registration"))
    reached = world.store.log_head()
    asked_from = []
    read_log = world.store.read_log
    world.store.read_log = lambda after, limit: asked_from.append(after) or read_log(after, limit)

    restarted = ApplicationIndex(world.store, world.queries.index.rows)  # the same database, a new process
    after = list(restarted.select(kind="first_child_registration"))

    assert after == before and [(r["status"], r["scores"], r["kind"]) for r in after] == [("checked", [4], "first_child_registration")]
    assert asked_from == [reached], "the log is read from the position the rows reached, not from the start"
    assert list(restarted.select(kind="rebirth_approval")) == [] and list(restarted.select(section="县直科")) == after


def test_without_the_key_store_the_personal_checks_ask_for_the_information(announced, delivery, inbound_sample, protector):
    world = World(announced, delivery, inbound_sample, protector)
    world.applications.protector = None
    world.submit("rebirth_approval")
    assert world.finding("APP-130132102-2026-0057", "RB-1")["outcome"] == "missing"
    assert world.finding("APP-130132102-2026-0057", "RB-2")["outcome"] == "missing"


def test_overdue_applications_are_listed_per_section_and_township_and_warned_once_before_they_breach(world):
    world.submit("first_child_registration", "APP-FC", occurred_at="2026-03-09T09:00:00+08:00")  # 5 working days: due 03-16
    world.submit("rebirth_approval", "APP-RB", applicant=resident("1991-01-01", "F", 2), spouse=None)  # 20 working days: due 04-07
    world.submit("only_child_honor_certificate", "APP-OC", received_on="2026-03-09")  # 10 working days: due 03-23

    on_the_12th = world.http.get("/applications/overdue", params={"as_of": "2026-03-12"}).json()
    assert [(a["application_id"], a["clock"]["state"], a["clock"]["working_days_left"]) for a in on_the_12th["applications"]] == [("APP-FC", "nearing", 2)]
    later = world.http.get("/applications/overdue", params={"as_of": "2026-03-20"}).json()
    assert [(a["application_id"], a["clock"]["state"]) for a in later["applications"]] == [("APP-FC", "overdue"), ("APP-OC", "nearing")]
    assert later["by_section"] == {"县直科": {"overdue": 1, "nearing": 1}}
    assert later["by_township"] == {"130132102": {"overdue": 1, "nearing": 1}}
    assert world.http.get("/applications/overdue", params={"as_of": "2026-03-20", "section": "法规科"}).json()["applications"] == []

    assert world.http.post("/applications/warnings", params={"as_of": "2026-03-12"}).json()["warned"] == ["APP-FC"]
    assert world.http.post("/applications/warnings", params={"as_of": "2026-03-13"}).json()["warned"] == [], "once per due date"
    assert sorted(world.http.post("/applications/warnings", params={"as_of": "2026-03-20"}).json()["warned"]) == ["APP-OC"]
    warning = read_event(world.announcements()[-1].body).payload
    assert (warning.application_id, warning.due_on, warning.working_days_left, warning.section) == ("APP-OC", "2026-03-23", 1, "县直科")


def test_the_warning_sweep_and_the_overdue_list_load_only_open_applications(world):
    world.submit("first_child_registration", "APP-OPEN", occurred_at="2026-03-09T09:00:00+08:00")
    world.submit("rebirth_approval", "APP-DONE")
    walk_to_certificate(world, "APP-DONE")
    loaded = []
    look = world.store.find_in_passing  # a sweep's look: it leaves the aggregate cache as it was
    world.store.find_in_passing = lambda aggregate_id: loaded.append(aggregate_id) or look(aggregate_id)

    world.http.post("/applications/warnings", params={"as_of": "2026-03-20"})
    world.http.get("/applications/overdue", params={"as_of": "2026-03-20"})

    assert set(loaded) == {ApplicationFile.create_id("APP-OPEN")}, "a decided application has no clock to read"


def test_the_sweep_and_the_overdue_list_pass_over_open_applications_whose_clock_cannot_warn_yet(world):
    world.submit("first_child_registration", "APP-FC", occurred_at="2026-03-09T09:00:00+08:00")  # 5 working days: due 03-16
    world.submit("only_child_honor_certificate", "APP-OC", received_on="2026-03-09")  # 10 working days: due 03-23
    world.submit("rebirth_approval", "APP-RB", applicant=resident("1991-01-01", "F", 2), spouse=None)  # 20 working days: due 04-07
    loaded = []
    look = world.store.find_in_passing
    world.store.find_in_passing = lambda aggregate_id: loaded.append(aggregate_id) or look(aggregate_id)

    def loaded_on(as_of: str) -> set:
        loaded.clear()
        world.http.post("/applications/warnings", params={"as_of": as_of})
        world.http.get("/applications/overdue", params={"as_of": as_of})
        return {ApplicationFile.create_id(a) for a in ("APP-FC", "APP-OC", "APP-RB")} & set(loaded)

    assert loaded_on("2026-03-10") == set(), "days from any limit: no file is loaded"
    assert loaded_on("2026-03-12") == {ApplicationFile.create_id("APP-FC")}
    assert loaded_on("2026-03-20") == {ApplicationFile.create_id("APP-FC"), ApplicationFile.create_id("APP-OC")}
    listed = world.http.get("/applications/overdue", params={"as_of": "2026-04-03"}).json()["applications"]
    assert {a["application_id"]: a["clock"]["state"] for a in listed} == {"APP-FC": "overdue", "APP-OC": "overdue", "APP-RB": "nearing"}


def test_a_row_kept_before_rows_held_the_clocks_inputs_has_its_file_looked_at_and_an_unchecked_one_has_no_clock(world):
    assert world.queries.may_warn({"application_id": "APP-OLD", "status": "checked"}, date(2026, 3, 10)) is True
    assert world.queries.may_warn({"submitted_on": "2026-03-09", "time_limit": None, "policy_version": None}, date(2030, 1, 1)) is False


def test_rows_kept_by_an_older_version_are_rewritten_once_from_the_log_with_the_clocks_inputs(world, tmp_path):
    from services.verification.adapters.index_rows import APPLICATIONS
    from services.verification.application.queries import ApplicationIndex
    from shared.eventstore.index_rows import IndexRows, IndexTable

    world.submit("first_child_registration", "APP-FC", occurred_at="2026-03-09T09:00:00+08:00")
    url = f"sqlite:///{tmp_path / 'verification.db'}"
    before = IndexRows(url, IndexTable("applications", APPLICATIONS.table))  # the same table, under the index's former name
    key = str(ApplicationFile.create_id("APP-FC"))
    before.save({("application", key): {"application_id": "APP-FC", "application_kind": "first_child_registration",
                                        "township_code": "130132102", "section": "县直科", "status": "checked", "scores": []}}, world.store.log_head())

    [row] = ApplicationIndex(world.store, IndexRows(url, APPLICATIONS)).select()

    assert (row["application_id"], row["submitted_on"], row["time_limit"]) == ("APP-FC", "2026-03-09", 5)


def test_requesting_information_stops_the_clock_and_a_decision_stops_it_for_good(world):
    world.submit("first_child_registration", details=details_for("first_child_registration") | {"documents": []})
    world.post("APP-130132102-2026-0057", "request-information", "county_clerk", items=["结婚证", "户口簿"])
    assert world.http.get("/applications/APP-130132102-2026-0057", params={"as_of": "2026-05-01"}).json()["clock"]["state"] == "paused"
    assert world.http.get("/applications/overdue", params={"as_of": "2026-05-01"}).json()["applications"] == []

    world.today = date(2026, 3, 16)
    world.post("APP-130132102-2026-0057", "supply-information", "county_clerk", documents=["结婚证", "户口簿"])
    world.post("APP-130132102-2026-0057", "approve", "county_chief")
    clock = world.http.get("/applications/APP-130132102-2026-0057", params={"as_of": "2026-12-31"}).json()["clock"]
    assert (clock["state"], clock["used_working_days"]) == ("stopped", 1)


def test_steps_out_of_order_are_refused_with_the_state_named(world):
    world.submit("first_child_registration")
    response = world.post("APP-130132102-2026-0057", "issue-certificate", "county_clerk")
    assert response.status_code == 409 and "approved, published decision" in response.json()["detail"][0]["message"]
    assert world.post("APP-130132102-2026-0057", "supply-information", "county_clerk", documents=["x"]).status_code == 409
    early = world.post("APP-130132102-2026-0057", "approve", "county_chief", on="2026-03-01")
    assert early.status_code == 422 and "before the application's last step" in early.json()["detail"][0]["message"]


def test_the_demo_driver_leaves_every_kind_in_every_state(announced, delivery, inbound_sample, protector):
    from cli.demo.applications_driver import DEMO_STATES, drive_applications
    from cli.demo.records import generate_demo_records

    now = datetime.now(timezone.utc)
    today = now.astimezone(CHINA).date()
    world = World(announced, delivery, inbound_sample, protector, today=today)
    for n, (subject, envelope) in enumerate(generate_demo_records(year=today.year - 1)):
        if subject.endswith("application.submitted"):  # the county receives last year's demo now
            world.deliver("township.application.submitted", dict(envelope, subject=subject), n + 1, envelope["data"]["application_id"], arrived_at=now)
    rows = world.http.get("/applications").json()["rows"]
    reported = [world.finding(r["application_id"], "C-3")["outcome"] for r in rows]
    assert reported.count("pass") > reported.count("flag") > 0, "most townships report on time, some late (by the county's reception)"
    backdated = [world.finding(r["application_id"], "C-4")["outcome"] for r in rows]
    assert backdated.count("pass") > backdated.count("flag") > 0, "a few townships backdate their reports"
    cases = itertools.count(1)
    said: list[str] = []

    states = drive_applications("http://testserver", said.append, today=today, timeout=5, client=world.http,
                                open_case=lambda row: world.proven_case(f"ZF-{today.year}-DEMO{next(cases):04d}"))

    assert {kind: set(counts) for kind, counts in states.items()} == dict.fromkeys(
        ("rebirth_approval", "first_child_registration", "only_child_honor_certificate", "exam_bonus_qualification"), DEMO_STATES)
    assert len(said) == 4 and all("certificate_issued" in line for line in said)
    revoked = [world.file(r["application_id"]) for r in world.http.get("/applications", params={"status": "revoked"}).json()["rows"]]
    assert all(f.revocation["enforcement_case"].startswith(f"ZF-{today.year}-DEMO") for f in revoked)
    later = (today + timedelta(days=45)).isoformat()
    assert world.http.get("/applications/overdue", params={"as_of": later}).json()["by_section"], "what is left open runs out of time"
    again = drive_applications("http://testserver", said.append, today=today, timeout=5, client=world.http, open_case=lambda row: "ZF-NEVER")
    assert again == states, "a second `fpb up --demo` on the same data leaves what was worked as it is"


def test_announcing_a_file_s_steps_in_log_order_never_replays_the_file_from_the_store(world, monkeypatch):
    world.submit("rebirth_approval")
    walk_to_certificate(world, "APP-130132102-2026-0057")
    replays = []
    read_from_store = world.store.repository.get
    monkeypatch.setattr(world.store.repository, "get", lambda *args, **kwargs: replays.append(args) or read_from_store(*args, **kwargs))

    subjects = [m.subject.removeprefix("fp.verification.") for m in world.announcements()]

    assert subjects == ["application.opened", "application.checked", "application.approved", "application.published", "certificate.issued"]
    assert replays == [], "each step is the state its predecessor left, plus the step"
