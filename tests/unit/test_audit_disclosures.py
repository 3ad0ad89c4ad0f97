"""The auditor's one place for the disclosure logs: reporting asks every service that
keeps personal data (with the caller's own token) and merges their answers, by reader,
by data subject, or by a person's resident ID number.

Reporting's audit routes under the real access policy; the services behind it are
intake's disclosure endpoints on in-memory stores, reached through an in-process transport."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import services.reporting.entrypoints.audit as audit
from services.intake.bootstrap import IntakeStore, resolve
from shared.observability.http import add_reveal_route
from shared.privacy.disclosure import PersonalDataDisclosure
from tests.identity_support import guarded_client, token_issuer

APPLICATION = "township.application.submitted"
APPLICANT = "13013219920625146X"
SOMEONE_ELSE = "130132199002021531"
READERS: dict[str, tuple[list[str], list[str]]] = {
    "sj-auditor": (["auditor"], []),
    "sj-second": (["auditor"], []),
    "tj-01": (["statistician"], ["统计科"]),
    "admin-1": (["administrator"], []),
}


class Services(httpx.AsyncBaseTransport):
    """The services reporting asks, by host name; remembers what each was asked and with which token."""

    def __init__(self, apps: dict[str, FastAPI | None]) -> None:
        self.apps = apps
        self.asked: list[tuple[str, str, str | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.asked.append((host, f"{request.method} {request.url.path}", request.headers.get("authorization")))
        app = self.apps[host]
        if app is None:
            raise httpx.ConnectError("connection refused", request=request)
        return await httpx.ASGITransport(app=app).handle_async_request(request)


@pytest.fixture
def enforcement_store() -> IntakeStore:
    return IntakeStore("memory://")  # a second service's store of disclosures


@pytest.fixture
def services(intake_store, enforcement_store, protector) -> Services:
    guard = token_issuer().guard
    intake_http, enforcement_http = FastAPI(), FastAPI()
    add_reveal_route(intake_http, "intake", intake_store, resolve, protector)
    add_reveal_route(enforcement_http, "enforcement", enforcement_store, lambda ref: None, protector)
    return Services({"intake": guard(intake_http, "intake"), "enforcement": guard(enforcement_http, "enforcement"),
                     "verification": guard(FastAPI(), "verification")})  # keeps no disclosure log: 404


@pytest.fixture
def reporting(services, monkeypatch):
    real = httpx.AsyncClient
    monkeypatch.setattr(audit.httpx, "AsyncClient", lambda **kwargs: real(transport=services, **kwargs))
    http = FastAPI()
    audit.add_audit_routes(http, {name: f"http://{name}:8000" for name in services.apps})
    return guarded_client(http, "reporting", READERS, default="sj-auditor")


@pytest.fixture
def disclosures(intake, delivery, inbound_sample, services, enforcement_store, protector) -> dict[str, str]:
    """The applicant's application revealed at intake; enforcement read the applicant's data
    and then someone else's. Returns the disclosure ids by what they were."""
    intake.record(delivery(APPLICATION, seq=1))
    _, message = inbound_sample(APPLICATION)
    intake_client = guarded_client(services.apps["intake"], "intake", READERS, default="sj-auditor")
    revealed = intake_client.post(f"/history/township:{message['record_id']}/reveal", json={"reason": "2026 annual audit, sample 3"}).json()
    applicant_at_enforcement = read_at_enforcement(enforcement_store, protector.person_ref(APPLICANT), "sj-second")
    other_at_enforcement = read_at_enforcement(enforcement_store, protector.person_ref(SOMEONE_ELSE), "sj-second")
    return {"intake": revealed["disclosure_id"], "enforcement": applicant_at_enforcement, "other": other_at_enforcement}


def read_at_enforcement(store: IntakeStore, subject: str, reader: str) -> str:
    disclosure = PersonalDataDisclosure(reader_id=reader, reader_role="auditor", reason="case ZF-2026-0001", service="enforcement",
                                        aggregate_id="0b6a4f1e-0000-4000-8000-000000000002", fields=["subjects"], subjects=[subject])
    store.save(disclosure)
    return str(disclosure.id)


