"""Signals of the cross-checks (线索): what enforcement receives and opens cases from.

Pure domain. A signal is one pattern on one subject (a payment, a beneficiary, a
township office): new evidence on the same subject joins the signal rather than
raising another, and the enforcement case it became is linked back when enforcement
announces it. The detectors are pure functions of facts already decided.

| pattern | offence | subject |
|---|---|---|
| followup_shortfall | 克扣 skimming | payment:<PAY-…> |
| paid_after_death | 冒领 fraudulent collection | payment:<PAY-…> |
| duplicate_enrolment | 虚报 false reporting | beneficiary:<BF-…> |
| deceased_reported | 虚报 false reporting | beneficiary:<BF-…> |
| township_failure_rate | 虚报 false reporting | township:<code> |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.verification.domain.subsidy.policy import FailureRate
from services.verification.domain.subsidy.references import public_id
from shared.contracts.events.subsidy import SIGNAL_PATTERNS
from shared.ids import stable_id


def signal_uuid(pattern: str, subject: str) -> UUID:
    return stable_id("subsidy-signal", pattern, subject)


@dataclass(frozen=True)
class Detection:
    pattern: str
    subject: str
    township_code: str | None
    evidence: list[str]
    summary: str
    person_refs: list[str] = field(default_factory=list)
    amount: Decimal | None = None


class SubsidySignal(Aggregate):
    @staticmethod
    def create_id(pattern: str, subject: str, **_: Any) -> UUID:
        return signal_uuid(pattern, subject)

    @event("Raised")
    def __init__(self, pattern: str, subject: str, township_code: str | None, evidence: list[str], person_refs: list[str],
                 amount: Decimal | None, detected_on: str, summary: str) -> None:
        self.pattern, self.offence, self.subject, self.township_code = pattern, SIGNAL_PATTERNS[pattern], subject, township_code
        self.evidence, self.person_refs, self.amount = list(evidence), list(person_refs), amount
        self.detected_on, self.summary = detected_on, summary
        self.cases: list[dict[str, str]] = []

    @property
    def signal_id(self) -> str:
        return public_id("SG", self.id)

    def join(self, detection: Detection, detected_on: str) -> bool:
        """Adds the evidence this signal does not hold yet; False when there is none."""
        new = [e for e in detection.evidence if e not in self.evidence]
        if not new:
            return False
        people = [p for p in detection.person_refs if p not in self.person_refs]
        self._joined(evidence=new, person_refs=people, amount=detection.amount, detected_on=detected_on, summary=detection.summary)
        return True

    @event("EvidenceJoined")
    def _joined(self, evidence: list[str], person_refs: list[str], amount: Decimal | None, detected_on: str, summary: str) -> None:
        self.evidence, self.person_refs = [*self.evidence, *evidence], [*self.person_refs, *person_refs]
        self.amount = amount if amount is not None else self.amount
        self.detected_on, self.summary = detected_on, summary

    def link_case(self, case_id: str, case_number: str, linked_on: str) -> bool:
        if any(c["case_id"] == case_id for c in self.cases):
            return False
        self._linked(case_id=case_id, case_number=case_number, linked_on=linked_on)
        return True

    @event("CaseLinked")
    def _linked(self, case_id: str, case_number: str, linked_on: str) -> None:
        self.cases = [*self.cases, {"case_id": case_id, "case_number": case_number, "linked_on": linked_on}]


# --- detectors -----------------------------------------------------------------------------


def followup_shortfall(payment: Any, shortfall: Decimal | None, evidence: list[str]) -> Detection | None:
    """`evidence`: the report that enrolled the beneficiary and the follow-up that contradicts the payment."""
    if shortfall is None:
        return None
    return Detection("followup_shortfall", f"payment:{payment.payment_id}", payment.township_code, evidence,
                     f"回访确认金额比发放金额少{shortfall}元（{payment.payment_id}），疑似克扣", [payment.person_ref], shortfall)


def paid_after_death(payment: Any, died_on: str, evidence: list[str]) -> Detection | None:
    """A payment disbursed on or after the day of death (it reached no living beneficiary).
    `evidence`: the report that enrolled the beneficiary and the death (or pension-roll) record."""
    if payment.bucket != "disbursed" or payment.disbursed_on is None or payment.disbursed_on < died_on:
        return None
    return Detection("paid_after_death", f"payment:{payment.payment_id}", payment.township_code, evidence,
                     f"{payment.payment_id}于{payment.disbursed_on}发放，受益人已于{died_on}死亡，疑似冒领", [payment.person_ref], payment.amount)


def duplicate_enrolment(beneficiary: Any, program: str, year: int, township_code: str, evidence: list[str], why: str) -> Detection:
    """Two townships report the same person for one program and year, or one person is
    reported for both programs in a year where the policy makes them exclusive."""
    return Detection("duplicate_enrolment", f"beneficiary:{beneficiary.beneficiary_id}", township_code, evidence,
                     f"{beneficiary.beneficiary_id} {year}年{why}，疑似虚报", [beneficiary.person_ref])


def deceased_reported(beneficiary: Any, year: int, township_code: str, evidence: list[str], reported_on: str) -> Detection | None:
    """Reported (or enrolled) for a year that began after the person's reported death, or
    reported by the township on a day they had already died."""
    died = beneficiary.deceased_since
    if died is None or (died >= f"{year}-01-01" and died >= reported_on):
        return None
    return Detection("deceased_reported", f"beneficiary:{beneficiary.beneficiary_id}", township_code, evidence,
                     f"{beneficiary.beneficiary_id}已于{beneficiary.deceased_since}死亡，仍被申报{year}年度扶助，疑似虚报", [beneficiary.person_ref])


def township_failure_rate(tally: Any, rule: FailureRate) -> Detection | None:
    if tally.checked < rule.min_reports or not tally.refused or Decimal(tally.refused) / Decimal(tally.checked) < rule.threshold:
        return None
    return Detection("township_failure_rate", f"township:{tally.township_code}", tally.township_code, list(tally.refused_evidence),
                     f"{tally.township_code}乡镇{tally.year}年{tally.program}申报{tally.checked}人，{tally.refused}人未通过审核，比例异常，疑似虚报")
