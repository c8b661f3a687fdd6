"""Caps, levels and the display of one meter.

Every comparison is exact Decimal arithmetic; `percent` and `progress` are floats only
because they are display values, and no decision is ever taken from them.
"""

from __future__ import annotations

from decimal import Decimal

from rules.enums import Enforcement, UsageDecisionCode, UsageLevel

SOFT_CAP_FACTOR = Decimal("1.10")

_HUNDRED = Decimal(100)
_LEVELS = (
    (Decimal(100), UsageLevel.EXCEEDED),
    (Decimal(90), UsageLevel.CRITICAL),
    (Decimal(80), UsageLevel.WARNING),
)


def effective_limit(
    limit: Decimal | None, per_seat: bool, seats: int
) -> Decimal | None:
    """The limit that applies now: per-seat limits follow the seat count at once."""
    if limit is None:
        return None
    return limit * seats if per_seat else limit


def cap_for(limit: Decimal | None, enforcement: Enforcement) -> Decimal | None:
    """The most usage an event may bring the meter to; None when nothing is denied.

    The soft cap is kept exact (not rounded to six places) so the 110 % boundary is
    exactly where the contract puts it.
    """
    if limit is None or enforcement is Enforcement.NONE:
        return None
    if enforcement is Enforcement.SOFT:
        return limit * SOFT_CAP_FACTOR
    return limit


def decide_cap(
    used: Decimal, quantity: Decimal, limit: Decimal | None, enforcement: Enforcement
) -> UsageDecisionCode:
    """Whether an event fits under the meter's cap; all or nothing.

    A negative quantity is a release (contacts deleted, storage freed) and only ever
    makes room; whether it is allowed at all is the caller's rule, not the cap's.
    """
    cap = cap_for(limit, enforcement)
    if quantity < 0 or cap is None or used + quantity <= cap:
        return UsageDecisionCode.ALLOWED
    if enforcement is Enforcement.SOFT:
        return UsageDecisionCode.SOFT_LIMIT_REACHED
    return UsageDecisionCode.LIMIT_REACHED


def releasable(used: Decimal, quantity: Decimal) -> bool:
    """Whether a release (negative quantity on a cumulative meter) keeps usage at or
    above zero: nothing can be released that was never recorded."""
    return used + quantity >= 0


def percent(used: Decimal, limit: Decimal | None) -> float | None:
    """used / limit * 100, may pass 100 on soft caps; None when unlimited.

    A limit of 0 (the meter is not allowed) shows 0 % while unused and 100 % once
    anything was used, instead of dividing by zero.
    """
    if limit is None:
        return None
    if limit == 0:
        return 0.0 if used <= 0 else 100.0
    return float(used * _HUNDRED / limit)


def progress(used: Decimal, limit: Decimal | None) -> float | None:
    """The share of the limit used as a bar fill in [0, 1]; None when unlimited."""
    if limit is None:
        return None
    if limit == 0:
        return 0.0 if used <= 0 else 1.0
    return float(min(max(used / limit, Decimal(0)), Decimal(1)))


def level(used: Decimal, limit: Decimal | None) -> UsageLevel:
    """NORMAL below 80 %, WARNING from 80, CRITICAL from 90, EXCEEDED from 100.

    Compared as used * 100 >= threshold * limit so 79.9999995 % never rounds up to
    WARNING. A limit of 0 agrees with `percent`: NORMAL while unused, else EXCEEDED.
    """
    if limit is None:
        return UsageLevel.NORMAL
    if limit == 0:
        return UsageLevel.NORMAL if used <= 0 else UsageLevel.EXCEEDED
    for threshold, result in _LEVELS:
        if used * _HUNDRED >= threshold * limit:
            return result
    return UsageLevel.NORMAL


def remaining(used: Decimal, limit: Decimal | None) -> Decimal | None:
    """What is left under the limit (never negative); None when unlimited."""
    if limit is None:
        return None
    return max(Decimal(0), limit - used)


def blocked(used: Decimal, limit: Decimal | None, enforcement: Enforcement) -> bool:
    """Whether the meter is at its cap, so any further positive usage is denied."""
    cap = cap_for(limit, enforcement)
    return cap is not None and used >= cap


def default_enforcement(meter_key: str) -> Enforcement:
    """HARD unless the plan says otherwise; `ai_tokens` is observability only (the
    real AI enforcement unit is dollar cost, `ai_spend_usd`)."""
    return Enforcement.NONE if meter_key == "ai_tokens" else Enforcement.HARD
