"""A payment (扶助金发放): one person's entitlement in one yearly cycle, with its full history.

Pure domain.

    scheduled ─▶ approved ─▶ disbursed ─▶ returned | failed ─▶ reissued ─▶ followed_up
        └──────────┴──▶ withheld (the beneficiary is suspended: before approval, or on or
                        before the disbursement day)

A follow-up (回访) records what the beneficiary confirms having received; a shortfall is
disbursed minus confirmed when positive. Every status has one bucket, and the amount is
always in exactly one: pending (scheduled, approved), disbursed (disbursed, reissued,
followed_up), withheld, returned (returned, failed).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.verification.domain.errors import RuleViolation
from services.verification.domain.subsidy.money import ZERO, yuan
from shared.ids import stable_id

BUCKETS = {
    "scheduled": "pending", "approved": "pending", "disbursed": "disbursed", "reissued": "disbursed", "followed_up": "disbursed",
    "withheld": "withheld", "returned": "returned", "failed": "returned",
}
# domain event name -> the integration event's `change`
CHANGES = {
    "Scheduled": "scheduled", "Approved": "approved", "Disbursed": "disbursed", "Withheld": "withheld", "Returned": "returned",
    "Failed": "failed", "Reissued": "reissued", "FollowedUp": "followed_up",
}
PAID = ("disbursed", "reissued", "followed_up")
Officer = dict[str, str]


def payment_uuid(cycle_id: str, person_ref: str) -> UUID:
    return stable_id("payment", cycle_id, person_ref)


class Payment(Aggregate):
    @staticmethod
    def create_id(cycle_id: str, person_ref: str, **_: Any) -> UUID:
        return payment_uuid(cycle_id, person_ref)

    @event("Scheduled")
    def __init__(self, cycle_id: str, person_ref: str, payment_id: str, program: str, year: int, township_code: str,
                 beneficiary_id: str, amount: Decimal, scheduled_on: str, officer: Officer) -> None:
        self.cycle_id, self.person_ref, self.payment_id = cycle_id, person_ref, payment_id
        self.program, self.year, self.township_code, self.beneficiary_id = program, year, township_code, beneficiary_id
        self.amount = yuan(amount)
        self.status, self.last_on = "scheduled", scheduled_on
        self.bank_reference: str | None = None
        self.disbursed_on: str | None = None
        self.followups: list[dict[str, Any]] = []

    @property
    def bucket(self) -> str:
        return BUCKETS[self.status]

    def _expect(self, allowed: tuple[str, ...], action: str) -> None:
        if self.status not in allowed:
            raise RuleViolation("status", f"cannot {action} payment {self.payment_id}: it is {self.status} (allowed when {' or '.join(allowed)})")

    def _expect_day(self, day: str, field: str = "on") -> None:
        if day < self.last_on:
            raise RuleViolation(field, f"{day} is before the payment's last step ({self.last_on})", 422)

    @event("Approved")
    def approve(self, approved_on: str, officer: Officer) -> None:
        self._expect(("scheduled",), "approve")
        self.status, self.last_on = "approved", approved_on

    def withhold(self, on: str, reason: str, officer: Officer | None) -> None:
        self._expect(("scheduled", "approved"), "withhold")
        self._withheld(withheld_on=max(on, self.last_on), reason=reason, officer=officer)

    @event("Withheld")
    def _withheld(self, withheld_on: str, reason: str, officer: Officer | None) -> None:
        self.status, self.last_on = "withheld", withheld_on

    def disburse(self, bank_reference: str, disbursed_on: str, batch_id: str, officer: Officer) -> None:
        self._expect(("approved",), "disburse")
        self._expect_day(disbursed_on, "disbursed_on")
        self._disbursed(bank_reference=bank_reference, disbursed_on=disbursed_on, batch_id=batch_id, officer=officer)

    @event("Disbursed")
    def _disbursed(self, bank_reference: str, disbursed_on: str, batch_id: str, officer: Officer) -> None:
        self.status, self.last_on, self.bank_reference, self.disbursed_on = "disbursed", disbursed_on, bank_reference, disbursed_on

    def send_back(self, outcome: str, reason: str, on: str, officer: Officer) -> None:
        """The bank returned the money (account closed, name mismatch) or the transfer failed."""
        if outcome not in ("returned", "failed"):
            raise RuleViolation("outcome", "outcome is returned or failed", 422)
        self._expect(PAID, "record a return of")
        self._expect_day(on)
        (self._returned if outcome == "returned" else self._failed)(reason=reason, returned_on=on, officer=officer)

    @event("Returned")
    def _returned(self, reason: str, returned_on: str, officer: Officer) -> None:
        self.status, self.last_on = "returned", returned_on

    @event("Failed")
    def _failed(self, reason: str, returned_on: str, officer: Officer) -> None:
        self.status, self.last_on = "failed", returned_on

    def reissue(self, bank_reference: str, on: str, officer: Officer) -> None:
        self._expect(("returned", "failed"), "reissue")
        self._expect_day(on)
        if bank_reference == self.bank_reference:
            raise RuleViolation("bank_reference", "a reissue needs a new bank reference", 422)
        self._reissued(bank_reference=bank_reference, reissued_on=on, officer=officer)

    @event("Reissued")
    def _reissued(self, bank_reference: str, reissued_on: str, officer: Officer) -> None:
        self.status, self.last_on, self.bank_reference, self.disbursed_on = "reissued", reissued_on, bank_reference, reissued_on

    def follow_up(self, amount_confirmed: Decimal, visited_on: str, method: str, submission_id: str, evidence: str) -> Decimal | None:
        """Record a follow-up in any state (nothing reported is dropped); the shortfall, if any."""
        if any(f["submission_id"] == submission_id for f in self.followups):
            return None
        paid = self.amount if self.status in PAID else ZERO
        shortfall = paid - yuan(amount_confirmed)
        shortfall = shortfall if shortfall > ZERO else None
        self._followed_up(amount_confirmed=yuan(amount_confirmed), shortfall=shortfall, visited_on=visited_on, method=method,
                          submission_id=submission_id, evidence=evidence)
        return shortfall

    @event("FollowedUp")
    def _followed_up(self, amount_confirmed: Decimal, shortfall: Decimal | None, visited_on: str, method: str, submission_id: str,
                     evidence: str) -> None:
        if self.status in PAID:
            self.status = "followed_up"
        self.followups = [*self.followups, {"amount_confirmed": amount_confirmed, "shortfall": shortfall, "visited_on": visited_on,
                                            "method": method, "submission_id": submission_id, "evidence": evidence}]
