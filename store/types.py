"""Column types that keep money and units exact on every database we run on.

PostgreSQL stores amounts as NUMERIC(38, 6). SQLite has no exact decimal type (its
NUMERIC affinity silently turns values into doubles), so there an amount is stored as an
integer count of millionths: SUM, comparisons and `col + :value` stay exact because both
sides carry the same scale. No float ever touches a stored or compared amount.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from rules.amounts import SCALE, from_micros, quantize, to_micros


class Amount(TypeDecorator[Decimal]):
    """A decimal with six places: NUMERIC(38, 6), or micro-units on SQLite."""

    impl = Numeric(38, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(38, SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        # quantize() computes in a context wide enough for any stored amount (the
        # default 28 digits raise on NUMERIC(38, 6) values past 10^22).
        if dialect.name == "sqlite":
            return to_micros(Decimal(value))
        return quantize(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return from_micros(int(value))
        return quantize(Decimal(value))


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on both databases (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a UTC instant")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
