"""Two-illegals signals from the health, drug and police feeds (pure decisions).

Each hit becomes a signal that carries the ids of the integration events it rests
on, and opens a case for the thing it points at (a facility, an operator, an
outlet) or joins that thing's existing case, so a repeated pattern never opens a
second case. People are matched by person_ref only. Two health details the rules
need (gestation weeks, medical indication) are read through `reveal`, an audited
port; no revealed value is ever stored or published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from services.enforcement.application.cases import Find, open_or_join_signal_case
from services.enforcement.domain.detectors import late_termination, scan_then_termination, sex_ratio, unprescribed_sales
from services.enforcement.domain.detectors.late_termination import LateTerminationRule
from services.enforcement.domain.detectors.scan_then_termination import ScanThenTerminationRule
from services.enforcement.domain.detectors.sex_ratio import SexRatioRule
from services.enforcement.domain.detectors.unprescribed_sales import UnprescribedSalesRule
from services.enforcement.domain.watch import SCAN_MEMORY_DAYS, BirthTally, OutletSales, PatientScans, watch_id
from shared.calendar import county_day
from shared.contracts.events.intake import SubmissionAcceptedV1
from shared.contracts.integration import ReceivedEvent

# reveal(token, purpose, cause) -> the plain value, or UNREADABLE when the subject's key
# was erased; cause is the event id of the record read (the audit log names it)
Reveal = Callable[[Any, str], Any]
UNREADABLE = object()


@dataclass(frozen=True)
class Detection:
    reveal: Reveal
    late: LateTerminationRule = field(default_factory=LateTerminationRule)
    sales: UnprescribedSalesRule = field(default_factory=UnprescribedSalesRule)
    scans: ScanThenTerminationRule = field(default_factory=ScanThenTerminationRule)
    ratio: SexRatioRule = field(default_factory=SexRatioRule)


class _Cases:
    """The cases one message touches: a second signal on the same thing joins the same object."""

    def __init__(self, find: Find, submission: SubmissionAcceptedV1) -> None:
        self.find, self.submission, self.touched = find, submission, {}

    def _find(self, case_id: Any) -> Any:
        return self.touched.get(case_id) or self.find(case_id)  # a case this message already touched first

    def signal(self, pattern: str, subject: str, evidence: Sequence[str], detected_on: date, subjects: dict[str, Any], person_refs: Sequence[str] = ()) -> None:
        signal = {"pattern": pattern, "subject": subject, "evidence": list(evidence), "detected_on": detected_on.isoformat(), "person_refs": list(person_refs)}
        case = open_or_join_signal_case(self._find, signal, category="two_illegals", section=self.submission.section,
                                        township_code=self.submission.township_code, subjects=subjects)
        if case is not None:
            self.touched[case.id] = case


def _found(find: Find, cls: type, key: str) -> Any:
    return find(watch_id(cls.__name__, key)) or cls(id=watch_id(cls.__name__, key))


def termination_decider(detection: Detection) -> Callable[[ReceivedEvent, Find], Sequence[Aggregate]]:
    def on_termination(received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
        submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
        data, event_id = submission.data, received.envelope.event_id
        performed_on = date.fromisoformat(data["performed_on"])
        weeks = detection.reveal(data["gestation_weeks"], late_termination.PATTERN, event_id)
        indication = detection.reveal(data.get("medical_indication"), late_termination.PATTERN, event_id)
        if indication is UNREADABLE:
            return ()
        cases = _Cases(find, submission)
        patient = submission.person_refs.get("patient_id_number")
        if weeks is not UNREADABLE and late_termination.late_termination_without_indication(weeks, indication, detection.late):
            facility = data["facility_id"]
            cases.signal(late_termination.PATTERN, f"facility:{facility}", [event_id], performed_on, {"facility_id": facility}, [patient] if patient else [])
        scans = find(watch_id(PatientScans.__name__, patient)) if patient else None
        if scans is not None:
            by_day = {}
            for scan in scans.scans:
                by_day.setdefault(date.fromisoformat(scan["performed_on"]), []).append(scan)
            hits = scan_then_termination.scans_before_termination(sorted(by_day), performed_on, indication, detection.scans)
            for scan in [s for day in hits for s in by_day[day]]:
                subjects = {"facility_id": scan["facility_id"], "operator_id": scan["operator_id"]}
                cases.signal(scan_then_termination.PATTERN, f"facility:{scan['facility_id']}", [scan["event_id"], event_id], performed_on, subjects, [patient])
        return tuple(cases.touched.values())

    return on_termination


def on_ultrasound(received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
    """Remember the scan (where, by whom, when) against the patient's person_ref."""
    submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
    patient = submission.person_refs.get("patient_id_number")
    if not patient:
        return ()
    scans: PatientScans = _found(find, PatientScans, patient)
    if scans.knows(received.envelope.event_id):
        return ()
    data = submission.data
    scans.note_scan(event_id=received.envelope.event_id, performed_on=data["performed_on"], facility_id=data["facility_id"], operator_id=data["operator_id"])
    return (scans,)