def ids(page: dict[str, Any]) -> list[str]:
    return [row["disclosure_id"] for row in page["rows"]]


def test_the_auditor_lists_one_persons_disclosures_in_every_service_by_their_id_number(reporting, disclosures, services):
    response = reporting.post("/audit/disclosures/of-person", json={"id_number": APPLICANT})

    assert response.status_code == 200, response.text
    page = response.json()
    assert ids(page) == [disclosures["intake"], disclosures["enforcement"]], "oldest first, across services; not someone else's"
    assert [row["service"] for row in page["rows"]] == ["intake", "enforcement"]
    assert page["more"] is False and page["unavailable"] == []
    asked = [entry for entry in services.asked if entry[1] == "POST /disclosures/of-person"]
    assert {host for host, _, _ in asked} == {"intake", "enforcement", "verification"}


def test_each_service_is_asked_with_the_callers_own_token(reporting, disclosures, services):
    headers = reporting.auth.headers_for("sj-auditor")

    reporting.get("/audit/disclosures", headers=headers)

    forwarded = {token for _, route, token in services.asked if route == "GET /disclosures"}
    assert forwarded == {headers["Authorization"]}


def test_the_auditor_lists_by_reader_and_by_subject_across_services(reporting, disclosures, protector):
    by_reader = reporting.get("/audit/disclosures", params={"reader": "sj-second"}).json()
    by_subject = reporting.get("/audit/disclosures", params={"subject": protector.person_ref(APPLICANT)}).json()
    everything = reporting.get("/audit/disclosures").json()

    assert ids(by_reader) == [disclosures["enforcement"], disclosures["other"]]
    assert ids(by_subject) == [disclosures["intake"], disclosures["enforcement"]]
    assert sorted(ids(everything)) == sorted(disclosures.values())


def test_paging_on_from_next_after_lists_every_services_disclosures_once(reporting, disclosures):
    found, after, more, pages = [], None, True, 0
    while more:
        page = reporting.get("/audit/disclosures", params={"limit": 1, **({"after": after} if after else {})}).json()
        found += ids(page)
        after, more, pages = page["next_after"], page["more"], pages + 1
        assert pages < 10

    assert sorted(found) == sorted(disclosures.values()) and len(found) == len(set(found))
    assert {part.split(":")[0] for part in after.split(",")} == {"intake", "enforcement"}, "each service's own position"


@pytest.mark.parametrize("reader", ["tj-01", "admin-1"])
def test_a_statistician_or_an_administrator_is_refused_naming_the_right(reporting, disclosures, services, reader):
    headers = reporting.auth.headers_for(reader)

    refused = [reporting.post("/audit/disclosures/of-person", json={"id_number": APPLICANT}, headers=headers),
               reporting.get("/audit/disclosures", headers=headers)]

    assert [response.status_code for response in refused] == [403, 403]
    assert all("disclosures.read" in response.json()["detail"][0]["message"] for response in refused)
    assert not [entry for entry in services.asked if "/disclosures" in entry[1]], "refused before any service is asked"


@pytest.mark.parametrize("body", [{"id_number": "13013219920625146Y"}, {"id_number": "12345"}, {}],
                         ids=["wrong-check-digit", "too-short", "missing"])
def test_a_bad_id_number_is_refused_naming_id_number_before_any_service_is_asked(reporting, services, body):
    response = reporting.post("/audit/disclosures/of-person", json=body)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["detail"]] == ["id_number"]
    assert services.asked == []


def test_a_position_that_is_not_service_and_number_is_refused_naming_after(reporting):
    response = reporting.get("/audit/disclosures", params={"after": "intake=4"})

    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "after"


def test_a_service_that_is_down_is_named_and_asked_again_from_where_it_was(reporting, disclosures, services):
    services.apps["enforcement"] = None

    page = reporting.post("/audit/disclosures/of-person", json={"id_number": APPLICANT}, params={"after": "enforcement:0"}).json()

    assert ids(page) == [disclosures["intake"]]
    assert page["unavailable"] == ["enforcement"] and page["more"] is True
    assert "enforcement:0" in page["next_after"].split(",")
