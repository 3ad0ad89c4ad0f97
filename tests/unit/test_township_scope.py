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


# --- Reports (reporting): every figure a township officer may read is cut to their township
# in the query that reads it; the reports that compare townships stay county-wide.

REPORT_OWN, REPORT_OTHER = "130132100", "130132203"  # 槐阳镇, 黑水坊乡
STATISTICIAN = ("TJ-001", ["statistician"], ["统计科"])


def report_rows() -> list:
    """Read-model rows of two townships (and one record naming none), small enough to add up by hand."""
    from decimal import Decimal

    from services.reporting.domain.projections import Increment, Upsert

    def submitted(township: str, source: str, kind: str, section: str, count: int) -> list:
        key = {"township_code": township, "source": source, "kind": kind, "section": section}
        records = [Upsert("rm_submission_records", {"submission_id": f"S-{township or 'none'}-{source}-{n}"},
                          {"record_id": f"R-{township}-{kind}-{n}", "source": source, "kind": kind, "township_code": township, "section": section,
                           "occurred_at": "2025-03-01T08:00:00+08:00"}) for n in range(count)]
        return [Increment("rm_submissions", key, "accepted", count), *records]

    def application(application_id: str, township: str, status: str) -> Upsert:
        return Upsert("rm_applications", {"application_id": application_id},
                      {"application_kind": "first_child_registration", "township_code": township, "section": "县直科", "status": status,
                       "received_on": "2026-03-02", "opened_at": "2026-03-02T09:00:00+08:00"})

    def payment(payment_id: str, township: str, year: int, amount: str, bucket: str) -> Upsert:
        return Upsert("rm_payments", {"payment_id": payment_id},
                      {"cycle_id": f"CY-{year}", "program": "reward", "year": year, "township_code": township, "beneficiary_id": f"BF-{payment_id}",
                       "amount": Decimal(amount), "status": bucket, "bucket": bucket, "last_change": bucket, "changed_on": f"{year}-06-01",
                       "changed_at": f"{year}-06-01T00:00:00.000000+00:00", "version": 1})

    return [
        # 槐阳镇: 3 births and 2 applications filed, 1 hotline tip (the Enforcement Brigade's); 黑水坊乡: 5 births; a tip naming no township.
        *submitted(REPORT_OWN, "police", "police.birth.registered", "人口调查科", 3),
        *submitted(REPORT_OWN, "township", "township.application.submitted", "县直科", 2),
        *submitted(REPORT_OWN, "hotline", "hotline.tip.received", "执法大队", 1),
        *submitted(REPORT_OTHER, "police", "police.birth.registered", "人口调查科", 5),
        *submitted("", "hotline", "hotline.tip.received", "执法大队", 1),
        Increment("rm_rejections", {"source": "police"}, "rejected", 4),
        application("APP-130132100-2026-0001", REPORT_OWN, "approved"),
        application("APP-130132100-2026-0002", REPORT_OWN, "checked"),
        application("APP-130132203-2026-0001", REPORT_OTHER, "checked"),
        Increment("rm_births", {"township_code": REPORT_OWN, "month": "2025-03", "birth_order": "1"}, "boys", 3),
        Increment("rm_births", {"township_code": REPORT_OWN, "month": "2025-03", "birth_order": "1"}, "girls", 2),
        Increment("rm_births", {"township_code": REPORT_OTHER, "month": "2025-04", "birth_order": "2"}, "boys", 7),
        Increment("rm_births", {"township_code": REPORT_OTHER, "month": "2025-04", "birth_order": "2"}, "girls", 1),
        payment("PAY-2026-RW-000001", REPORT_OWN, 2026, "960.00", "disbursed"),
        payment("PAY-2026-RW-000002", REPORT_OTHER, 2026, "720.20", "pending"),
        payment("PAY-2025-RW-000003", REPORT_OTHER, 2025, "960.00", "disbursed"),  # a year only 黑水坊乡 has
        Upsert("rm_beneficiary_enrolments", {"beneficiary_id": "BF-1", "program": "reward", "year": 2026},
               {"township_code": REPORT_OWN, "status": "confirmed", "changed_at": "2026-05-01T00:00:00.000000+00:00", "version": 3}),
        Upsert("rm_beneficiary_enrolments", {"beneficiary_id": "BF-2", "program": "reward", "year": 2026},
               {"township_code": REPORT_OTHER, "status": "reported", "changed_at": "2026-05-01T00:00:00.000000+00:00", "version": 1}),
        Upsert("rm_subsidy_signals", {"signal_id": "SG-1"}, {"pattern": "paid_after_death", "offence": "fraudulent_collection",
                                                            "township_code": REPORT_OWN, "subject": "BF-1", "amount": Decimal("960.00"),
                                                            "detected_on": "2026-07-02", "summary": "死亡后仍发放"}),
        Upsert("rm_cases", {"case_id": "c0000001"}, {"case_number": "ZF-2026-00000001", "origin": "hotline_tip", "category": "two_illegals",
                                                     "township_code": REPORT_OWN, "section": "执法大队", "status": "investigating",
                                                     "opened_at": "2026-03-01T00:00:00+00:00"}),
    ]


