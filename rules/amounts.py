"""Exact amounts: six decimal places end to end.

Quantities, money and credits are stored as NUMERIC(38, 6); computing at the same scale
with the same rounding keeps what we decide equal to what we store.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

SCALE = 6
QUANTUM = Decimal("0.000001")

# Wide enough for NUMERIC(38, 6): the default 28 digits would make quantize() raise on
# amounts the database accepts (and, read back, on anything a database ever held).
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)

# The largest amounts the gateway accepts, one place for every check and description.
# Chosen so that every stored sum stays representable: SQLite keeps amounts as 64-bit
# integers of millionths (below 9.22e12 units), PostgreSQL as NUMERIC(38, 6), the
# counters script as exact digit strings, Python in `_CONTEXT` (60 digits).
MAX_QUANTITY = Decimal(10) ** 12
"""An event's quantity, either sign: a trillion units (a terabyte, metered in
bytes)."""
MAX_COST_USD = Decimal(10) ** 6
"""An AI event's dollar cost, given or priced from its tokens: a million dollars."""
MAX_TOKENS = 10**9
"""Each of an AI event's token counts."""
MAX_CREDITS = Decimal(10) ** 9
"""A credit amount or balance provisioned at once: a grant, a plan's monthly credits,
a prepaid balance or a reconciled usage."""
MAX_RATE = Decimal(10) ** 6
"""A per-unit rate: credits per unit, per dollar or per seat, dollars per million
tokens."""
MAX_TOTAL = 9 * Decimal(10) ** 12
"""A meter's total in a cycle (on a cumulative meter, ever): an event that would take
it past this is INVALID. Every hourly and cycle rollup is part of such a total, so
stored sums stay below 9 x 10^18 millionths (SQLite's limit is 9.22 x 10^18)."""
MAX_LIMIT = MAX_TOTAL
"""A limit, free allowance, personal allocation or daily allowance: no more than a
meter can count."""
MAX_SEATS = 10**6
"""Seats of a subscription (a plan's monthly pool is at most 10^9 + 10^6 x 10^6
credits)."""


def quantize(value: Decimal) -> Decimal:
    """Round to the stored scale (half up, as people round money)."""
    return value.quantize(QUANTUM, rounding=ROUND_HALF_UP, context=_CONTEXT)


def to_micros(value: Decimal) -> int:
    """An amount as its whole number of millionths (rounded half up first)."""
    return int(quantize(value).scaleb(SCALE, _CONTEXT))


def from_micros(micros: int) -> Decimal:
    """A whole number of millionths as the amount (exactly, whatever its size)."""
    return Decimal(micros).scaleb(-SCALE, _CONTEXT)


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


def amount_problem(value: Decimal, maximum: Decimal) -> str | None:
    """`quantity_problem`, or why `value` is larger (either sign) than `maximum`."""
    problem = quantity_problem(value)
    if problem is None and abs(value) > maximum:
        return f"quantity is larger than {maximum:f}"
    return problem


def round_half_up(value: Decimal) -> int:
    """Round to a whole number the way a person would (2.5 -> 3, not Python's 2)."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP, context=_CONTEXT))