def drug_sale_decider(detection: Detection) -> Callable[[ReceivedEvent, Find], Sequence[Aggregate]]:
    rule = detection.sales

    def on_drug_sale(received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
        submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
        data, event_id = submission.data, received.envelope.event_id
        # Whether a prescription was given needs no decryption: the field is null or a token.
        if not unprescribed_sales.unprescribed_termination_drug_sale(data["drug_code"], data.get("prescription_id"), rule):
            return ()
        outlet = data["outlet_id"]
        sales: OutletSales = _found(find, OutletSales, outlet)
        if sales.knows(event_id):
            return ()
        sold_at = datetime.fromisoformat(str(data["sold_at"]))
        crossed = unprescribed_sales.outlet_crossed_threshold([datetime.fromisoformat(s["sold_at"]) for s in sales.sales], sold_at, rule)
        sales.note_sale(event_id=event_id, sold_at=sold_at.isoformat(), window_days=rule.window_days)
        cases = _Cases(find, submission)
        buyer = submission.person_refs.get("buyer_id_number")
        subject, subjects = f"outlet:{outlet}", {"outlet_id": outlet}
        cases.signal(unprescribed_sales.SALE_PATTERN, subject, [event_id], county_day(sold_at), subjects, [buyer] if buyer else [])
        if crossed:
            window = [s["event_id"] for s in sales.sales]
            cases.signal(unprescribed_sales.VOLUME_PATTERN, subject, window, county_day(sold_at), subjects)
        return (sales, *cases.touched.values())

    return on_drug_sale


def birth_decider(detection: Detection) -> Callable[[ReceivedEvent, Find], Sequence[Aggregate]]:
    rule = detection.ratio

    def on_birth(received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
        """A birth counts for the facility and the operator of the mother's last scan."""
        submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
        data, event_id = submission.data, received.envelope.event_id
        mother = submission.person_refs.get("mother_id_number")
        scans = find(watch_id(PatientScans.__name__, mother)) if mother else None
        born = date.fromisoformat(data["birth_date"])
        scan = scans.last_scan_before(born) if scans is not None else None
        if scan is None or (born - date.fromisoformat(scan["performed_on"])).days > SCAN_MEMORY_DAYS:
            return ()
        changed: list[Aggregate] = []
        cases = _Cases(find, submission)
        facility, operator = scan["facility_id"], scan["operator_id"]
        for subject, subjects in ((f"facility:{facility}", {"facility_id": facility}), (f"operator:{facility}/{operator}", {"facility_id": facility, "operator_id": operator})):
            tally: BirthTally = _found(find, BirthTally, subject)
            if tally.knows(event_id, born):
                continue
            boys, girls = tally.counts_within(born, rule.window_days)
            before = sex_ratio.skewed_counts(boys, girls, rule)
            tally.note_birth(event_id=event_id, birth_date=born.isoformat(), sex=data["sex"], window_days=rule.window_days)
            changed.append(tally)
            # The new birth is inside its own window; those it pushed out were outside it.
            boys, girls = (boys + 1, girls) if data["sex"] == "M" else (boys, girls + 1)
            if sex_ratio.skewed_counts(boys, girls, rule) and not before:
                cases.signal(sex_ratio.PATTERN, subject, tally.event_ids(), born, subjects)
        return (*changed, *cases.touched.values())

    return on_birth
