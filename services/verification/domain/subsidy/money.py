"""Money in yuan: Decimal with two places, end to end. A float is refused outright,
because a binary fraction cannot say 0.10 exactly and a total of them drifts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def yuan(value: Decimal | str | int) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money is never a float: pass a Decimal or a decimal string such as '960.00'")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount in yuan") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount in yuan")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def total(amounts: object) -> Decimal:
    return sum((yuan(a) for a in amounts), ZERO)  # type: ignore[attr-defined]
