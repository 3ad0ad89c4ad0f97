"""Each rule of the policy table, row by row: given the facts of an application, the
finding cites the row and says pass, fail, missing (information needed) or flag."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone

import pytest

from services.verification.adapters.policy_file import load_policy_table
from services.verification.domain.policy import CHECKS, evaluate

TABLE = load_policy_table()
HB2021 = TABLE.version("HB-2021")
HB2016 = TABLE.version("HB-2016")
HB2021_R1 = TABLE.version("HB-2021-R1")
RECEIVED = date(2026, 3, 6)

# (rule row, kind, facts, outcome, words in the message), under HB-2021
CASES_2021 = [
    ("C-1", "rebirth_approval", {"invalid_ids": []}, "pass", "valid"),
    ("C-1", "rebirth_approval", {"invalid_ids": ["details.existing_children.0.id_number"]}, "fail", "check digit"),
    ("C-2", "first_child_registration", {"duplicates": []}, "pass", "no other"),
    ("C-2", "first_child_registration", {"duplicates": ["APP-1"]}, "fail", "APP-1"),
    ("C-3", "only_child_honor_certificate", {"reporting_working_days": 10}, "pass", "within 10"),
    ("C-3", "only_child_honor_certificate", {"reporting_working_days": 11}, "flag", "after 11 working days"),
    ("RB-1", "rebirth_approval", {"woman_age": 20, "man_age": 22}, "pass", "woman 20"),
    ("RB-1", "rebirth_approval", {"woman_age": 49}, "pass", "woman 49"),
    ("RB-1", "rebirth_approval", {"woman_age": 50, "man_age": 50}, "fail", "the woman is 50"),
    ("RB-1", "rebirth_approval", {"woman_age": 19}, "fail", "the woman is 19"),
    ("RB-1", "rebirth_approval", {"woman_age": 30, "man_age": 21}, "fail", "the man is 21"),
    ("RB-1", "rebirth_approval", {"man_age": 30}, "missing", "woman's age"),
    ("RB-2", "rebirth_approval", {"living_children": 3}, "pass", "3 living"),
    ("RB-2", "rebirth_approval", {"living_children": 4}, "fail", "at most 3"),
    ("RB-2", "rebirth_approval", {}, "missing", "not listed"),
    ("RB-3", "rebirth_approval", {"reason_given": True, "reason_category": "disabled_child", "children_statuses": ["disabled"],
                                  "documents": ["病残儿医学鉴定证明"]}, "pass", "disabled_child"),
    ("RB-3", "rebirth_approval", {"reason_given": True, "reason_category": "disabled_child", "children_statuses": None,
                                  "documents": []}, "missing", "病残儿医学鉴定证明"),
    ("RB-3", "rebirth_approval", {"reason_given": True, "reason_category": "disabled_child", "children_statuses": ["healthy"],
                                  "documents": ["病残儿医学鉴定证明"]}, "fail", "recorded as disabled"),
    ("RB-3", "rebirth_approval", {"reason_given": True, "reason_category": "remarriage", "documents": ["再婚结婚证"]}, "missing", "离婚证明"),
    ("RB-3", "rebirth_approval", {"reason_given": True, "reason_category": None}, "fail", "none of the accepted grounds"),
    ("RB-3", "rebirth_approval", {"reason_given": False}, "missing", "no reason"),
    ("FC-1", "first_child_registration", {"marriage_registered_on": date(2025, 5, 1), "received_on": RECEIVED}, "pass", "married on"),
    ("FC-1", "first_child_registration", {"marriage_registered_on": date(2026, 3, 7), "received_on": RECEIVED}, "fail", "after the application"),
    ("FC-1", "first_child_registration", {"received_on": RECEIVED}, "missing", "marriage registration"),
    ("FC-2", "first_child_registration", {"card_held_by": None}, "pass", "no card"),
    ("FC-2", "first_child_registration", {"card_held_by": "APP-9"}, "fail", "APP-9"),
    ("FC-3", "first_child_registration", {"documents": ["结婚证", "户口簿"]}, "pass", "on file"),
    ("FC-3", "first_child_registration", {"documents": ["结婚证"]}, "missing", "户口簿"),
    ("OC-1", "only_child_honor_certificate", {"child_age": 17}, "pass", "under 18"),
    ("OC-1", "only_child_honor_certificate", {"child_age": 18}, "fail", "the child is 18"),
    ("OC-1", "only_child_honor_certificate", {}, "missing", "birth date"),
    ("OC-2", "only_child_honor_certificate", {"certificate_held_by": None}, "pass", "no certificate has been granted"),
    ("OC-2", "only_child_honor_certificate", {"certificate_held_by": "APP-3"}, "fail", "APP-3"),
    ("OC-2", "only_child_honor_certificate", {"certificate_unknown": True}, "missing", "no readable resident ID"),
    ("OC-3", "only_child_honor_certificate", {"commitment": "夫妻双方自愿终身只生育一个子女"}, "pass", "commitment"),
    ("OC-3", "only_child_honor_certificate", {"commitment": None}, "missing", "commitment"),
    ("OC-4", "only_child_honor_certificate", {"documents": ["户口簿", "出生医学证明"]}, "pass", "on file"),
    ("OC-4", "only_child_honor_certificate", {"documents": ["户口簿"]}, "missing", "出生医学证明"),
    ("OC-4", "only_child_honor_certificate", {}, "missing", "户口簿、出生医学证明"),
    ("EX-1", "exam_bonus_qualification", {"household_type": "rural"}, "pass", "rural"),
    ("EX-1", "exam_bonus_qualification", {"household_type": "urban"}, "fail", "only rural"),
    ("EX-1", "exam_bonus_qualification", {}, "missing", "户籍性质"),
    ("EX-2", "exam_bonus_qualification", {"received_on": date(2026, 3, 1)}, "pass", "within the window"),
    ("EX-2", "exam_bonus_qualification", {"received_on": date(2026, 4, 30)}, "pass", "within the window"),
    ("EX-2", "exam_bonus_qualification", {"received_on": date(2026, 5, 1)}, "flag", "late filing recorded"),
    ("EX-2", "exam_bonus_qualification", {"received_on": date(2026, 2, 28)}, "flag", "outside the filing window"),
    ("EX-3", "exam_bonus_qualification", {"qualification_held_by": None}, "pass", "no qualification has been granted"),
    ("EX-3", "exam_bonus_qualification", {"qualification_held_by": "APP-5"}, "fail", "APP-5"),
    ("EX-3", "exam_bonus_qualification", {"qualification_unknown": True}, "missing", "no readable resident ID"),
    ("EX-4", "exam_bonus_qualification", {"exam": "gaokao", "student": "given", "form": "河北省农村独生子女审定表"}, "pass", "present"),
    ("EX-4", "exam_bonus_qualification", {"exam": "gaokao", "form": "审定表"}, "missing", "student"),
]
# Where HB-2016 differs: at most 2 living children, the honor certificate for children under 14.
CASES_2016 = [
    ("RB-2", "rebirth_approval", {"living_children": 2}, "pass", "2 living"),
    ("RB-2", "rebirth_approval", {"living_children": 3}, "fail", "at most 2"),
    ("OC-1", "only_child_honor_certificate", {"child_age": 13}, "pass", "under 14"),
    ("OC-1", "only_child_honor_certificate", {"child_age": 14}, "fail", "the child is 14"),
    ("C-3", "rebirth_approval", {"reporting_working_days": 11}, "flag", "limit 10"),
]
# Where HB-2021-R1 differs: C-3 counts to the county's reception (and flags a township receiving
# date after it), and C-4 flags a report the township dated well before the county received it.
CASES_2021_R1 = [
    ("C-3", "only_child_honor_certificate", {"reporting_working_days": 1, "county_reporting_working_days": 10}, "pass", "within 10"),
    ("C-3", "only_child_honor_certificate", {"reporting_working_days": 1, "county_reporting_working_days": 11}, "flag", "after 11 working days"),
    ("C-3", "only_child_honor_certificate", {"received_after_reception": True, "received_on": date(2026, 12, 10), "county_received_on": "2026-12-08"},
     "flag", "received the application on 2026-12-10, after the county received it on 2026-12-08"),
    ("C-4", "first_child_registration", {"backdated_working_days": 1}, "pass", "agrees with the county's reception"),
    ("C-4", "first_child_registration", {"backdated_working_days": 2, "township_dated_on": "2026-12-01", "county_received_on": "2026-12-03"},
     "flag", "dates its report 2026-12-01, 2 working days before the county received it on 2026-12-03"),
    ("C-4", "rebirth_approval", {"backdated_working_days": 3}, "flag", "倒签"),
    ("C-4", "first_child_registration", {}, "pass", "not on record"),
]
CASES = ([("HB-2021", *row) for row in CASES_2021] + [("HB-2016", *row) for row in CASES_2016]
         + [("HB-2021-R1", *row) for row in CASES_2021_R1])


@pytest.mark.parametrize(("version", "rule_id", "kind", "facts", "outcome", "words"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[4]}-{i}" for i, c in enumerate(CASES)])
def test_each_rule_row_gives_its_outcome_and_says_why(version, rule_id, kind, facts, outcome, words):
    [finding] = [f for f in evaluate(TABLE.version(version), kind, {"received_on": RECEIVED, **facts}) if f.rule == rule_id]
    assert finding.outcome == outcome
    assert words in finding.message


@pytest.mark.parametrize(("version", "limits"), [
    ("HB-2016", {"rebirth_approval": 30, "first_child_registration": 10, "only_child_honor_certificate": 15, "exam_bonus_qualification": 15}),
    ("HB-2021", {"rebirth_approval": 20, "first_child_registration": 5, "only_child_honor_certificate": 10, "exam_bonus_qualification": 10}),
    ("HB-2021-R1", {"rebirth_approval": 20, "first_child_registration": 5, "only_child_honor_certificate": 10, "exam_bonus_qualification": 10}),
])
def test_each_version_has_its_own_time_limits_in_working_days(version, limits):
    assert dict(TABLE.version(version).time_limits) == limits


def test_every_rule_row_of_every_version_has_a_case_here():
    """A row identical to HB-2021's is covered by its HB-2021 cases; a row that differs needs its own."""
    tested = {(version, rule) for version, rule, *_ in CASES}
    for other in (HB2016, HB2021_R1):
        tested |= {(other.version, rule) for rule, *_ in CASES_2021 if other.rule(rule) == HB2021.rule(rule)}
    assert {(v.version, r.id) for v in TABLE.versions for r in v.rules} <= tested


