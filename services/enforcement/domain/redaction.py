"""What each agency may see of a case it works jointly (per-agency redaction). Pure.

Never shared with anyone: the tip or petition text, how and by whom a case came in
(channel, record id, petitioner), fee records and internal notes. The police get the
person_refs (keyed hashes, to match their own records) and the evidence; health and
drug regulators get the facilities or outlets they supervise and the signals.
"""

from __future__ import annotations

from typing import Any

COMMON = ("case_number", "category", "township_code", "status", "opened_on")
AGENCY_FIELDS: dict[str, tuple[str, ...]] = {
    "police": (*COMMON, "subjects", "person_refs", "signals", "evidence", "referrals"),
    "health": (*COMMON, "facilities", "signals"),
    "drug": (*COMMON, "outlets", "signals"),
}


def case_facts(case: Any, signals: list[dict[str, Any]], opened_on: str) -> dict[str, Any]:
    """Every shareable fact of a case, before redaction. `signals`: the case's signals
    with their evidence (signals_in_full)."""
    refs = sorted({ref for s in signals for ref in s.get("person_refs", [])} | set(case.subjects.get("person_refs", [])))
    return {
        "case_number": case.case_number,
        "category": case.category,
        "township_code": case.township_code,
        "status": case.status,
        "opened_on": opened_on,
        "subjects": {k: v for k, v in case.subjects.items() if k != "person_refs"},
        "person_refs": refs,
        "facilities": sorted({v for k, v in case.subjects.items() if k == "facility_id"} | {s["subject"].split(":", 1)[1] for s in signals if s["subject"].startswith("facility:")}),
        "outlets": sorted({v for k, v in case.subjects.items() if k == "outlet_id"}),
        "signals": [{"pattern": s["pattern"], "evidence": s["evidence"], "detected_on": s["detected_on"]} for s in signals],
        "evidence": [{k: e[k] for k in ("evidence_id", "kind", "description", "linked_event_ids")} for e in case.evidence],
        "referrals": list(case.referrals),
    }


def shared_view(case: Any, signals: list[dict[str, Any]], agency: str, opened_on: str) -> dict[str, Any]:
    """The case as the agency received it at its last disclosure (`case` is the case as of
    that disclosure): the fields that disclosure recorded, never the table in force today,
    so a later change of AGENCY_FIELDS cannot widen what an earlier disclosure showed.
    Nothing was disclosed to the agency: nothing is shown."""
    recorded = [d["fields"] for d in case.disclosures if d["agency"] == agency]
    if not recorded:
        return {}
    facts = case_facts(case, signals, opened_on)
    return {name: facts[name] for name in recorded[-1] if name in facts}


def disclosed_fields(agency: str) -> list[str]:
    return list(AGENCY_FIELDS[agency])
