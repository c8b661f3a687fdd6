"""Credits: the monthly grant, pools and the order they are drawn in, what an event
costs, and the projections and prompts shown next to the balance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from rules.amounts import quantize
from rules.enums import CreditPoolKind, CreditPrompt, PlanTier

FREE_PLAN_MONTHLY_CREDITS = Decimal(500)

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_UPGRADE_PERCENT = Decimal(75)
_REFERRAL_PERCENT = Decimal(50)
# Stands in for "never expires" in sort keys; the flag before it orders those last.
_NO_EXPIRY = datetime.min.replace(tzinfo=UTC)
_KIND_ORDER = {
    CreditPoolKind.MONTHLY: 0,
    CreditPoolKind.BONUS: 1,
    CreditPoolKind.PURCHASED: 2,
}


def monthly_grant(
    tier: PlanTier,
    monthly_credits: Decimal | None,
    credits_per_seat: Decimal | None,
    seats: int,
) -> Decimal:
    """Credits granted for a cycle; a FREE plan that says nothing grants 500."""
    if monthly_credits is None:
        monthly_credits = FREE_PLAN_MONTHLY_CREDITS if tier is PlanTier.FREE else _ZERO
    per_seat = credits_per_seat if credits_per_seat is not None else _ZERO
    return quantize(monthly_credits + per_seat * seats)


@dataclass(frozen=True)
class PoolState:
    """One pool as of a moment: the cycle's MONTHLY pool or a BONUS/PURCHASED grant.

    `spent` is everything ever spent from a grant, or this cycle's spending for MONTHLY.
    """

    kind: CreditPoolKind
    grant_id: str | None
    granted: Decimal
    spent: Decimal
    expires_at: datetime | None

    @property
    def balance(self) -> Decimal:
        return max(_ZERO, self.granted - self.spent)

    def expired(self, at: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= at


def draw_sort_key(pool: PoolState) -> tuple[int, bool, datetime, str]:
    """MONTHLY, then BONUS, then PURCHASED; within a kind the earliest expiry first
    (never-expiring last), then the oldest grant (grant ids sort by creation)."""
    return (
        _KIND_ORDER[pool.kind],
        pool.expires_at is None,
        pool.expires_at or _NO_EXPIRY,
        pool.grant_id or "",
    )


def draw_order(pools: Sequence[PoolState], at: datetime) -> list[PoolState]:
    """The pools that may be drawn from at `at`, in the order they are drawn.

    Credits that expire soonest go first so a customer loses as little as possible.
    """
    live = [pool for pool in pools if not pool.expired(at)]
    return sorted(live, key=draw_sort_key)


@dataclass(frozen=True)
class Draw:
    """How much of one event's credits one pool pays."""

    kind: CreditPoolKind
    grant_id: str | None
    amount: Decimal


def draw_credits(
    pools: Sequence[PoolState], amount: Decimal, at: datetime
) -> list[Draw] | None:
    """Split `amount` across the pools in draw order; None when they hold too little.

    All or nothing: an event is never part paid, so a shortfall draws nothing
    (the caller answers CREDITS_EXHAUSTED).
    """
    if amount < 0:
        raise ValueError(f"cannot draw a negative amount of credits: {amount}")
    ordered = [pool for pool in draw_order(pools, at) if pool.balance > 0]
    if sum((pool.balance for pool in ordered), _ZERO) < amount:
        return None
    draws: list[Draw] = []
    left = amount
    for pool in ordered:
        if left <= 0:
            break
        take = min(pool.balance, left)
        draws.append(Draw(pool.kind, pool.grant_id, take))
        left -= take
    return draws


def event_credits(
    quantity: Decimal,
    used_before: Decimal,
    free_units: Decimal | None,
    credits_per_unit: Decimal | None,
    cost_usd: Decimal | None,
    credits_per_usd: Decimal | None,
) -> tuple[Decimal, Decimal]:
    """(credits, free units used) for one event.

    The free allowance is per cycle, so only what `used_before` left of it absorbs this
    event. No allowance (`free_units` None) means pay per use. A release (negative
    quantity) neither costs credits nor gives any back.
    """
    units = max(_ZERO, quantity)
    if free_units is None:
        free_used = _ZERO
    else:
        free_used = min(units, max(_ZERO, free_units - used_before))
    per_unit = credits_per_unit if credits_per_unit is not None else _ZERO
    credits = (units - free_used) * per_unit
    if cost_usd is not None and credits_per_usd is not None:
        credits += cost_usd * credits_per_usd
    return quantize(credits), quantize(free_used)


def avg_per_day(spent: Decimal, fractional_elapsed: Decimal) -> Decimal:
    """Average daily spend; the first day counts as a whole one so an early burst does
    not project an absurd rate."""
    return quantize(spent / max(Decimal(1), fractional_elapsed))


def run_out_in_days(remaining: Decimal, avg: Decimal) -> Decimal | None:
    """Days until the balance is gone at the average rate; None when nothing spent."""
    if avg <= 0:
        return None
    return quantize(remaining / avg)


def on_track_to_run_out(run_out: Decimal | None, fractional_remaining: Decimal) -> bool:
    """Whether the balance runs out before the cycle ends."""
    return run_out is not None and run_out < fractional_remaining


def credit_progress(spent: Decimal, granted: Decimal, remaining: Decimal) -> float:
    """The bar fill in [0, 1]: of the grant, or of everything held when nothing is
    granted (an organization living on bonus or purchased credits)."""
    whole = granted if granted > 0 else spent + remaining
    if whole <= 0:
        return 0.0
    return float(min(max(spent / whole, _ZERO), Decimal(1)))


def prompts(spent: Decimal, granted: Decimal, tier: PlanTier) -> list[CreditPrompt]:
    """UPGRADE from 75 % used (always on FREE), REFERRAL from 50 %, in that order.

    Exact comparisons (spent * 100 >= p * granted); with nothing granted there is no
    percentage, so only the FREE rule can apply.
    """
    used_percent = spent * _HUNDRED
    has_grant = granted > 0
    result: list[CreditPrompt] = []
    upgrade_due = has_grant and used_percent >= _UPGRADE_PERCENT * granted
    if tier is PlanTier.FREE or upgrade_due:
        result.append(CreditPrompt.UPGRADE)
    if has_grant and used_percent >= _REFERRAL_PERCENT * granted:
        result.append(CreditPrompt.REFERRAL)
    return result