def test_every_rule_row_names_a_known_check_and_every_kind_has_a_time_limit():
    for version in TABLE.versions:
        assert {rule.check for rule in version.rules} <= set(CHECKS)
        assert set(version.time_limits) == {"rebirth_approval", "first_child_registration", "only_child_honor_certificate", "exam_bonus_qualification"}


def test_the_version_in_force_is_the_last_one_effective_on_the_day():
    assert TABLE.in_force_on(date(2021, 11, 22)).version == "HB-2016"
    assert TABLE.in_force_on(date(2021, 11, 23)).version == "HB-2021"
    assert TABLE.in_force_on(date(2026, 11, 27)).version == "HB-2021"
    assert TABLE.in_force_on(date(2026, 11, 28)).version == "HB-2021-R1"
    with pytest.raises(LookupError):
        TABLE.in_force_on(date(2015, 1, 1))


def test_the_same_facts_are_judged_by_the_rules_of_their_date():
    facts = {"received_on": RECEIVED, "living_children": 3}
    assert [f.outcome for f in evaluate(HB2016, "rebirth_approval", facts) if f.rule == "RB-2"] == ["fail"]
    assert [f.outcome for f in evaluate(HB2021, "rebirth_approval", facts) if f.rule == "RB-2"] == ["pass"]
    assert HB2016.time_limits["rebirth_approval"] == 30 and HB2021.time_limits["rebirth_approval"] == 20


