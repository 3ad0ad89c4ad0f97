"""Reporting lists the open applications and cases (open=true): those not in a final
status, as the domain defines them once (services/reporting/domain/statuses.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from performance_support import S1, T1, Timeline, cases_2025, project

from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.application.projector import Projector
from services.reporting.domain.projections import APPLICATION_STATUS_AFTER
from services.reporting.domain.sex_ratio import SexRatioBand
from services.reporting.domain.statuses import FINAL_APPLICATION_STATUSES, FINAL_CASE_STATUSES
from services.reporting.entrypoints.http import add_report_routes
from shared.contracts.events.verification import APPLICATION_OPENED, APPLICATION_OPENED_SUBJECT, ApplicationOpenedV1
from tests.identity_support import token_issuer


def opened(t: Timeline, application_id: str) -> Timeline:
    payload = ApplicationOpenedV1(
        application_id=application_id, application_kind="rebirth_approval", township_code=T1, section=S1,
        submission_id=f"s-{application_id}", received_on="2025-03-01", applicant_ref="ref", spouse_ref=None,
        opened_at=datetime(2025, 3, 1, tzinfo=timezone.utc),
    )
    t._add(APPLICATION_OPENED, application_id, payload, APPLICATION_OPENED_SUBJECT)
    return t


def applications_in_every_state() -> Timeline:
    """A1 submitted, A2 waiting for information, A3 approved, A4 refused, A5 withdrawn."""
    t = Timeline()
    for application_id in ("A1", "A2", "A3", "A4", "A5"):
        opened(t, application_id)
    t.application("A2", T1, S1, ("checked", "2025-03-03", 10), ("information_requested", "2025-03-05"))
    t.application("A3", T1, S1, ("checked", "2025-03-03", 10), ("approved", "2025-03-10"))
    t.application("A4", T1, S1, ("checked", "2025-03-03", 10), ("refused", "2025-03-10"))
    t.application("A5", T1, S1, ("withdrawn", "2025-03-04"))
    return t


@pytest.fixture
async def reports(store_url):
    read_models = ReadModelStore(store_url)
    await project(read_models, applications_in_every_state().messages + cases_2025(Timeline()).messages)
    http = token_issuer().guard(FastAPI(), "reporting")  # the handlers read the caller's township scope
    add_report_routes(http, read_models, Projector(read_models), lambda: None, SexRatioBand(1.0, 1.2, 10))
    yield TestClient(http, headers=token_issuer().headers("TJ-001", ["statistician"], ["统计科"]))
    read_models.close()


def listed(reports, path: str, **params) -> dict[str, str]:
    response = reports.get(path, params=params)
    assert response.status_code == 200, response.text
    return {row.get("application_id") or row["case_id"]: row["status"] for row in response.json()["rows"]}


def test_open_applications_are_those_still_awaiting_a_decision(reports):
    assert listed(reports, "/reports/applications", open="true") == {"A1": "submitted", "A2": "information_requested"}


def test_open_false_lists_the_decided_and_withdrawn_applications(reports):
    assert listed(reports, "/reports/applications", open="false") == {"A3": "approved", "A4": "refused", "A5": "withdrawn"}


def test_without_open_every_application_is_listed(reports):
    assert set(listed(reports, "/reports/applications")) == {"A1", "A2", "A3", "A4", "A5"}


def test_open_cases_leave_out_the_concluded_and_closed_and_keep_a_reopened_one(reports):
    cases = listed(reports, "/reports/cases", open="true")

    assert set(cases) == {"c0000001", "c0000003", "c0000004", "c0000005", "c0000006", "c0000008"}
    assert cases["c0000008"] == "reopened"
    assert set(listed(reports, "/reports/cases", open="false")) == {"c0000002", "c0000007"}


def test_open_combines_with_a_status_filter(reports):
    assert listed(reports, "/reports/cases", open="true", status="investigating") == {"c0000001": "investigating", "c0000004": "investigating"}
    assert listed(reports, "/reports/cases", open="true", status="closed") == {}


def test_an_open_filter_that_is_not_a_boolean_is_refused_naming_the_field(reports):
    response = reports.get("/reports/applications", params={"open": "maybe"})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "open"] and "boolean" in error["msg"]


def test_every_final_status_is_one_the_read_models_can_hold():
    application_statuses = {"submitted", *APPLICATION_STATUS_AFTER.values()}
    assert FINAL_APPLICATION_STATUSES < application_statuses
    assert FINAL_CASE_STATUSES < {"opened", "triaged", "assigned", "investigating", "referred", "concluded", "closed", "reopened"}

