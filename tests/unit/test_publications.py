"""Published figures (发布数) stay as published; a late fact shows as a correction (更正数)."""

from __future__ import annotations

import hashlib
from datetime import date

import httpx
import pytest
from performance_support import S2, T1, Timeline, march_2025, project
from sqlalchemy import text

from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.publications import PeriodError, differences, statistical_period
from services.reporting.bootstrap import bootstrap
from services.reporting.settings import ReportingSettings
from tests.identity_support import token_issuer

MARCH = {"report": "league-tables", "period_from": "2025-03-01", "period_to": "2025-03-31",
         "cut_off": "2025-04-05T17:00:00+08:00", "officer": "TJ-001"}


@pytest.fixture
async def reporting(store_url):
    service = bootstrap(ReportingSettings(nats_url="nats://127.0.0.1:1", store_url=store_url, **token_issuer().settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service.http), base_url="http://reporting",
                                 headers=token_issuer().headers("TJ-001", ["statistician"], ["统计科"])) as client:
        yield client
    for close in service.closers:
        close()


def cell(figures, table, row, column):
    return figures["tables"][table]["rows"][row][column]


async def test_a_published_figure_stays_and_a_late_fact_shows_as_a_correction(store_url, reporting):
    read_models = ReadModelStore(store_url)
    await project(read_models, march_2025().messages)
    published = await reporting.post("/reports/publications", json=MARCH)
    assert published.status_code == 201, published.text
    publication_id = published.json()["publication_id"]

    # A rating given in March reaches the county after publication (a late fact).
    await project(read_models, Timeline().rating("A3", T1, S2, "2025-03-28", 5).messages, first_sequence=1000)
    shown = (await reporting.get(f"/reports/publications/{publication_id}")).json()

    assert shown["sha256_verified"] and shown["officer"] == "TJ-001" and shown["cut_off"] == "2025-04-05T17:00:00+08:00"
    assert cell(shown["published"], "by_township", "槐阳镇", "satisfaction_mean") == 3.67  # as published: 5, 4, 2
    assert cell(shown["current"], "by_township", "槐阳镇", "satisfaction_mean") == 4.0  # as corrected: 5, 4, 2, 5
    changed = {(d["table"], d["row"], d["column"]): (d["published"], d["current"], d["change"]) for d in shown["differences"]}
    assert changed == {
        ("by_township", "槐阳镇", "satisfaction_mean"): (3.67, 4.0, 0.33),
        ("by_township", "槐阳镇", "ratings"): (3, 4, 1),
        ("by_township", "槐阳镇", "rank_satisfaction"): (2, 1, -1),  # 4.0 over 4 ratings now ahead of 黑水坊乡's 4.0 over 2
        ("by_township", "黑水坊乡", "rank_satisfaction"): (1, 2, 1),
        ("by_township", "全县 county", "satisfaction_mean"): (3.8, 4.0, 0.2),
        ("by_township", "全县 county", "ratings"): (5, 6, 1),
        ("by_section", "流动人口科", "satisfaction_mean"): (3.5, 4.0, 0.5),
        ("by_section", "流动人口科", "ratings"): (2, 3, 1),
        ("by_section", "流动人口科", "rank_satisfaction"): (2, 1, -1),  # level with 法规科 (4.0 over 3): both first
        ("by_section", "全县 county", "satisfaction_mean"): (3.8, 4.0, 0.2),
        ("by_section", "全县 county", "ratings"): (5, 6, 1),
    }
    assert shown["corrected"] is True

    listed = (await reporting.get("/reports/publications")).json()["rows"]
    assert [row["publication_id"] for row in listed] == [publication_id] and "figures" not in listed[0]
    read_models.close()


async def test_rebuilding_the_read_models_keeps_every_publication_and_the_database_refuses_to_change_one(store_url, reporting):
    read_models = ReadModelStore(store_url)
    await project(read_models, march_2025().messages)
    publication = (await reporting.post("/reports/publications", json=MARCH)).json()
    read_models.clear()  # what `fpb rebuild reporting` does before replaying the streams
    shown = (await reporting.get(f"/reports/publications/{publication['publication_id']}")).json()
    assert cell(shown["published"], "by_township", "槐阳镇", "decided") == 3 and cell(shown["current"], "by_township", "槐阳镇", "decided") == 0
    stored = read_models.engine.connect()
    figures = stored.execute(text("SELECT figures FROM rp_publications")).scalar_one()
    assert hashlib.sha256(figures.encode()).hexdigest() == publication["sha256"]
    for statement in ("UPDATE rp_publications SET officer = 'someone else'", "DELETE FROM rp_publications"):
        with pytest.raises(Exception, match="append-only"):
            stored.execute(text(statement))
        stored.rollback()
    stored.close()
    read_models.close()


