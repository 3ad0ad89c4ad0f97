"""A yearly payment cycle (年度发放批次) of one program: "<year>-<program>".

Pure domain.

    created ─▶ computed (township by township) ─▶ approved ─▶ disbursing (batches) ─▶ closed

Entitlements are computed one township at a time, each in its own transaction, so the
cost is linear in beneficiaries and a province-sized roll never becomes one event:
the cycle keeps per-township totals and the payment sequence, never the payments.
Segregation of duties: the officer who created the cycle may not approve it. A cycle
closes only when no payment is pending.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.verification.domain.errors import RuleViolation
from services.verification.domain.subsidy.beneficiary import SUBSIDY_SECTION, expect_section
from services.verification.domain.subsidy.money import ZERO, total
from services.verification.domain.subsidy.policy import PROGRAM_CODES
from shared.ids import stable_id

FINANCE_SECTIONS = ("财务科", SUBSIDY_SECTION)  # disbursement batches and returns
Officer = dict[str, str]


def cycle_key(year: int, program: str) -> str:
    return f"{year}-{program}"


def cycle_uuid(cycle_id: str) -> UUID:
    return stable_id("payment-cycle", cycle_id)


def payment_number(year: int, program: str, sequence: int) -> str:
    return f"PAY-{year}-{PROGRAM_CODES[program]}-{sequence:06d}"


class PaymentCycle(Aggregate):
    @staticmethod
    def create_id(year: int, program: str, **_: Any) -> UUID:
        return cycle_uuid(cycle_key(year, program))

    @event("Created")
    def __init__(self, year: int, program: str, created_on: str, officer: Officer) -> None:
        self.year, self.program, self.cycle_id = year, program, cycle_key(year, program)
        self.status, self.created_by, self.last_on = "created", officer["id"], created_on
        self.approved_by: str | None = None
        self.last_sequence = 0
        self.townships: dict[str, dict[str, Any]] = {}  # code -> {"payments": int, "entitled": Decimal}
        self.batches: list[str] = []

    @property
    def entitled(self) -> Decimal:
        return total(t["entitled"] for t in self.townships.values()) if self.townships else ZERO

    @property
    def payments(self) -> int:
        return sum(t["payments"] for t in self.townships.values())

    def _expect(self, allowed: tuple[str, ...], action: str) -> None:
        if self.status not in allowed:
            raise RuleViolation("status", f"cannot {action} cycle {self.cycle_id}: it is {self.status} (allowed when {' or '.join(allowed)})")

    def _expect_day(self, on: str) -> None:
        if on < self.last_on:
            raise RuleViolation("on", f"{on} is before the cycle's last step ({self.last_on})", 422)

    def expect_compute(self, on: str, officer: Officer) -> None:
        """Entitlements may be computed (checked before any township's work)."""
        expect_section(officer, "compute entitlements")
        self._expect(("created", "computed"), "compute")
        self._expect_day(on)

    def compute_township(self, township_code: str, amounts: list[Decimal], on: str, officer: Officer) -> list[str]:
        """Schedules one payment per amount; returns their payment ids, in sequence."""
        self.expect_compute(on, officer)
        if not amounts:
            return []
        first = self.last_sequence + 1
        self._computed(township_code=township_code, payments=len(amounts), entitled=total(amounts), first_sequence=first,
                       computed_on=on, officer=officer)
        return [payment_number(self.year, self.program, n) for n in range(first, self.last_sequence + 1)]

    @event("TownshipComputed")
    def _computed(self, township_code: str, payments: int, entitled: Decimal, first_sequence: int, computed_on: str, officer: Officer) -> None:
        before = self.townships.get(township_code, {"payments": 0, "entitled": ZERO})
        self.townships = {**self.townships, township_code: {"payments": before["payments"] + payments, "entitled": before["entitled"] + entitled}}
        self.last_sequence = first_sequence + payments - 1
        self.status, self.last_on = "computed", computed_on

    def approve(self, on: str, officer: Officer) -> None:
        expect_section(officer, "approve a payment cycle")
        self._expect(("computed",), "approve")
        self._expect_day(on)
        if officer["id"] == self.created_by:
            raise RuleViolation("officer.id", "segregation of duties: the officer who created the cycle may not approve it")
        self._approved(approved_on=on, officer=officer)

    @event("Approved")
    def _approved(self, approved_on: str, officer: Officer) -> None:
        self.status, self.last_on, self.approved_by = "approved", approved_on, officer["id"]

    def expect_batch(self, batch_id: str, on: str, officer: Officer) -> None:
        """A new batch may be recorded (checked before its payments are)."""
        expect_section(officer, "record a disbursement batch", FINANCE_SECTIONS)
        self._expect(("approved", "disbursing"), "record a batch for")
        self._expect_day(on)
        if batch_id in self.batches:
            raise RuleViolation("batch_id", f"batch {batch_id} was already recorded for {self.cycle_id}")

    def record_batch(self, batch_id: str, disbursed: list[str], withheld: list[str], on: str, officer: Officer) -> None:
        self.expect_batch(batch_id, on, officer)
        self._batch_recorded(batch_id=batch_id, disbursed=disbursed, withheld=withheld, recorded_on=on, officer=officer)

    @event("BatchRecorded")
    def _batch_recorded(self, batch_id: str, disbursed: list[str], withheld: list[str], recorded_on: str, officer: Officer) -> None:
        self.status, self.last_on, self.batches = "disbursing", recorded_on, [*self.batches, batch_id]

    def close(self, pending: int, on: str, officer: Officer) -> None:
        expect_section(officer, "close a payment cycle")
        self._expect(("approved", "disbursing"), "close")
        self._expect_day(on)
        if pending:
            raise RuleViolation("status", f"{pending} payment(s) of {self.cycle_id} are still pending: disburse or withhold them first")
        self._closed(closed_on=on, officer=officer)

    @event("Closed")
    def _closed(self, closed_on: str, officer: Officer) -> None:
        self.status, self.last_on = "closed", closed_on
