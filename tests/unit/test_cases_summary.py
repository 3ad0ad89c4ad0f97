"""Cases by category, state, age band and deadline status, against a hand-counted fixture
(performance_support.cases_2025: eight cases as they stand on 30 June 2025)."""

from __future__ import annotations

from datetime import date

from performance_support import T1, Timeline, cases_2025, project

from services.reporting.adapters.performance_queries import PerformanceQueries
from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.cases_summary import cases_summary

AS_OF = date(2025, 6, 30)


def counts(report, dimension):
    return {entry["value"]: entry["cases"] for entry in report["by"][dimension]}


async def test_the_cases_summary_matches_the_hand_counted_fixture(store_url):
    read_models = ReadModelStore(store_url)
    await project(read_models, cases_2025(Timeline()).messages)
    report = cases_summary(PerformanceQueries(read_models.engine), AS_OF)
    assert report["total"] == 8
    assert counts(report, "category") == {"two_illegals": 3, "petition": 3, "administrative_review": 1, "other": 1}
    assert counts(report, "status") == {"opened": 1, "triaged": 1, "assigned": 1, "investigating": 2, "concluded": 1, "closed": 1, "reopened": 1}
    # Open cases by days open on 30 June: c1 10 (opened 20 June China time), c6 0; c5 30 (31 May), c3 76;
    # c4 149, c8 140 (reopened: open again). c2 and c7 are concluded or closed.
    assert counts(report, "age_band") == {"<30": 2, "30-90": 2, ">90": 2, "concluded": 2}
    # c3 nearing; c4 breached; c5 and c7 (answered before its due date) on time; the rest have no statutory deadline.
    assert counts(report, "deadline_status") == {"on_time": 2, "nearing": 1, "breached": 1, "no_deadline": 4}
    assert {"category": "petition", "status": "investigating", "age_band": ">90", "deadline_status": "breached", "cases": 1} in report["rows"]
    assert report["by"]["category"][0]["label"] == "两非 Two illegals"

    one_township = cases_summary(PerformanceQueries(read_models.engine), AS_OF, T1)  # c1, c3, c5, c8
    assert one_township["total"] == 4 and counts(one_township, "category") == {"two_illegals": 2, "petition": 1, "administrative_review": 1}

    earlier = cases_summary(PerformanceQueries(read_models.engine), date(2025, 6, 19))  # before c1 (20 June) and c6 (30 June) opened
    assert earlier["total"] == 6
    read_models.close()
