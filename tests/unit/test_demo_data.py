"""Demo data: a year of inbound records that satisfies CONTRACT.md and shows the patterns staff look for."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from typing import Any, Iterator

import pytest

from cli.demo.records import HIGH_SEX_RATIO_TOWNSHIPS, SOURCE_PREFIX, generate_demo_records
from shared.contracts.identity import birth_date_of, normalise_resident_id, sex_of
from shared.contracts.inbound import ValidRecord, parse_record
from shared.contracts.townships import TOWNSHIPS

COUNTY_SUBJECTS = [
    "county.police.birth.registered",
    "county.police.residence.registered",
    "county.health.ultrasound.recorded",
    "county.health.termination.recorded",
    "county.health.death.reported",
    "county.drug.sale.recorded",
    "county.pension.status.changed",
    "county.hotline.tip.received",
    "county.petitions.petition.received",
    "county.online_hall.satisfaction.rated",
]
# Follow-ups quote payment ids the platform assigns: the demo driver records them once
# the payments exist (cli/demo/assistance_driver.py), so the year's records hold the other 13.
TOWNSHIP_KINDS = [
    "application.submitted",
    "beneficiary.reported",
    "migrant.certificate_presented",
]
YEAR = 2026


@pytest.fixture(scope="module")
def records() -> list[tuple[str, dict]]:
    return generate_demo_records(seed=2026, year=YEAR, births=300)


def subject_kind(subject: str) -> str:
    parts = subject.split(".")
    return subject if parts[0] == "county" else ".".join(["township", *parts[2:]])


def data_of(records: list[tuple[str, dict]], suffix: str) -> list[dict]:
    return [envelope["data"] for subject, envelope in records if subject.endswith(suffix)]


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaves(child, f"{path}[{index}]")
    else:
        yield path, value


def test_the_same_seed_gives_the_same_records() -> None:
    assert generate_demo_records(seed=7, births=60) == generate_demo_records(seed=7, births=60)


def test_a_different_seed_gives_different_records() -> None:
    assert generate_demo_records(seed=7, births=60) != generate_demo_records(seed=8, births=60)


def test_every_subject_but_the_follow_ups_is_represented(records: list[tuple[str, dict]]) -> None:
    kinds = {subject_kind(subject) for subject, _ in records}
    assert kinds == set(COUNTY_SUBJECTS) | {f"township.{kind}" for kind in TOWNSHIP_KINDS}


def test_all_fifteen_townships_file_records_and_have_births(records: list[tuple[str, dict]]) -> None:
    filing = {subject.split(".")[1] for subject, _ in records if subject.startswith("township.")}
    assert filing == set(TOWNSHIPS)
    assert {d["township_code"] for d in data_of(records, "birth.registered")} == set(TOWNSHIPS)


@pytest.mark.parametrize("seed", range(5))
def test_even_a_small_year_covers_every_subject_and_township(seed: int) -> None:
    small = generate_demo_records(seed=seed, births=5)
    assert len({subject_kind(subject) for subject, _ in small}) == 13
    assert {subject.split(".")[1] for subject, _ in small if subject.startswith("township.")} == set(TOWNSHIPS)


def test_record_ids_are_unique_and_carry_their_source_prefix(records: list[tuple[str, dict]]) -> None:
    ids = [envelope["record_id"] for _, envelope in records]
    assert len(ids) == len(set(ids))
    for subject, envelope in records:
        expected = SOURCE_PREFIX[envelope["source"]]
        if envelope["source"] == "township":
            expected = f"TS-{subject.split('.')[1]}"
        assert envelope["record_id"].startswith(f"{expected}-{YEAR}-")


def test_envelopes_name_their_schema_and_source_as_the_contract_says(records: list[tuple[str, dict]]) -> None:
    for subject, envelope in records:
        assert list(envelope) == ["record_id", "schema", "source", "occurred_at", "data"]
        if subject.startswith("county."):
            assert envelope["schema"] == f"{subject}/v1"
            assert envelope["source"] == subject.split(".")[1]
        else:
            assert envelope["schema"] == f"{subject_kind(subject)}/v1"
            assert envelope["source"] == "township"


def test_records_come_in_the_order_they_happened_within_the_year(records: list[tuple[str, dict]]) -> None:
    moments = [datetime.fromisoformat(envelope["occurred_at"]) for _, envelope in records]
    assert moments == sorted(moments)
    assert all(m.year == YEAR and m.utcoffset() is not None and m.utcoffset().total_seconds() == 8 * 3600
               for m in moments)
    assert all(envelope["occurred_at"].endswith("+08:00") for _, envelope in records)


def test_every_resident_id_in_the_data_is_valid(records: list[tuple[str, dict]]) -> None:
    checked = 0
    for _, envelope in records:
        for path, value in leaves(envelope["data"]):
            if path.split(".")[-1].endswith("id_number") and value is not None:
                assert normalise_resident_id(value) == value
                checked += 1
    assert checked > 1000


def test_a_persons_sex_and_birth_date_agree_with_their_id(records: list[tuple[str, dict]]) -> None:
    for _, envelope in records:
        data = envelope["data"]
        if "id_number" in data and "birth_date" in data:
            assert birth_date_of(data["id_number"]).isoformat() == data["birth_date"]
        if "id_number" in data and "sex" in data:
            assert sex_of(data["id_number"]) == data["sex"]
    for data in data_of(records, "birth.registered"):
        assert sex_of(data["mother_id_number"]) == "F"
        assert data["father_id_number"] is None or sex_of(data["father_id_number"]) == "M"


def test_no_number_in_the_data_is_a_float(records: list[tuple[str, dict]]) -> None:
    assert not [path for _, e in records for path, value in leaves(e["data"]) if isinstance(value, float)]


def test_dates_are_calendar_dates_no_later_than_the_record(records: list[tuple[str, dict]]) -> None:
    for _, envelope in records:
        occurred_on = datetime.fromisoformat(envelope["occurred_at"]).date()
        for path, value in leaves(envelope["data"]):
            if path.endswith(("_on", "birth_date")) and isinstance(value, str):
                assert date.fromisoformat(value) <= occurred_on, (envelope["record_id"], path)


def test_births_are_about_110_boys_per_100_girls_and_higher_in_two_townships(records: list[tuple[str, dict]]) -> None:
    births = data_of(records, "birth.registered")
    sexes = Counter(d["sex"] for d in births)
    county_ratio = 100 * sexes["M"] / sexes["F"]
    assert 108 <= county_ratio <= 112
    for code in HIGH_SEX_RATIO_TOWNSHIPS:
        local = Counter(d["sex"] for d in births if d["township_code"] == code)
        assert 100 * local["M"] / local["F"] > county_ratio + 10
    orders = Counter(d["birth_order"] for d in births)
    assert orders[1] + orders[2] > 0.9 * len(births) and orders[3] > 0


def test_applications_of_all_four_kinds_carry_details_that_fit_their_kind(records: list[tuple[str, dict]]) -> None:
    applications = data_of(records, "application.submitted")
    by_kind = {a["kind"]: a["details"] for a in applications}
    assert set(by_kind) == {"rebirth_approval", "first_child_registration",
                            "only_child_honor_certificate", "exam_bonus_qualification"}
    assert by_kind["rebirth_approval"]["existing_children"] and by_kind["rebirth_approval"]["reason"]
    for details in (a["details"] for a in applications if a["kind"] == "exam_bonus_qualification"):
        assert details["exam"] in {"zhongkao", "gaokao"} and details["household_type"] == "rural"
        assert details["student_name"] and normalise_resident_id(details["student_id_number"])


def test_satisfaction_ratings_refer_to_applications_that_were_submitted(records: list[tuple[str, dict]]) -> None:
    submitted = {a["application_id"] for a in data_of(records, "application.submitted")}
    rated = [r["application_id"] for r in data_of(records, "satisfaction.rated")]
    assert rated and set(rated) <= submitted


def test_beneficiaries_meet_the_age_rules_of_their_program(records: list[tuple[str, dict]]) -> None:
    beneficiaries = data_of(records, "beneficiary.reported")
    assert {b["program"] for b in beneficiaries} == {"reward", "special"}
    for b in beneficiaries:
        if b["program"] == "reward":
            assert YEAR - date.fromisoformat(b["birth_date"]).year >= 60
        else:
            assert YEAR - birth_date_of(b["reason"]["mother_id_number"]).year >= 49


def test_the_subsidy_reports_hold_the_irregularities_the_cross_checks_look_for(records: list[tuple[str, dict]]) -> None:
    from cli.demo.assistance import CARELESS_TOWNSHIP
    from cli.demo.records import generate_demo

    reported = [(s.split(".")[1], e["data"]) for s, e in records if s.endswith("beneficiary.reported")]
    townships_of: dict[str, set[str]] = {}
    for code, data in reported:
        townships_of.setdefault(data["id_number"], set()).add(code)
    assert any(len(codes) == 2 for codes in townships_of.values()), "one person reported by two townships"
    urban_reward = [d for c, d in reported if c == CARELESS_TOWNSHIP and d["program"] == "reward" and d["reason"]["household_type"] == "urban"]
    assert len(urban_reward) >= 8, "a township reporting urban households for rural reward assistance"
    deaths = {d["id_number"]: d["died_on"] for d in data_of(records, "death.reported")}
    assert sum(1 for s, e in records if s.endswith("beneficiary.reported") and e["data"]["id_number"] in deaths
               and deaths[e["data"]["id_number"]] < e["occurred_at"][:10]) >= 2, "people reported although already dead"
    _, held_back = generate_demo(seed=2026, year=YEAR, births=300)
    (subject, late_death), = held_back
    assert subject == "county.health.death.reported" and late_death["data"]["id_number"] in townships_of


def test_the_data_holds_the_signals_supervisors_look_for(records: list[tuple[str, dict]]) -> None:
    terminations = data_of(records, "termination.recorded")
    assert sum(t["gestation_weeks"] >= 14 and t["medical_indication"] is None for t in terminations) >= 3
    assert any(s["prescription_id"] is None for s in data_of(records, "drug.sale.recorded"))
    tips = data_of(records, "tip.received")
    assert {t["category"] for t in tips} == {"two_illegals", "subsidy_fraud", "official_misconduct",
                                             "certificate_service", "other"}
    assert {t["anonymous"] for t in tips} == {True, False}
    assert {p["status"] for p in data_of(records, "pension.status.changed")} == {"active", "deceased", "suspended"}


def test_every_demo_record_passes_the_inbound_contract(records: list[tuple[str, dict]]) -> None:
    # The year's records include December births: judge them as of the year's end, not the machine's clock.
    for subject, envelope in records:
        raw = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        result = parse_record(subject, raw, today=date(YEAR, 12, 31))
        assert isinstance(result, ValidRecord), (subject, envelope["record_id"], result)
