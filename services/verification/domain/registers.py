"""Small aggregates that make uniqueness rules safe under concurrency. Each is saved in
the same transaction as the application event that needs it, so two officers (or two
replicas) racing get a stale-aggregate error and the loser decides again.

- `Claim`: who holds something: the applications of a couple for one kind (several may
  be on record, the check flags them), and, exclusively (`hold`), a first-child card of
  a couple, an honor certificate for a child, an exam qualification of a student for
  one exam and year. Keys are built from person_refs (keyed hashes), never from ID
  numbers. Exclusivity is decided here, on the register, and not only by the check
  of an application: two applications checked while neither was approved both pass
  their check, and only the register sees the second approval.
- `CertificateSequence`: the numbers issued per kind and year, in order, never reused.
- `CertificateCode`: a verification code -> the application whose certificate it is.
- `KnownCase`: an enforcement case verification has heard of (case.opened), with its
  last status and how it was concluded (case.concluded carries `substantiated`), so a
  revocation can only name a case enforcement concluded as substantiated (a proven
  falsification). Reopening a case withdraws its conclusion, as it does in enforcement.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.verification.domain.errors import RuleViolation
from shared.ids import stable_id

CERTIFICATE_PREFIX = {
    "rebirth_approval": "ZS",  # 再生育审批决定书
    "first_child_registration": "DJ",  # 第一个子女生育登记卡
    "only_child_honor_certificate": "GR",  # 独生子女父母光荣证
    "exam_bonus_qualification": "JF",  # 加分资格确认书
}
COUNTY_CODE = "130132"


def claim_id(key: str) -> UUID:
    return stable_id("claim", key)


def couple_key(kind: str, *refs: str | None) -> str:
    return f"couple:{kind}:" + "|".join(sorted(r for r in refs if r))


class Claim(Aggregate):
    @staticmethod
    def create_id(key: str) -> UUID:
        return claim_id(key)

    @event("Created")
    def __init__(self, key: str) -> None:
        self.key = key
        self.holders: list[str] = []

    def claim(self, application_id: str) -> None:
        if application_id not in self.holders:
            self._claimed(application_id=application_id)

    def hold(self, application_id: str, rule: str) -> None:
        """Exclusive: a second holder is refused, naming the rule and who holds it."""
        others = [h for h in self.holders if h != application_id]
        if others:
            raise AlreadyHeldError(rule, others[0])
        self.claim(application_id)

    @event("Claimed")
    def _claimed(self, application_id: str) -> None:
        self.holders = [*self.holders, application_id]

    @event("Released")
    def release(self, application_id: str) -> None:
        self.holders = [h for h in self.holders if h != application_id]


class AlreadyHeldError(RuleViolation):
    """What an exclusive register grants is already held through another application."""

    def __init__(self, rule: str, holder: str) -> None:
        super().__init__("findings", f"{rule}：已由申请 {holder} 持有，不能再次批准 · {rule}: already held through application {holder}")
        self.rule, self.holder = rule, holder


def sequence_id(kind: str, year: int) -> UUID:
    return stable_id("certificate-sequence", kind, str(year))


def certificate_number(kind: str, year: int, sequence: int) -> str:
    return f"{COUNTY_CODE}-{CERTIFICATE_PREFIX[kind]}-{year}-{sequence:05d}"


class CertificateSequence(Aggregate):
    @staticmethod
    def create_id(kind: str, year: int) -> UUID:
        return sequence_id(kind, year)

    @event("Started")
    def __init__(self, kind: str, year: int) -> None:
        self.kind, self.year, self.last = kind, year, 0

    def next_number(self, application_id: str) -> str:
        self._issued(sequence=self.last + 1, application_id=application_id)
        return certificate_number(self.kind, self.year, self.last)

    @event("NumberIssued")
    def _issued(self, sequence: int, application_id: str) -> None:
        self.last = sequence


def code_id(code: str) -> UUID:
    return stable_id("certificate-code", code)


class CertificateCode(Aggregate):
    @staticmethod
    def create_id(code: str, **_: str) -> UUID:
        return code_id(code)

    @event("Assigned")
    def __init__(self, code: str, application_id: str, certificate_no: str) -> None:
        self.code, self.application_id, self.certificate_no = code, application_id, certificate_no


def known_case_id(case_number: str) -> UUID:
    return stable_id("enforcement-case", case_number)


class KnownCase(Aggregate):
    @staticmethod
    def create_id(case_number: str, **_: str) -> UUID:
        return known_case_id(case_number)

    @event("Heard")
    def __init__(self, case_number: str, case_id: str, status: str, heard_on: str) -> None:
        self.case_number, self.case_id, self.status, self.heard_on = case_number, case_id, status, heard_on
        self.substantiated: bool | None = None  # None: not concluded (or reopened since)

    def note_status(self, status: str, on: str) -> bool:
        if status == self.status:
            return False
        self._status_changed(status=status, on=on)
        return True

    @event("StatusChanged")
    def _status_changed(self, status: str, on: str) -> None:
        self.status = status
        if status == "reopened":
            self.substantiated = None

    def note_conclusion(self, substantiated: bool, on: str) -> bool:
        if self.status in ("concluded", "closed") and self.substantiated is substantiated:
            return False
        self._concluded(substantiated=substantiated, on=on)
        return True

    @event("Concluded")
    def _concluded(self, substantiated: bool, on: str) -> None:
        # heard after its closing (redelivered late): the case stays closed, with its conclusion
        self.status = "closed" if self.status == "closed" else "concluded"
        self.substantiated = substantiated

    @property
    def proves_falsification(self) -> bool:
        """Concluded as substantiated (and still so once closed)."""
        return self.substantiated is True and self.status in ("concluded", "closed")

    def expect_proven(self) -> None:
        """A revocation rests on a falsification the case proved; anything less is refused."""
        if self.proves_falsification:
            return
        if self.status in ("concluded", "closed") and self.substantiated is False:
            why_zh, why = "已办结但认定举报不属实", "was concluded as not substantiated"
        elif self.status in ("concluded", "closed"):
            why_zh, why = "的办结结论未知", "was concluded, but verification never heard whether it was substantiated"
        else:
            why_zh, why = f"尚未办结（当前状态：{self.status}）", f"is not concluded yet (status: {self.status})"
        raise RuleViolation("enforcement_case", f"执法大队案件 {self.case_number} {why_zh}，不能据此撤销 · enforcement case {self.case_number} {why}: "
                            "a decision is revoked only on a case concluded as substantiated (POST /cases/{ref}/conclusion with substantiated: true)", 409)
