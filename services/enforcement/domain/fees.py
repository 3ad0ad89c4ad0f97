"""Social maintenance fee (社会抚养费) records of a case, in Decimal yuan. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from services.enforcement.domain.errors import CaseRuleError

FEE_KINDS = ("assessed", "paid", "waived")
CENT = Decimal("0.01")


def reconcile(fees: Sequence[dict[str, Any]]) -> dict[str, Decimal]:
    """Totals per kind and what is still owed: assessed - paid - waived."""
    totals = {kind: Decimal("0.00") for kind in FEE_KINDS}
    for fee in fees:
        totals[fee["kind"]] += Decimal(fee["amount"])
    totals["outstanding"] = totals["assessed"] - totals["paid"] - totals["waived"]
    return totals


def check_fee(fees: Sequence[dict[str, Any]], kind: str, amount: Decimal) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise CaseRuleError("amount", "must be a decimal amount in yuan, e.g. \"960.00\"")
    if amount <= 0:
        raise CaseRuleError("amount", "must be more than zero")
    if amount != amount.quantize(CENT):
        raise CaseRuleError("amount", "has more than two decimal places (yuan and fen)")
    if kind in ("paid", "waived"):
        outstanding = reconcile(fees)["outstanding"]
        if amount > outstanding:
            raise CaseRuleError("amount", f"{amount} is more than the {outstanding} yuan still outstanding")
