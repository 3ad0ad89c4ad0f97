"""A money column: yuan as an exact Decimal with two places, on every backend.

PostgreSQL stores NUMERIC(14,2) and sums it exactly. SQLite has no decimal type: a
NUMERIC column there holds floats and SUM() adds floats, so on SQLite the column
holds whole fen (分, hundredths of a yuan) as integers instead, which SQLite sums
exactly. Either way the application only ever sees Decimal("960.00"), and func.sum()
over the column comes back through the same conversion.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


class Money(TypeDecorator):
    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        amount = Decimal(value)
        if amount != amount.quantize(CENT):
            raise ValueError(f"{value} yuan has more than two decimal places")
        return int(amount * 100) if dialect.name == "sqlite" else amount.quantize(CENT)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENT)
        return Decimal(value).quantize(CENT)
