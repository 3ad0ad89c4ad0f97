"""How a case reads in lists and in full (the enforcement team's own view). Pure."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.enforcement.domain.deadlines import DeadlineRules, deadline_standing
from shared.calendar import county_day


def answered(case: Any) -> bool:
    return case.conclusion is not None or case.status == "closed"


def opened_on(case: Any) -> str:
    """The day (China time) the case was opened."""
    return county_day(case.created_on).isoformat()


def case_row(case: Any) -> dict[str, Any]:
    """What a case's line in a list keeps, whatever the day it is read on (the case
    listing stores it: enforcement/application/case_listing.py)."""
    return {
        "case_id": str(case.id),
        "case_number": case.case_number,
        "origin": case.origin,
        "category": case.category,
        "township_code": case.township_code,
        "section": case.section,
        "status": case.status,
        "priority": case.priority,
        "assigned_to": case.assigned_to,
        "anonymous": case.anonymous,
        "opened_on": opened_on(case),
        "deadline": case.deadline or None,
        "answered": answered(case),
        "signals": len(case.signals),
        "version": case.version,
    }


SHOWN_AS_KEPT = ("case_id", "case_number", "origin", "category", "township_code", "section", "status", "priority", "assigned_to",
                 "anonymous", "opened_on")


def listed(row: dict[str, Any], as_of: date, rules: DeadlineRules) -> dict[str, Any]:
    """A case's line in a list on `as_of`: where its statutory clock then stands."""
    deadline = row["deadline"]
    return {**{k: row[k] for k in SHOWN_AS_KEPT}, "due_on": deadline["due_on"] if deadline else None,
            "deadline": deadline_standing(deadline, row["answered"], as_of, rules), "signals": row["signals"], "version": row["version"]}


def case_summary(case: Any, as_of: date, rules: DeadlineRules) -> dict[str, Any]:
    return listed(case_row(case), as_of, rules)


def case_detail(case: Any, signals: list[dict[str, Any]], as_of: date, rules: DeadlineRules) -> dict[str, Any]:
    """Everything the team sees; encrypted personal fields stay encrypted (masked).
    `signals`: the case's signals with their evidence (signals_in_full)."""
    return {
        **case_summary(case, as_of, rules),
        "channel": case.channel,
        "record_id": case.record_id,
        "summary": "[encrypted]" if case.summary is not None else None,
        "subjects": case.subjects,
        "signals_detail": signals,
        "evidence": case.evidence,
        "joint_operations": case.joint_operations,
        "disclosures": case.disclosures,
        "referrals": case.referrals,
        "conclusion": case.conclusion,
        "fees": case.fees,
        "fee_reconciliation": case.fee_reconciliation(),
        "deadline_detail": case.deadline,
        "deadline_alerts": case.deadline_alerts,
        "reopen_reasons": case.reopen_reasons,
    }
