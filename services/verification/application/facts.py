"""The facts a policy check needs, gathered from an application's decrypted details.

Personal values (ID numbers, birth dates, names) are read here, inside the use case,
and never leave it: what is recorded is derived (ages, counts, a ground's category)
and people are referred to by person_refs (keyed hashes). Fixed facts are derived
once when the application opens; the facts that change (documents on file, who holds
a card or qualification, other applications of the couple) are read at every check.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from services.verification.domain.application_file import ApplicationFile
from services.verification.domain.policy import PolicyVersion, reason_category
from services.verification.domain.registers import claim_id, couple_key
from shared.calendar import Calendar, working_days_between
from shared.contracts.application_details import ChildV1, DetailsV1, parse_details
from shared.contracts.identity import (
    ResidentIdError,
    birth_date_of,
    normalise_resident_id,
    sex_of,
)
from shared.privacy.keystore import KeyErasedError
from shared.privacy.protection import PersonalDataProtector, is_token

Find = Callable[[UUID], Any]


def reveal(protector: PersonalDataProtector | None, value: Any) -> Any:
    """A decrypted value; None when it cannot be read (no key store, or the key was erased)."""
    if not is_token(value):
        return value
    if protector is None:
        return None
    try:
        return protector.decrypt(value)
    except KeyErasedError:
        return None


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def read_details(kind: str, raw: Any) -> DetailsV1 | None:
    try:
        return parse_details(kind, raw) if isinstance(raw, dict) else None
    except ValidationError:
        return None  # filed before details were validated: checks ask for the information


def fixed_facts(kind: str, ids: dict[str, str | None], details: DetailsV1 | None, received_on: date,
                submitted_on: date, policy: PolicyVersion, calendar: Calendar,
                person_ref: Callable[[str], str] | None, township_dated_on: date | None = None) -> dict[str, Any]:
    """Facts that do not change after filing (JSON-able, no personal values).

    `submitted_on` is the county's reception (intake's broker time): the statutory clock
    starts there, and never on a date the township sets itself. Both readings of C-3 are
    kept, because versions differ: up to the date the township puts on its report
    (`township_dated_on`, its occurred_at: HB-2016, HB-2021) and up to the county's
    reception (HB-2021-R1), with a township receiving date later than the reception
    marked as impossible. How far the township's date lies before the reception is what
    C-4 looks at (backdating)."""
    facts: dict[str, Any] = {"received_on": received_on.isoformat(), "details_readable": details is not None}
    dated = township_dated_on or submitted_on
    facts["reporting_working_days"] = working_days_between(received_on, max(dated, received_on), calendar)
    facts["county_received_on"] = submitted_on.isoformat()
    facts["received_after_reception"] = received_on > submitted_on
    facts["county_reporting_working_days"] = None if received_on > submitted_on else working_days_between(received_on, submitted_on, calendar)
    if township_dated_on is not None:
        facts["township_dated_on"] = township_dated_on.isoformat()
        facts["backdated_working_days"] = working_days_between(township_dated_on, submitted_on, calendar)
    invalid, ages = [], {}
    for field, number in ids.items():
        if number is None:
            continue
        try:
            number = normalise_resident_id(number)
        except ResidentIdError:
            invalid.append(field)
            continue
        ages["woman_age" if sex_of(number) == "F" else "man_age"] = age_on(birth_date_of(number), received_on)
    facts.update(ages)
    extra = (details.model_extra or {}) if details else {}
    if details is not None:
        facts["documents"] = list(details.documents or [])
        facts.update(_kind_facts(kind, details, received_on, policy, person_ref, invalid))
    facts.setdefault("documents", [])
    facts["invalid_ids"] = invalid
    facts["extra_fields"] = sorted(extra)
    return facts


def _kind_facts(kind: str, details: Any, received_on: date, policy: PolicyVersion,
                person_ref: Callable[[str], str] | None, invalid: list[str]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for name in ("household_type", "commitment", "form", "exam"):
        if hasattr(details, name):
            facts[name] = getattr(details, name)
    if getattr(details, "marriage_registered_on", None) is not None:
        facts["marriage_registered_on"] = details.marriage_registered_on.isoformat()
    if kind == "rebirth_approval":
        children = details.existing_children
        if isinstance(children, list):
            facts["living_children"] = sum(1 for c in children if c.status != "deceased")
            statuses = [c.status for c in children if c.status]
            facts["children_statuses"] = statuses if statuses else None
        elif isinstance(children, int):
            facts["living_children"], facts["children_statuses"] = children, None
        facts["reason_given"] = bool(details.reason)
        if isinstance(children, list) and person_ref:  # checked against the death reports verification holds
            facts["declared_living_refs"] = [person_ref(c.id_number) for c in children if c.status != "deceased" and c.id_number]
        categories = next((r.params["categories"] for r in policy.rules_for(kind) if r.check == "reason"), {})
        facts["reason_category"] = reason_category(details.reason, categories)
    elif kind == "only_child_honor_certificate":
        child: ChildV1 | None = details.child
        if child and child.birth_date:
            facts["child_age"] = age_on(child.birth_date, received_on)
        if child and child.id_number and person_ref:
            facts["child_ref"] = person_ref(child.id_number)
    elif kind == "exam_bonus_qualification":
        facts["exam_year"] = details.exam_year or received_on.year
        if details.student_id_number and person_ref:
            facts["student"] = "given"
            facts["student_ref"] = person_ref(details.student_id_number)
    return facts


# --- claims: keys built from person_refs ---------------------------------------------------


def holder_key(register: str, file: ApplicationFile, facts: dict[str, Any]) -> str | None:
    """The key of what this application would hold once granted, or None if unknown."""
    if register == "card":
        return couple_key("card", file.applicant_ref, file.spouse_ref)
    if register == "certificate":
        return f"certificate:{facts['child_ref']}" if facts.get("child_ref") else None
    if register == "qualification":
        if not facts.get("student_ref") or not facts.get("exam"):
            return None
        return f"qualification:{facts['student_ref']}:{facts['exam']}:{facts['exam_year']}"
    raise ValueError(f"unknown register {register!r}")


def registers_of(policy: PolicyVersion, kind: str) -> list[str]:
    return list(exclusive_rules(policy, kind))


def exclusive_rules(policy: PolicyVersion, kind: str) -> dict[str, str]:
    """register -> the rule row that makes it exclusive (e.g. certificate -> OC-2)."""
    return {rule.params["register"]: rule.id for rule in policy.rules_for(kind) if rule.check == "no_holder"}


def holder_refs(register: str, file: ApplicationFile, facts: dict[str, Any]) -> list[str]:
    """Who the register's entry is about (person_refs): the child, the student, or the couple."""
    if register == "certificate":
        return [facts["child_ref"]] if facts.get("child_ref") else []
    if register == "qualification":
        return [facts["student_ref"]] if facts.get("student_ref") else []
    return [r for r in (file.applicant_ref, file.spouse_ref) if r]


def live_facts(file: ApplicationFile, fixed: dict[str, Any], policy: PolicyVersion, find: Find) -> dict[str, Any]:
    """Fixed facts plus what can change between checks; dates as dates for the checks."""
    facts = dict(fixed)
    facts["documents"] = sorted({*fixed.get("documents", []), *file.documents})
    couple = find(claim_id(couple_key(file.application_kind, file.applicant_ref, file.spouse_ref)))
    facts["duplicates"] = [h for h in (couple.holders if couple else []) if h != file.application_id]
    for register in registers_of(policy, file.application_kind):
        key = holder_key(register, file, fixed)
        if key is None:
            facts[f"{register}_unknown"] = True
            continue
        claim = find(claim_id(key))
        others = [h for h in (claim.holders if claim else []) if h != file.application_id]
        facts[f"{register}_held_by"] = others[0] if others else None
    return facts


def for_checks(facts: dict[str, Any]) -> dict[str, Any]:
    """Dates back to dates for the pure checks."""
    checked = dict(facts)
    for name in ("received_on", "marriage_registered_on"):
        if isinstance(checked.get(name), str):
            checked[name] = date.fromisoformat(checked[name])
    return checked