def test_rules_apply_only_to_their_kinds_in_table_order():
    assert [f.rule for f in evaluate(HB2021, "exam_bonus_qualification", {"received_on": RECEIVED})] == ["C-1", "C-2", "C-3", "EX-1", "EX-2", "EX-3", "EX-4"]
    assert [f.rule for f in evaluate(HB2021_R1, "exam_bonus_qualification", {"received_on": RECEIVED})] == [
        "C-1", "C-2", "C-3", "C-4", "EX-1", "EX-2", "EX-3", "EX-4"]


def test_the_same_late_report_is_judged_by_the_rules_of_its_date():
    """Dated by the township a day after receiving it, reaching the county 14 working days later:
    within the limit under HB-2021 (counted to the township's date), late and backdated under HB-2021-R1."""
    facts = {"received_on": RECEIVED, "reporting_working_days": 1, "county_reporting_working_days": 14, "backdated_working_days": 13}
    under_2021 = {f.rule: f.outcome for f in evaluate(HB2021, "first_child_registration", facts)}
    under_r1 = {f.rule: f.outcome for f in evaluate(HB2021_R1, "first_child_registration", facts)}
    assert (under_2021["C-3"], "C-4" in under_2021) == ("pass", False)
    assert (under_r1["C-3"], under_r1["C-4"]) == ("flag", "flag")


