"""Reading personal data is recorded with whose data it was, and an auditor lists the
readings of one person by their resident ID number (sent in a body, never in a URL).

On intake's HTTP endpoints (shared/observability/http.py add_reveal_route) over the
in-memory store of tests/unit/conftest.py, under the real access policy, acting as
real identities through tests/identity_support.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI

import shared.observability.http as service_http
from services.intake.bootstrap import resolve
from shared.contracts.identity import make_resident_id
from shared.privacy.disclosure import PersonalDataDisclosure
from tests.identity_support import guarded_client

APPLICATION = "township.application.submitted"
BIRTH = "police.birth.registered"
APPLICANT = "13013219920625146X"  # the application sample's applicant (the data subject)
SPOUSE = "130132199002021531"  # named in the same application, encrypted under the applicant's key
SOMEONE_ELSE = make_resident_id("130132", date(1985, 4, 1), 17)
READERS: dict[str, tuple[list[str], list[str]]] = {
    "sj-auditor": (["auditor"], []),
    "tj-01": (["statistician"], ["统计科"]),
    "admin-1": (["administrator"], []),
}


@pytest.fixture
def client(intake_store, protector):
    http = FastAPI()
    service_http.add_reveal_route(http, "intake", intake_store, resolve, protector)
    return guarded_client(http, "intake", READERS, default="sj-auditor")


@pytest.fixture
def recorded(intake, delivery, inbound_sample):
    """recorded(kind) -> the "source:record_id" ref of that frozen sample, once intake recorded it."""
    sequences = iter(range(1, 1000))

    def record(kind: str) -> str:
        intake.record(delivery(kind, seq=next(sequences)))
        _, message = inbound_sample(kind)
        return f"{message['source']}:{message['record_id']}"

    return record


def reveal(client, ref: str, reason: str = "2026 annual audit, sample 3") -> dict[str, Any]:
    response = client.post(f"/history/{ref}/reveal", json={"reason": reason})
    assert response.status_code == 200, response.text
    return response.json()


def of_person(client, id_number: Any, **params: Any):
    return client.post("/disclosures/of-person", json={"id_number": id_number}, params=params)


def test_a_reveal_of_an_applications_history_records_the_applicant_as_its_data_subject(client, recorded, protector):
    revealed = reveal(client, recorded(APPLICATION))

    rows = client.get("/disclosures").json()["rows"]

    assert [row["disclosure_id"] for row in rows] == [revealed["disclosure_id"]]
    assert rows[0]["subjects"] == sorted([protector.person_ref(APPLICANT), protector.person_ref(SPOUSE)])
    assert rows[0]["reader_id"] == "sj-auditor", "the authenticated subject reads, not a name in the body"


def test_the_spouse_named_in_an_application_is_disclosed_too_and_found_by_her_own_id_number(client, recorded):
    revealed = reveal(client, recorded(APPLICATION))

    rows = of_person(client, SPOUSE).json()["rows"]

    assert [row["disclosure_id"] for row in rows] == [revealed["disclosure_id"]]


def test_the_auditor_lists_the_reveal_by_the_applicants_id_number_and_not_by_someone_elses(client, recorded, protector):
    revealed = reveal(client, recorded(APPLICATION))

    by_applicant = of_person(client, APPLICANT)
    by_someone_else = of_person(client, SOMEONE_ELSE)

    assert by_applicant.status_code == 200 and by_someone_else.status_code == 200
    assert [row["disclosure_id"] for row in by_applicant.json()["rows"]] == [revealed["disclosure_id"]]
    assert by_applicant.json()["subject"] == protector.person_ref(APPLICANT)
    assert by_someone_else.json()["rows"] == [] and by_someone_else.json()["more"] is False
    assert APPLICANT not in by_applicant.text, "the answer names the person by their ref, never by the number"


def test_an_id_number_typed_with_a_lower_case_x_finds_the_same_person(client, recorded):
    revealed = reveal(client, recorded(APPLICATION))

    rows = of_person(client, APPLICANT.lower()).json()["rows"]

    assert [row["disclosure_id"] for row in rows] == [revealed["disclosure_id"]]


def test_an_auditor_who_holds_the_subject_ref_lists_by_it_on_get(client, recorded, protector):
    reveal(client, recorded(BIRTH))
    revealed = reveal(client, recorded(APPLICATION))

    rows = client.get("/disclosures", params={"subject": protector.person_ref(APPLICANT)}).json()["rows"]

    assert [row["disclosure_id"] for row in rows] == [revealed["disclosure_id"]]


@pytest.mark.parametrize("reader", ["tj-01", "admin-1"])
@pytest.mark.parametrize("ask", [lambda c, h: c.post("/disclosures/of-person", json={"id_number": APPLICANT}, headers=h),
                                 lambda c, h: c.get("/disclosures", params={"subject": "x" * 64}, headers=h)],
                         ids=["of-person", "by-subject"])
def test_a_statistician_or_an_administrator_is_refused_naming_the_right(client, recorded, reader, ask):
    reveal(client, recorded(APPLICATION))

    response = ask(client, client.auth.headers_for(reader))

    assert response.status_code == 403
    assert response.json()["detail"][0]["field"] == "authorization"
    assert "disclosures.read" in response.json()["detail"][0]["message"]


@pytest.mark.parametrize("body", [{"id_number": "13013219920625"}, {"id_number": "130132199206251461"}, {"id_number": "1301321992O625146X"},
                                  {"id_number": 130132199002021531}, {"id_number": ""}, {}, None],
                         ids=["too-short", "wrong-check-digit", "a-letter-o", "a-number-not-text", "empty", "missing", "no-body"])
def test_a_bad_id_number_is_refused_naming_id_number(client, body):
    response = client.post("/disclosures/of-person", json=body)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [error["field"] for error in detail] == ["id_number"]
    chinese, _, english = detail[0]["message"].partition(" / ")
    assert chinese and english, "Chinese first, then English"


def test_no_disclosure_route_takes_an_id_number_in_its_url(client):
    document = client.get("/openapi.json", headers=client.auth.headers_for("sj-auditor")).json()

    in_urls = [(path, parameter["name"]) for path, operations in document["paths"].items() for operation in operations.values()
               for parameter in operation.get("parameters", [])]
    body = document["paths"]["/disclosures/of-person"]["post"]["requestBody"]

    assert in_urls and not [found for found in in_urls if "id_number" in found[1]]
    assert "id_number" in str(document["components"]["schemas"]["PersonQuery"]) and body


# --- paging across a filter -------------------------------------------------------------

# Which record each of 14 reveals reads, in order: A the application (its applicant),
# B a birth (its mother). Listing by the applicant skips every B.
ORDER = "BBBABBBBAABBBA"


@pytest.mark.parametrize(("batch", "budget"), [(1000, 50_000), (3, 50_000), (3, 4), (1, 1)],
                         ids=["one-read", "small-batches", "small-budget", "one-row-a-request"])
@pytest.mark.parametrize("by", ["of-person", "subject"])
def test_paging_across_a_filter_returns_every_match_once(client, recorded, protector, monkeypatch, batch, budget, by):
    application, birth = recorded(APPLICATION), recorded(BIRTH)
    revealed = [reveal(client, application if which == "A" else birth)["disclosure_id"] for which in ORDER]
    expected = [disclosure for disclosure, which in zip(revealed, ORDER, strict=True) if which == "A"]
    monkeypatch.setattr(service_http, "SCAN_BATCH", batch)
    monkeypatch.setattr(service_http, "SCAN_BUDGET", budget)

    found, pages, after, more = [], [], 0, True
    while more:
        if by == "of-person":
            page = of_person(client, APPLICANT, after=after, limit=2).json()
        else:
            page = client.get("/disclosures", params={"subject": protector.person_ref(APPLICANT), "after": after, "limit": 2}).json()
        pages.append(len(page["rows"]))
        found += [row["disclosure_id"] for row in page["rows"]]
        assert page["next_after"] >= after
        after, more = page["next_after"], page["more"]
        assert len(pages) < 50

    assert found == expected
    if budget >= len(ORDER):
        assert all(size == 2 for size in pages[:-1]), f"a page ended early while more matched: {pages}"


def test_a_page_that_ends_at_the_logs_end_says_there_is_no_more(client, recorded):
    application = recorded(APPLICATION)
    first, second = reveal(client, application), reveal(client, application)

    page = client.get("/disclosures", params={"limit": 5}).json()
    then = client.get("/disclosures", params={"after": page["next_after"]}).json()

    assert [row["disclosure_id"] for row in page["rows"]] == [first["disclosure_id"], second["disclosure_id"]]
    assert page["more"] is False and page["next_after"] == page["rows"][-1]["position"]
    assert then == {**then, "rows": [], "more": False, "next_after": page["next_after"]}


# --- disclosures recorded before subjects were ---------------------------------------------


def test_a_disclosure_stored_before_subjects_were_recorded_still_loads_and_lists_with_none(client, intake_store, protector):
    from eventsourcing.persistence import StoredEvent

    old = PersonalDataDisclosure(reader_id="sj-auditor", reader_role="auditor", reason="2025 audit", service="intake",
                                 aggregate_id="6f1c0e3e-0000-4000-8000-000000000001", fields=["data.id_number"], subjects=["dropped"])
    mapper = intake_store.mapper
    stored = mapper.to_stored_event(old.collect_events()[0])
    state = mapper.transcoder.decode(_unwrapped(mapper, stored.state))
    del state["subjects"]  # the shape events had before: no subjects
    intake_store.recorder.insert_events([StoredEvent(originator_id=stored.originator_id, originator_version=stored.originator_version,
                                                     topic=stored.topic, state=_wrapped(mapper, mapper.transcoder.encode(state)))])

    loaded = intake_store.repository.get(old.id)
    listed = client.get("/disclosures").json()["rows"]
    by_person = of_person(client, APPLICANT).json()["rows"]

    assert (loaded.reader_id, loaded.fields, loaded.subjects) == ("sj-auditor", ["data.id_number"], [])
    assert [(row["disclosure_id"], row["subjects"]) for row in listed] == [(str(old.id), [])]
    assert by_person == []


def _unwrapped(mapper, state: bytes) -> bytes:
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    return mapper.compressor.decompress(state) if mapper.compressor else state


def _wrapped(mapper, state: bytes) -> bytes:
    if mapper.compressor:
        state = mapper.compressor.compress(state)
    return mapper.cipher.encrypt(state) if mapper.cipher else state