@pytest.fixture
async def reports(store_url):
    import httpx

    from services.reporting.adapters.read_models import ReadModelStore
    from services.reporting.bootstrap import bootstrap
    from services.reporting.settings import ReportingSettings

    filled = ReadModelStore(store_url)
    filled.apply_many([(f"m{n}", "FP_TEST", n, [change]) for n, change in enumerate(report_rows(), 1)])
    filled.close()
    service = bootstrap(ReportingSettings(nats_url="nats://127.0.0.1:1", store_url=store_url, **token_issuer().settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service.http), base_url="http://reporting",
                                 headers=token_issuer().headers(*STATISTICIAN)) as client:
        yield client
    for close in service.closers:
        close()


# Every report a township officer may read (policy township: filter), asked as the dashboard does.
TOWNSHIP_REPORTS = [
    ("/reports/submissions", {}), ("/reports/totals", {}), ("/reports/sections", {}), ("/reports/submissions/records", {}),
    ("/reports/applications", {}), ("/reports/sex-ratio", {"period": "2025"}), ("/reports/sex-ratio", {"period": "2025", "by": "county"}),
    ("/reports/sex-ratio", {"period": "2025", "by": "birth_order"}), ("/reports/statistical.csv", {"period": "2026", "sheet": "sex_ratio"}),
    ("/reports/statistical.csv", {"period": "2026", "sheet": "submissions"}), ("/reports/statistical.csv", {"period": "2026", "sheet": "subsidies"}),
    ("/reports/statistical.xlsx", {"period": "2026"}), ("/reports/subsidies", {}), ("/reports/subsidies", {"year": "2025"}),
    ("/reports/subsidies/payments", {}), ("/reports/subsidies/payments", {"year": "2025"}),
]
COUNTY_REPORTS = [
    ("/reports/league-tables", {"from": "2025-01-01", "to": "2025-12-31"}), ("/reports/scorecard", {"year": "2025"}),
    ("/reports/cases", {}), ("/reports/cases/summary", {}), ("/reports/subsidies/signals", {}), ("/reports/publications", {}),
    ("/reports/publications/PUB-1", {}),
]


async def test_a_township_officers_reports_hold_no_row_or_name_of_another_township(reports):
    officer = township_officer(REPORT_OWN)
    for path, params in TOWNSHIP_REPORTS:
        response = await reports.get(path, params=params, headers=officer)
        assert response.status_code == 200, (path, params, response.text)
        text = response.text if not path.endswith(".xlsx") else ""
        assert REPORT_OTHER not in text and "黑水坊乡" not in text and "全县合计" not in text, (path, params)


