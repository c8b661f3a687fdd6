"""The Decimal scalar: amounts travel as strings, never as floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from graphql import GraphQLError
from strawberry.schema.types.base_scalars import DecimalDefinition
from strawberry.types.scalar import ScalarDefinition

from rules.display import format_amount


def parse_decimal(value: object) -> Decimal:
    """Strings and integers exactly; a JSON float by its shortest decimal repr."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise GraphQLError('Decimal values are strings such as "12.5"')
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise GraphQLError(f"{value!r} is not a decimal number") from None


DecimalScalar = ScalarDefinition(
    name="Decimal",
    description='A decimal amount as a string, e.g. "1250" or "0.000125" (six places '
    "at most); written without exponent or trailing zeros.",
    specified_by_url=None,
    serialize=format_amount,
    parse_value=parse_decimal,
    parse_literal=None,
    origin=DecimalDefinition.origin,
)
