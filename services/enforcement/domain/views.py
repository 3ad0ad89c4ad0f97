"""How a case reads in lists and in full (the enforcement team's own view). Pure."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.enforcement.domain.deadlines import DeadlineRules, deadline_standing


def answered(case: Any) -> bool:
    return case.conclusion is not None or case.status == "closed"


def case_summary(case: Any, opened_on: str, as_of: date, rules: DeadlineRules) -> dict[str, Any]:
    deadline = case.deadline or None
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
        "opened_on": opened_on,
        "due_on": deadline["due_on"] if deadline else None,
        "deadline": deadline_standing(deadline, answered(case), as_of, rules),
        "signals": len(case.signals),
        "version": case.version,
    }


def case_detail(case: Any, signals: list[dict[str, Any]], opened_on: str, as_of: date, rules: DeadlineRules) -> dict[str, Any]:
    """Everything the team sees; encrypted personal fields stay encrypted (masked).
    `signals`: the case's signals with their evidence (signals_in_full)."""
    return {
        **case_summary(case, opened_on, as_of, rules),
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