async def test_a_township_officers_counts_and_totals_are_over_their_township_alone(reports):
    officer = township_officer(REPORT_OWN)

    async def get(path, **params):
        response = await reports.get(path, params=params, headers=officer)
        assert response.status_code == 200, response.text
        return response.json()

    submissions = await get("/reports/submissions")
    assert {(r["township_code"], r["section"], r["accepted"]) for r in submissions["accepted"]} == {(REPORT_OWN, "人口调查科", 3), (REPORT_OWN, "县直科", 2)}
    assert submissions["rejected"] is None and submissions["sections_withheld"] == ["执法大队", "信访科"]  # the tip stays out
    assert (await get("/reports/totals"))["accepted"] == 5
    assert {r["section"]: r["received"] for r in (await get("/reports/sections"))["rows"]} == {"人口调查科": 3, "县直科": 2}
    records = (await get("/reports/submissions/records"))["rows"]
    assert len(records) == 5 and {r["township_code"] for r in records} == {REPORT_OWN} and "hotline.tip.received" not in {r["kind"] for r in records}
    assert [r["application_id"] for r in (await get("/reports/applications"))["rows"]] == ["APP-130132100-2026-0001", "APP-130132100-2026-0002"]
    assert [r["application_id"] for r in (await get("/reports/applications", open="true"))["rows"]] == ["APP-130132100-2026-0002"]

    by_township = await get("/reports/sex-ratio", period="2025")
    assert [(r["township_code"], r["boys"], r["girls"]) for r in by_township["rows"]] == [(REPORT_OWN, 3, 2)]
    total = await get("/reports/sex-ratio", period="2025", by="county")
    assert [(r["boys"], r["girls"]) for r in total["rows"]] == [(3, 2)] and total["township_code"] == REPORT_OWN
    assert [(r["birth_order"], r["births"]) for r in (await get("/reports/sex-ratio", period="2025", by="birth_order"))["rows"]] == [("1", 5)]

    subsidies = await get("/reports/subsidies")
    assert subsidies["year"] == 2026 and subsidies["years"] == [2026], "the years of their own township's payments"
    [row] = subsidies["rows"]
    assert (row["township_code"], row["entitled"], row["disbursed"], row["payments"], row["beneficiaries"]["confirmed"]) == (REPORT_OWN, "960.00", "960.00", 1, 1)
    assert subsidies["county"] is None and subsidies["reconciles"] is True
    assert row["signals"] is None, "a township officer is told of no fraud signal, not even their count"
    assert [r["payment_id"] for r in (await get("/reports/subsidies/payments"))["rows"]] == ["PAY-2026-RW-000001"]
    assert (await get("/reports/subsidies/payments", year="2025"))["rows"] == []
    assert [r["entitled"] for r in (await get("/reports/subsidies", year="2025"))["rows"]] == ["0.00"]


async def test_the_statistical_report_of_a_township_officer_is_their_townships_own(reports):
    import io

    from openpyxl import load_workbook

    response = await reports.get("/reports/statistical.xlsx", params={"period": "2025"}, headers=township_officer(REPORT_OWN))
    assert f"fpb-statistics-2025-{REPORT_OWN}.xlsx" in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    sex_ratio = list(workbook["sex_ratio"].iter_rows(values_only=True))
    assert sex_ratio[0][0] == "元氏县槐阳镇出生人口性别比统计表（2025年）"
    assert [row[:5] for row in sex_ratio[2:]] == [(REPORT_OWN, "槐阳镇", 5, 3, 2)], "their township's row is the only one, and its own total"
    submissions = list(workbook["submissions"].iter_rows(values_only=True))
    assert submissions[0][0] == "元氏县槐阳镇信息报送受理统计表（截至2025年）（不含执法大队、信访科收件）"
    assert [(row[0], row[-1]) for row in submissions[2:]] == [(REPORT_OWN, 5)]
    subsidies = list(workbook["subsidies"].iter_rows(values_only=True))
    assert [row[1] for row in subsidies[2:]] == [REPORT_OWN, REPORT_OWN]  # reward and special, no county row


