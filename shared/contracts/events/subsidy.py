"""Integration events of reward and special assistance (奖励扶助 / 特别扶助), published by
verification (subjects fp.verification.beneficiary.*, fp.verification.payment_cycle.*,
fp.verification.payment.*, fp.verification.subsidy.*).

Money is a decimal string in yuan with two places ("960.00"), never a float. No
personal data travels: people are person_refs (keyed hashes); beneficiaries are
named by `beneficiary_id` (BF-<12 upper-case hex>), payments by `payment_id`
(PAY-<year>-<RW|SP>-<6-digit sequence>, the id townships quote in follow-ups).

Every payment event carries the payment's `bucket` after the change, so a reader can
reconcile a cycle without knowing the lifecycle: each payment's amount is in exactly
one bucket, and entitled = pending + disbursed + withheld + returned (a closed
cycle has nothing pending, so entitled = disbursed + withheld + returned).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from shared.contracts.integration import EventType, register

PROGRAMS = {"reward": "奖励扶助", "special": "特别扶助"}
BUCKETS = ("pending", "disbursed", "withheld", "returned")
# offence codes of the register, with their Chinese names
OFFENCES = {
    "false_reporting": "虚报",
    "fraudulent_collection": "冒领",
    "skimming": "克扣",
    "embezzlement": "贪污",
    "misappropriation": "挪用",
    "diversion": "挤占",
}
SIGNAL_PATTERNS = {
    "duplicate_enrolment": "false_reporting",  # one person enrolled twice (two townships, or both programs)
    "deceased_reported": "false_reporting",  # reported for a year after their reported death
    "township_failure_rate": "false_reporting",  # a township's reports fail confirmation unusually often
    "paid_after_death": "fraudulent_collection",  # a payment disbursed on or after the date of death
    "followup_shortfall": "skimming",  # the beneficiary confirms less than was disbursed
}
Money = Decimal


class BeneficiaryStepV1(BaseModel):
    beneficiary_id: str
    person_ref: str
    program: str = Field(description="reward | special")
    year: int = Field(description="The enrolment year the step is about")
    township_code: str = Field(description="The township that reported the enrolment")
    on: str = Field(description="The day of the step (YYYY-MM-DD, China time)")
    officer_id: str | None = Field(description="Who acted; null for an automatic step")
    officer_section: str | None


class FindingV1(BaseModel):
    rule: str
    outcome: str = Field(description="pass | fail | missing | flag")
    message: str


class BeneficiaryReportedV1(BeneficiaryStepV1):
    submission_id: str
    birth_year: int = Field(description="Year of birth only (for age bands in reports)")


class BeneficiaryCheckedV1(BeneficiaryStepV1):
    policy_version: str
    findings: list[FindingV1]
    outcome: str = Field(description="eligible (awaits confirmation) | ineligible (refused) | incomplete (information missing)")


class BeneficiaryConfirmedV1(BeneficiaryStepV1):
    policy_version: str
    rules: list[str] = Field(description="The rules the confirmation rests on")
    yearly_amount: Money = Field(description="The year's entitlement under the policy, yuan")


class BeneficiaryRefusedV1(BeneficiaryStepV1):
    policy_version: str
    reasons: list[FindingV1] = Field(description="Each reason cites a rule of the policy table")


class BeneficiarySuspendedV1(BeneficiaryStepV1):
    effective_on: str = Field(description="No payment may be disbursed on or after this day")
    cause: str = Field(description="death | pension_deceased | pension_suspended | fraud")
    evidence: list[str] = Field(description="Integration event ids the suspension rests on")


class BeneficiaryReinstatedV1(BeneficiaryStepV1):
    reason: str


class PaymentCycleV1(BaseModel):
    cycle_id: str = Field(description="<year>-<program>, e.g. 2026-reward")
    program: str
    year: int
    change: str = Field(description="created | computed | approved | closed")
    status: str = Field(description="created | computed | approved | disbursing | closed")
    on: str
    officer_id: str | None
    officer_section: str | None
    payments: int = Field(description="Payments scheduled so far")
    entitled: Money = Field(description="Sum of the scheduled amounts so far, yuan")
    townships: list[str] = Field(description="Townships whose entitlements this change covered")


class PaymentChangedV1(BaseModel):
    payment_id: str
    cycle_id: str
    program: str
    year: int
    township_code: str
    beneficiary_id: str
    person_ref: str
    amount: Money = Field(description="The entitlement, yuan")
    change: str = Field(description="scheduled | approved | disbursed | withheld | returned | failed | reissued | followed_up")
    status: str = Field(description="The payment's status after the change")
    bucket: str = Field(description="pending | disbursed | withheld | returned: where the amount stands after the change")
    on: str
    officer_id: str | None
    officer_section: str | None
    bank_reference: str | None = None
    reason: str | None = None
    amount_confirmed: Money | None = Field(None, description="followed_up: what the beneficiary confirms having received")
    shortfall: Money | None = Field(None, description="followed_up: disbursed minus confirmed, when positive")


class SubsidySignalV1(BaseModel):
    signal_id: str = Field(description="SG-<12 upper-case hex>; the same pattern on the same subject is one signal")
    pattern: str = Field(description=" | ".join(SIGNAL_PATTERNS))
    offence: str = Field(description=" | ".join(OFFENCES))
    township_code: str | None
    subject: str = Field(description="What the signal points at: payment:<id>, beneficiary:<id> or township:<code>")
    evidence: list[str] = Field(description="Integration event ids the signal rests on")
    person_refs: list[str]
    amount: Money | None = Field(None, description="The money at stake, yuan, when there is one")
    detected_on: str
    summary: str = Field(description="One line, no personal data (Chinese)")


class SubsidySignalLinkedV1(BaseModel):
    signal_id: str
    case_id: str
    case_number: str
    linked_on: str


BENEFICIARY_EVENTS: dict[str, tuple[str, type[BeneficiaryStepV1]]] = {
    "verification.beneficiary.reported": ("fp.verification.beneficiary.reported", BeneficiaryReportedV1),
    "verification.beneficiary.checked": ("fp.verification.beneficiary.checked", BeneficiaryCheckedV1),
    "verification.beneficiary.confirmed": ("fp.verification.beneficiary.confirmed", BeneficiaryConfirmedV1),
    "verification.beneficiary.refused": ("fp.verification.beneficiary.refused", BeneficiaryRefusedV1),
    "verification.beneficiary.suspended": ("fp.verification.beneficiary.suspended", BeneficiarySuspendedV1),
    "verification.beneficiary.reinstated": ("fp.verification.beneficiary.reinstated", BeneficiaryReinstatedV1),
}
BENEFICIARY_TYPES: dict[str, EventType] = {name: register(EventType(name, 1, model)) for name, (_, model) in BENEFICIARY_EVENTS.items()}
PAYMENT_CYCLE = register(EventType("verification.payment_cycle.changed", 1, PaymentCycleV1))
PAYMENT = register(EventType("verification.payment.changed", 1, PaymentChangedV1))
SIGNAL_RAISED = register(EventType("verification.subsidy.signal_raised", 1, SubsidySignalV1))
SIGNAL_LINKED = register(EventType("verification.subsidy.signal_linked", 1, SubsidySignalLinkedV1))
SIGNAL_RAISED_SUBJECT = "fp.verification.subsidy.signal_raised"
SIGNAL_LINKED_SUBJECT = "fp.verification.subsidy.signal_linked"


def payment_cycle_subject(change: str) -> str:
    return f"fp.verification.payment_cycle.{change}"


def payment_subject(change: str) -> str:
    return f"fp.verification.payment.{change}"
