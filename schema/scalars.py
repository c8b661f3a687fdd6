"""The Decimal and DateTime scalars: what the gateway accepts, stated once.

Amounts travel as strings, never as floats, in plain ASCII decimal notation: Python's
`Decimal()` would also take `" 5 "`, `"1_000"`, `"५"`, `"NaN"` and `"Infinity"`,
none of which a billing client means as a number. Instants are ISO 8601 and must lie
in the years the gateway can compute cycles and windows around (`EARLIEST_INSTANT` to
`LATEST_INSTANT`): a month after year 9999 or a day before year 1 does not exist.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from graphql import GraphQLError
from strawberry.schema.types.base_scalars import DateTimeDefinition, DecimalDefinition
from strawberry.types.scalar import ScalarDefinition

from rules.display import format_amount

_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)
"""Digits, an optional fraction and an optional exponent of at most three digits (any
larger is far past every bound in `rules.amounts` and would only cost work)."""
_MAX_DECIMAL_LENGTH = 100
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9000, 1, 1, tzinfo=UTC)


def parse_decimal(value: object) -> Decimal:
    """Strings in plain decimal notation and JSON integers, exactly; a JSON float by
    its shortest repr (so 0.1 is 0.1, not 0.1000000000000000055...)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise GraphQLError('Decimal values are strings such as "12.5"')
    text = value if isinstance(value, str) else repr(value)
    if len(text) > _MAX_DECIMAL_LENGTH or not _DECIMAL.fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise GraphQLError(
            f"{shown!r} is not a decimal number (write digits with an optional "
            'leading "-", fraction and exponent, e.g. "12.5")'
        )
    return Decimal(text)


def _parse_datetime(value: object) -> datetime:
    parsed = DateTimeDefinition.parse_value(value)  # type: ignore[misc]
    assert isinstance(parsed, datetime)
    # A naive value is refused where it is used (it would be guessed into a zone);
    # for the range it is read as UTC.
    moment = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if not EARLIEST_INSTANT <= moment < LATEST_INSTANT:
        raise GraphQLError(
            f"{value!r} is outside the instants the gateway accepts, "
            f"{EARLIEST_INSTANT:%Y-%m-%d} to {LATEST_INSTANT:%Y-%m-%d} (exclusive)"
        )
    return parsed


DecimalScalar = ScalarDefinition(
    name="Decimal",
    description='A decimal amount as a string, e.g. "1250" or "0.000125" (six places '
    'at most), in ASCII digits with an optional leading "-" and exponent; written '
    "without exponent or trailing zeros. Each field says its accepted range.",
    # The numeric-string syntax of the General Decimal Arithmetic specification, of
    # which the pattern above is the plain-decimal subset.
    specified_by_url="https://speleotrove.com/decimal/daconvs.html",
    serialize=format_amount,
    parse_value=parse_decimal,
    parse_literal=None,
    origin=DecimalDefinition.origin,
)

DateTimeScalar = ScalarDefinition(
    name="DateTime",
    description="An instant in ISO 8601 with its offset, e.g. "
    f'"2026-03-10T12:00:00+00:00", from {EARLIEST_INSTANT:%Y-%m-%d} to before '
    f"{LATEST_INSTANT:%Y-%m-%d}.",
    specified_by_url="https://scalars.graphql.org/andimarek/date-time",
    serialize=DateTimeDefinition.serialize,
    parse_value=_parse_datetime,
    parse_literal=None,
    origin=DateTimeDefinition.origin,
)
