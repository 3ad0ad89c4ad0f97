"""The subsidy policy table: rules and yearly amounts are data with effective dates, and
the check of one enrolment is a pure function citing rule ids."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from services.verification.adapters.subsidy_policy_file import DEFAULT_SUBSIDY_POLICY, load_subsidy_policy
from services.verification.domain.subsidy.money import yuan
from services.verification.domain.subsidy.policy import evaluate, outcome_of, reason_facts

POLICY = load_subsidy_policy()


def check(program: str, reason: object, year: int = 2026, birth_year: int = 1960, **more: object) -> dict[str, str]:
    facts = {**reason_facts(reason), "year": year, "birth_year": birth_year, **more}
    return {f.rule: f.outcome for f in evaluate(POLICY.for_year(year), program, facts)}


def test_a_rural_parent_of_an_only_child_aged_60_passes_every_reward_rule():
    outcomes = check("reward", {"type": "only_child", "household_type": "rural"}, birth_year=1966)
    assert outcomes == {"RW-1": "pass", "RW-2": "pass", "RW-3": "pass", "X-1": "pass", "X-2": "pass"}


def test_an_urban_household_fails_rw_1_and_someone_59_in_the_year_fails_rw_2():
    outcomes = check("reward", {"type": "two_daughters", "household_type": "urban"}, birth_year=1967)
    assert outcomes["RW-1"] == "fail" and outcomes["RW-2"] == "fail" and outcomes["RW-3"] == "pass"


def test_a_missing_or_mistyped_reason_field_is_missing_information_never_a_rejection():
    outcomes = check("special", {"type": "only_child_disabled", "disability_grade": "二级", "living_children": None})
    assert outcomes["SP-1"] == "missing" and outcomes["SP-3"] == "missing"
    assert outcome_of([{"outcome": o} for o in outcomes.values()]) == "incomplete"  # type: ignore[misc]
    assert check("reward", "not an object")["RW-3"] == "missing"


def test_special_assistance_needs_a_died_child_or_a_disability_of_grade_1_to_3_and_no_living_child():
    assert check("special", {"type": "only_child_died", "child_died_on": "2018-07-22", "living_children": 0}, birth_year=1977)["SP-1"] == "pass"
    assert check("special", {"type": "only_child_disabled", "disability_grade": 4, "living_children": 0})["SP-1"] == "fail"
    assert check("special", {"type": "only_child_died", "child_died_on": "2018-07-22", "living_children": 1})["SP-3"] == "fail"
    assert check("special", {"type": "only_child_died", "child_died_on": "2018-07-22", "living_children": 0}, birth_year=1978)["SP-2"] == "fail"


def test_the_other_program_in_the_same_year_fails_x_1_and_a_death_before_the_year_fails_x_2():
    outcomes = check("reward", {"type": "only_child", "household_type": "rural"}, other_program="special", died_on="2025-11-30")
    assert outcomes["X-1"] == "fail" and outcomes["X-2"] == "fail"
    assert check("reward", {"type": "only_child", "household_type": "rural"}, died_on="2026-01-01")["X-2"] == "pass"


def test_yearly_amounts_are_decimals_by_program_and_basis():
    version = POLICY.for_year(2026)
    assert version.yearly_amount("reward", "two_daughters") == Decimal("960.00")
    assert version.yearly_amount("special", "only_child_died") == Decimal("7080.00")
    assert version.yearly_amount("special", "only_child_disabled") == Decimal("5640.00")
    assert version.yearly_amount("special", None) is None


def test_the_version_in_force_on_1_january_decides_the_year(tmp_path):
    raw = json.loads(DEFAULT_SUBSIDY_POLICY.read_text(encoding="utf-8"))
    newer = json.loads(json.dumps(raw["versions"][0]))
    newer.update(version="HB-SUBSIDY-2027", effective_from="2027-01-01", amounts={"reward": {"*": "1080.00"}, "special": newer["amounts"]["special"]})
    raw["versions"].append(newer)
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    policy = load_subsidy_policy(path)
    assert policy.for_year(2026).yearly_amount("reward", "only_child") == Decimal("960.00")
    assert policy.for_year(2027).yearly_amount("reward", "only_child") == Decimal("1080.00")
    with pytest.raises(LookupError, match="2023-01-01"):
        policy.for_year(2023)


def test_a_table_naming_an_unknown_check_is_refused_at_load(tmp_path):
    raw = json.loads(DEFAULT_SUBSIDY_POLICY.read_text(encoding="utf-8"))
    raw["versions"][0]["rules"][0]["check"] = "astrology"
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="astrology"):
        load_subsidy_policy(path)


def test_money_is_never_a_float_and_is_kept_to_the_fen():
    assert yuan("960") == Decimal("960.00") and str(yuan(Decimal("0.005"))) == "0.01"
    with pytest.raises(TypeError, match="never a float"):
        yuan(960.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        yuan("nine hundred")