def test_a_policy_table_with_an_unknown_check_or_a_repeated_rule_is_refused_at_load(tmp_path):
    from services.verification.adapters.policy_file import DEFAULT_POLICY_TABLE

    raw = json.loads(DEFAULT_POLICY_TABLE.read_text(encoding="utf-8"))
    raw["versions"][1]["rules"][0]["check"] = "astrology"
    (tmp_path / "bad.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown checks: astrology"):
        load_policy_table(tmp_path / "bad.json")
    raw["versions"][1]["rules"][0] = dict(raw["versions"][1]["rules"][1])
    (tmp_path / "bad.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="repeats a rule id"):
        load_policy_table(tmp_path / "bad.json")


# Every version already in force, frozen: sha256 of its entry in policy_table.json (canonical JSON).
FROZEN = {
    "HB-2016": "08768029cc8f4529227330b516bcd1dfe15bdba0f6f11f2de7f92abd8a25feb1",
    "HB-2021": "b089e62eaa89540d88a5808b751e3c34c112225722d0da043b903434f2c7e8eb",
    "HB-2021-R1": "c864f366c0beab251faab39d040033be58b51e6efdc398b2df53cd65bb7130ae",
}


def fingerprint(entry: dict) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()


def test_no_version_in_force_is_ever_edited_a_change_of_rules_is_a_new_version():
    from services.verification.adapters.policy_file import DEFAULT_POLICY_TABLE

    today = datetime.now(timezone(timedelta(hours=8))).date()
    entries = json.loads(DEFAULT_POLICY_TABLE.read_text(encoding="utf-8"))["versions"]
    for entry in entries:
        name = entry["version"]
        if name not in FROZEN and date.fromisoformat(entry["effective_from"]) > today:
            continue  # not yet in force: may still be corrected
        assert name in FROZEN, (f"policy version {name} is in force since {entry['effective_from']}: freeze it here, "
                                f'FROZEN["{name}"] = "{fingerprint(entry)}"')
        assert fingerprint(entry) == FROZEN[name], (
            f"policy version {name} was edited, but it has been in force since {entry['effective_from']} and decisions rest on it. "
            "Restore it and add a new version with its own effective_from instead (see HB-2021-R1).")
    assert set(FROZEN) <= {entry["version"] for entry in entries}, "a version decisions rest on was removed from the table"