async def test_bad_requests_name_the_field(reporting):
    cases = [
        ({**MARCH, "report": "weather"}, "report"),
        ({**MARCH, "cut_off": "2025-04-05T17:00:00"}, "cut_off"),  # no offset: which time zone?
        ({**MARCH, "cut_off": "2999-04-05T17:00:00+08:00"}, "cut_off"),  # in the future: the figures would be labelled falsely
        ({**MARCH, "cut_off": "2025-03-31T17:00:00+08:00"}, "cut_off"),  # the period is not over yet
        ({**MARCH, "report": "scorecard"}, "period_from"),  # a scorecard covers a calendar year
        ({**MARCH, "report": "statistical", "period_to": "2025-03-30"}, "period_to"),  # whole months only
        ({**MARCH, "period_from": "2025-04-01"}, "period_to"),  # ends before it starts
    ]
    for body, field in cases:
        response = await reporting.post("/reports/publications", json=body)
        assert response.status_code == 422 and field in response.text, (body, response.text)
    posing = await reporting.post("/reports/publications", json={**MARCH, "officer": "TJ-999"})
    assert posing.status_code == 403 and posing.json()["detail"][0]["field"] == "officer", "the publisher is the token's subject"
    assert (await reporting.get("/reports/publications/nope")).status_code == 404
    for params, field in [({"from": "2025-03-01", "to": "2025-03-31", "by": "village"}, "by"), ({"from": "2025-13-01", "to": "2025-03-31"}, "from"),
                          ({"from": "2025-03-31", "to": "2025-03-01"}, "to")]:
        response = await reporting.get("/reports/league-tables", params=params)
        assert response.status_code == 422 and field in response.text, (params, response.text)
    assert (await reporting.get("/reports/scorecard", params={"year": "last"})).status_code == 422
    assert (await reporting.get("/reports/cases/summary", params={"as_of": "June"})).status_code == 422


async def test_the_statistical_report_and_scorecard_publish_and_read_back_unchanged(reporting):
    tables = {}
    for body in ({**MARCH, "report": "statistical", "period_from": "2025-01-01", "period_to": "2025-06-30", "cut_off": "2025-07-05T17:00:00+08:00"},
                 {**MARCH, "report": "scorecard", "period_from": "2025-01-01", "period_to": "2025-12-31", "cut_off": "2026-01-10T17:00:00+08:00"}):
        created = await reporting.post("/reports/publications", json=body)
        assert created.status_code == 201, created.text
        shown = (await reporting.get(f"/reports/publications/{created.json()['publication_id']}")).json()
        assert shown["corrected"] is False and shown["published"] == shown["current"]
        tables.update(shown["published"]["tables"])
    assert tables["sex_ratio"]["row_keys"][-1] == "全县合计" and tables["sex_ratio"]["rows"]["全县合计"]["出生数"] == 0
    assert len(tables["scorecard"]["row_keys"]) == 15 and "within_limit_rate.points" in tables["scorecard"]["columns"]


@pytest.mark.parametrize(("first", "last", "period"), [("2025-01-01", "2025-12-31", "2025"), ("2025-07-01", "2025-12-31", "2025-H2"),
                                                       ("2025-04-01", "2025-06-30", "2025-Q2"), ("2025-02-01", "2025-02-28", "2025-02")])
def test_a_statistical_period_is_a_year_half_quarter_or_month(first, last, period):
    assert statistical_period(date.fromisoformat(first), date.fromisoformat(last)) == period


def test_a_statistical_period_of_two_months_is_refused():
    with pytest.raises(PeriodError, match="year, a half-year, a quarter or a month"):
        statistical_period(date(2025, 2, 1), date(2025, 3, 31))


def test_differences_list_changed_added_and_removed_cells():
    published = {"tables": {"t": {"columns": ["a", "b"], "row_keys": ["x", "y"], "rows": {"x": {"a": 1, "b": "ok"}, "y": {"a": 2, "b": None}}}}}
    current = {"tables": {"t": {"columns": ["a", "b"], "row_keys": ["x", "z"], "rows": {"x": {"a": 1, "b": "late"}, "z": {"a": 5, "b": None}}}}}
    assert differences(published, current) == [
        {"table": "t", "row": "x", "column": "b", "published": "ok", "current": "late", "change": None},
        {"table": "t", "row": "y", "column": "a", "published": 2, "current": None, "change": None},
        {"table": "t", "row": "z", "column": "a", "published": None, "current": 5, "change": None},
    ]
