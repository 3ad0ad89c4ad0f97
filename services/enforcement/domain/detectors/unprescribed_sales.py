"""Termination drugs sold without a prescription, and outlets that do it often."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

SALE_PATTERN = "unprescribed_termination_drug_sale"
VOLUME_PATTERN = "outlet_unprescribed_sales_over_threshold"


@dataclass(frozen=True)
class UnprescribedSalesRule:
    termination_drugs: frozenset[str] = frozenset({"H10950347", "H20000668"})  # mifepristone, misoprostol
    max_sales: int = 3  # more unprescribed sales than this in the window is a signal
    window_days: int = 30


def unprescribed_termination_drug_sale(drug_code: str, prescription_id: object, rule: UnprescribedSalesRule) -> bool:
    return drug_code in rule.termination_drugs and prescription_id is None


def sales_in_window(sold_at: Sequence[datetime], as_of: datetime, rule: UnprescribedSalesRule) -> list[datetime]:
    """The sales in the window that ends at `as_of` (inclusive; the start is exclusive)."""
    start = as_of - timedelta(days=rule.window_days)
    return [moment for moment in sold_at if start < moment <= as_of]


def outlet_crossed_threshold(sold_at: Sequence[datetime], new_sale: datetime, rule: UnprescribedSalesRule) -> bool:
    """True for the sale that takes an outlet over the threshold: once per crossing,
    not for every sale after it."""
    after = len(sales_in_window([*sold_at, new_sale], new_sale, rule))
    return after == rule.max_sales + 1