async def test_a_township_officer_asking_a_report_for_another_township_is_refused_naming_the_field(reports):
    for path, params in TOWNSHIP_REPORTS:
        response = await reports.get(path, params={**params, "township_code": REPORT_OTHER}, headers=township_officer(REPORT_OWN))
        assert response.status_code == 403 and response.json()["detail"][0]["field"] == "township_code", (path, params)
    unnamed = await reports.get("/reports/submissions/records", params={"township_code": ""}, headers=township_officer(REPORT_OWN))
    assert unnamed.status_code == 403, "nor the records that name no township"


async def test_the_reports_that_compare_townships_are_refused_to_a_township_officer(reports):
    for path, params in COUNTY_REPORTS:
        response = await reports.get(path, params=params, headers=township_officer(REPORT_OWN))
        assert response.status_code == 403 and response.json()["detail"][0]["field"] == "authorization", path
        assert "reports.county" in response.json()["detail"][0]["message"]


async def test_the_statistician_still_gets_the_county_and_may_cut_it_to_one_township(reports):
    assert (await reports.get("/reports/totals")).json() == {"accepted": 12}
    submissions = (await reports.get("/reports/submissions")).json()
    assert submissions["rejected"] == [{"source": "police", "rejected": 4}] and "sections_withheld" not in submissions
    county = (await reports.get("/reports/subsidies", params={"year": "2026"})).json()
    assert len(county["rows"]) == 15 and county["county"]["entitled"] == "1680.20" and county["county"]["signals"] == 1
    assert len((await reports.get("/reports/applications")).json()["rows"]) == 3
    for path, params in COUNTY_REPORTS[:-1]:
        assert (await reports.get(path, params=params)).status_code == 200, path

    other = (await reports.get("/reports/subsidies", params={"township_code": REPORT_OTHER})).json()
    assert [r["township_code"] for r in other["rows"]] == [REPORT_OTHER] and other["county"] is None and other["years"] == [2025, 2026]
    own = (await reports.get("/reports/subsidies", params={"township_code": REPORT_OWN})).json()
    assert own["rows"][0]["signals"] == 1, "a county reader cutting to a township still sees its signals"
    assert (await reports.get("/reports/totals", params={"township_code": REPORT_OWN})).json()["accepted"] == 6, "the tip counts for the county"
    unnamed = (await reports.get("/reports/submissions/records", params={"township_code": ""})).json()["rows"]
    assert [r["kind"] for r in unnamed] == ["hotline.tip.received"]


async def test_a_bad_township_code_is_refused_naming_the_field_chinese_first(reports):
    for path, params in [*TOWNSHIP_REPORTS, ("/reports/cases/summary", {}), ("/reports/subsidies/signals", {})]:
        response = await reports.get(path, params={**params, "township_code": "130132999"})
        assert response.status_code == 422, (path, response.text)
        [problem] = response.json()["detail"]
        assert problem["field"] == "township_code" and problem["message"].startswith("未知的乡镇代码") and " / unknown township code" in problem["message"]
    blank = await reports.get("/reports/subsidies", params={"township_code": ""})
    assert blank.status_code == 422 and blank.json()["detail"][0]["field"] == "township_code"


async def test_only_the_reports_counting_by_section_say_which_sections_were_withheld(reports):
    officer = township_officer(REPORT_OWN)
    for path in ("/reports/submissions", "/reports/totals", "/reports/sections", "/reports/submissions/records"):
        assert (await reports.get(path, headers=officer)).json()["sections_withheld"] == ["执法大队", "信访科"], path
    for path, params in (("/reports/applications", {}), ("/reports/sex-ratio", {"period": "2025"}), ("/reports/subsidies", {})):
        body = (await reports.get(path, params=params, headers=officer)).json()
        assert "sections_withheld" not in body and body["township_code"] == REPORT_OWN and body["township_name"] == "槐阳镇", path
