"""Falsification signals (弄虚作假线索) on applications: what enforcement opens a case from.

Pure domain. A signal is one pattern on one application: finding the same thing again
(at the check, then at the approval) joins new evidence to it instead of raising a
second signal, so enforcement sees one signal per finding.

| pattern | when |
|---|---|
| certificate_already_held | the child's honor certificate, the couple's first-child card or the student's exam qualification is already held through another application |
| declared_children_mismatch | a re-birth application declares a child living (healthy or disabled) whom a death report (or the pension roll) records as dead |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.ids import stable_id

# register -> the summary's wording (no personal data: only application ids)
HELD = {
    "certificate": "该子女已持有独生子女父母光荣证（{holder}），再次申领，疑似弄虚作假",
    "card": "该夫妻已领取第一个子女生育登记卡（{holder}），再次申领，疑似弄虚作假",
    "qualification": "该考生本类考试加分资格已确认（{holder}），再次申报，疑似弄虚作假",
}


def falsification_uuid(pattern: str, application_id: str) -> UUID:
    return stable_id("falsification-signal", pattern, application_id)


@dataclass(frozen=True)
class Detection:
    pattern: str
    application_id: str
    application_kind: str
    township_code: str
    evidence: list[str]
    person_refs: list[str]
    summary: str


def already_held(file: Any, register: str, holder: str, person_refs: list[str], evidence: list[str]) -> Detection:
    """The application asks for what another application already holds."""
    return Detection("certificate_already_held", file.application_id, file.application_kind, file.township_code,
                     [e for e in evidence if e], [p for p in person_refs if p], HELD[register].format(holder=holder))


def children_mismatch(file: Any, dead_refs: list[str], evidence: list[str]) -> Detection:
    """Declared living children the county's records say have died (no dates: health data stays out)."""
    return Detection("declared_children_mismatch", file.application_id, file.application_kind, file.township_code,
                     [e for e in evidence if e], dead_refs, f"申报为存活的子女中有{len(dead_refs)}人已有死亡登记，申报子女与登记不符，疑似弄虚作假")


class FalsificationSignal(Aggregate):
    @staticmethod
    def create_id(pattern: str, application_id: str, **_: Any) -> UUID:
        return falsification_uuid(pattern, application_id)

    @event("Raised")
    def __init__(self, pattern: str, application_id: str, application_kind: str, township_code: str, evidence: list[str],
                 person_refs: list[str], detected_on: str, summary: str) -> None:
        self.pattern, self.application_id, self.application_kind = pattern, application_id, application_kind
        self.township_code, self.evidence, self.person_refs = township_code, list(evidence), list(person_refs)
        self.detected_on, self.summary = detected_on, summary

    @property
    def signal_id(self) -> str:
        return f"FS-{self.id.hex[:12].upper()}"

    @property
    def subject(self) -> str:
        return f"application:{self.application_id}"

    def join(self, detection: Detection, detected_on: str) -> bool:
        """Adds evidence the signal does not hold yet; False (nothing recorded) when there is none."""
        new = [e for e in detection.evidence if e not in self.evidence]
        if not new:
            return False
        people = [p for p in detection.person_refs if p not in self.person_refs]
        self._joined(evidence=new, person_refs=people, detected_on=detected_on, summary=detection.summary)
        return True

    @event("EvidenceJoined")
    def _joined(self, evidence: list[str], person_refs: list[str], detected_on: str, summary: str) -> None:
        self.evidence, self.person_refs = [*self.evidence, *evidence], [*self.person_refs, *person_refs]
        self.detected_on, self.summary = detected_on, summary


def raise_or_join(find: Any, detection: Detection, on: str) -> FalsificationSignal | None:
    """The signal with this detection recorded, or None when it adds nothing."""
    existing: FalsificationSignal | None = find(falsification_uuid(detection.pattern, detection.application_id))
    if existing is not None:
        return existing if existing.join(detection, on) else None
    return FalsificationSignal(pattern=detection.pattern, application_id=detection.application_id,
                               application_kind=detection.application_kind, township_code=detection.township_code,
                               evidence=detection.evidence, person_refs=detection.person_refs, detected_on=on, summary=detection.summary)
