"""What usage decisions read of an organization, as plain values: its subscription's
terms and limits, its cycles, the meters and the credit grants.

Apart from the loaders that fill them (`store.usage_loads` statement by statement,
`store.usage_loads_pg` in one statement on PostgreSQL) so that both, and the
decisions that read them (`store.decisions`), share one definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

from rules.credits import monthly_grant
from rules.cycles import UNSUBSCRIBED_ANCHOR, Cycle, cycle_for
from rules.enums import (
    CreditPoolKind,
    Enforcement,
    MeterCategory,
    PlanTier,
    Resets,
    SubscriptionStatus,
)
from rules.meters import effective_limit

Lock = Literal["share", "update"]


@dataclass(frozen=True)
class MeterInfo:
    category: MeterCategory
    resets: Resets


class LimitTerms(Protocol):
    """What decisions read of a plan limit (a `PlanLimit` row has it)."""

    @property
    def limit(self) -> Decimal | None: ...
    @property
    def per_seat(self) -> bool: ...
    @property
    def enforcement(self) -> Enforcement: ...
    @property
    def free_units(self) -> Decimal | None: ...
    @property
    def credits_per_unit(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class Limit:
    """A plan limit as decisions read it, without an ORM instance's bookkeeping
    (constructing those cost more than the rest of a usage check)."""

    limit: Decimal | None
    per_seat: bool
    enforcement: Enforcement
    free_units: Decimal | None
    credits_per_unit: Decimal | None


@dataclass(frozen=True)
class Terms:
    """What an organization's subscription and plan say, as decisions need it."""

    anchor: datetime
    period_start: datetime | None
    period_end: datetime | None
    seats: int
    credits_per_usd: Decimal | None
    ai_paused: bool
    granted: Decimal
    """The MONTHLY pool of every cycle."""
    limits: Mapping[str, LimitTerms]

    def limit(self, meter: str) -> Decimal | None:
        row = self.limits.get(meter)
        if row is None:
            return None
        return effective_limit(row.limit, row.per_seat, self.seats)

    def enforcement(self, meter: str) -> Enforcement:
        row = self.limits.get(meter)
        return Enforcement.HARD if row is None else row.enforcement


@dataclass(frozen=True)
class Org:
    id: str
    usd: bool
    """BYOM: dollars instead of credits, denied at the spend cap."""
    terms: Terms | None
    version: int
    """`counters_version` as read (under the row lock when deciding)."""
    known: list[Cycle] = field(default_factory=list, compare=False, repr=False)
    """Cycles already computed: a call's events mostly fall in one or two."""

    def cycle(self, at: datetime) -> Cycle:
        """The cycle `at` is in; UTC calendar months without a subscription, as the
        pages count them."""
        for cycle in self.known:
            if cycle.contains(at):
                return cycle
        if self.terms is None:
            cycle = cycle_for(UNSUBSCRIBED_ANCHOR, at)
        else:
            terms = self.terms
            cycle = cycle_for(terms.anchor, at, terms.period_start, terms.period_end)
        self.known.append(cycle)
        return cycle


@dataclass(frozen=True)
class Grant:
    id: str
    kind: CreditPoolKind
    amount: Decimal
    expires_at: datetime | None


def terms_of(
    *,
    anchor: datetime,
    period_start: datetime | None,
    period_end: datetime | None,
    seats: int,
    status: SubscriptionStatus,
    retries_exhausted: bool,
    tier: PlanTier,
    monthly_credits: Decimal | None,
    credits_per_seat: Decimal | None,
    credits_per_usd: Decimal | None,
    limits: Mapping[str, LimitTerms],
) -> Terms:
    """A subscription and its plan as decisions read them (one rule for both the
    statement-per-part loaders of `store.usage_loads` and the one-statement one on
    PostgreSQL)."""
    return Terms(
        anchor=anchor,
        period_start=period_start,
        period_end=period_end,
        seats=seats,
        credits_per_usd=credits_per_usd,
        ai_paused=status is SubscriptionStatus.PAST_DUE and retries_exhausted,
        granted=monthly_grant(tier, monthly_credits, credits_per_seat, seats),
        limits=limits,
    )
