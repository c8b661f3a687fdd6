"""Exact amounts: six decimal places end to end.

Quantities, money and credits are stored as NUMERIC(38, 6); computing at the same scale
with the same rounding keeps what we decide equal to what we store.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

SCALE = 6
QUANTUM = Decimal("0.000001")

# Wide enough for NUMERIC(38, 6): the default 28 digits would make quantize() raise on
# amounts the database accepts.
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)


def quantize(value: Decimal) -> Decimal:
    """Round to the stored scale (half up, as people round money)."""
    return value.quantize(QUANTUM, rounding=ROUND_HALF_UP, context=_CONTEXT)


def quantity_problem(value: Decimal) -> str | None:
    """Why a reported quantity cannot be recorded, or None when it can.

    Only digits that would be lost count: `1.5000000` is exactly 1.5 and is accepted,
    `0.0000001` would be rounded away and is not. Checked on the digits themselves, so
    the answer never depends on a decimal context.
    """
    if not value.is_finite():
        return "quantity must be a finite number"
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite decimals have an integer exponent
    extra_places = -exponent - SCALE
    if extra_places > 0 and any(digits[-extra_places:]):
        return f"quantity has more than {SCALE} decimal places"
    return None


def round_half_up(value: Decimal) -> int:
    """Round to a whole number the way a person would (2.5 -> 3, not Python's 2)."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP, context=_CONTEXT))
