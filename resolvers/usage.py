"""The usage page's numbers: meters, credits, operations, AI budget, own usage.

Every figure comes from hourly rollups (through the `rollup_sums` loader) and the
credit pre-aggregates; the arithmetic is `rules`'. A field evaluates "as of `at`":
events that occurred at or before `at` count.

Live pages (no `at:`) read the current cycle's meters and credit pools from the hot
counters when the gateway keeps them (`hot_usage`): no SQL sum at all. They then
count every event accepted so far, including ones stamped up to five minutes ahead
(`store.counters.reads`).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from auth.permissions import Permission
from resolvers.access import OrgScope
from resolvers.basis import Basis
from resolvers.context import Info
from resolvers.loaders.shared import Shared
from rules import credits as credit_rules
from rules import cycles, display
from rules.enums import (
    BillingModel,
    CreditPoolKind,
    CreditPrompt,
    CreditUnit,
    Enforcement,
    MeterCategory,
    Resets,
)
from rules.errors import BadUserInput
from store.counters import grant_field, monthly_field, usage_field
from store.counters.reads import CounterRead
from store.models import CreditGrant, Meter, PlanLimit
from store.rollups import AI_SPEND_METER, RollupRequest, Totals
from store.usage_loads import FieldSource

ZERO = Decimal(0)
PERSONAL_METERS = ("ai_tokens", "enrichments")
SHARED_POOL_CAPTION = "You share the organization pool"


async def basis(info: Info, scope: OrgScope) -> Basis:
    """What the organization's usage figures need, computed once per request and
    scope (a page's fields, and each meter's trend, all ask for it)."""
    bases = info.context.loaders.bases
    key = (scope.id, scope.at, scope.live)
    found = bases.get(key)
    if found is None:
        found = bases[key] = Shared(lambda: _basis(info, scope), abandon=True)
    return await found.wait()


async def _basis(info: Info, scope: OrgScope) -> Basis:
    loaders = info.context.loaders
    subscription = await loaders.subscription.load(scope.id)
    catalog = await loaders.catalog()
    plan = None
    limits: dict[str, PlanLimit] = {}
    if subscription is not None:
        plan = catalog.plans.get(subscription.plan_key)
        limits = {
            row.meter_key: row for row in catalog.limits.get(subscription.plan_key, [])
        }
        cycle = cycles.cycle_for(
            subscription.anchor,
            scope.at,
            subscription.current_period_start,
            subscription.current_period_end,
        )
    else:
        cycle = cycles.cycle_for(cycles.UNSUBSCRIBED_ANCHOR, scope.at)
    return Basis(scope, subscription, plan, limits, cycle, catalog.meters)


async def _sums(info: Info, request: RollupRequest) -> dict[str, Totals]:
    """Per meter totals of a `total`-dimension request."""
    return (await _sums_many(info, [request]))[0]


async def _sums_many(
    info: Info, requests: list[RollupRequest]
) -> list[dict[str, Totals]]:
    """Several `total`-dimension requests asked at once.

    A resolver asks for every sum it needs in one go, right after `basis`: all the
    page's fields then reach the rollup loader in the same tick and share one
    statement, whatever the data (sums asked one after another would each wait for
    the previous one and land in batches that depend on timing).
    """
    found = await info.context.loaders.rollup_sums.load_many(requests)
    return [{meter: totals for (meter, _), totals in sums.items()} for sums in found]


def _usage_source(base: Basis, meter: Meter) -> tuple[str, FieldSource]:
    """The counter holding a meter's figure on the page: the cycle's usage, or
    everything recorded on a cumulative meter."""
    if meter.resets is Resets.NEVER:
        return usage_field(meter.key, None), FieldSource(meter=meter.key)
    return (
        usage_field(meter.key, base.cycle.start),
        FieldSource(meter=meter.key, cycle=base.cycle),
    )


async def hot_usage(info: Info, base: Basis) -> dict[str, Decimal] | None:
    """Every catalog meter's counter and the cycle's MONTHLY pool, or None (read
    SQL): pinned `at`, no counters kept, or counters not current."""
    loader = info.context.loaders.hot_counters
    if loader is None or not base.scope.live:
        return None
    sources = [_usage_source(base, meter) for meter in base.catalog]
    sources.append((monthly_field(base.cycle.start), FieldSource(monthly=base.cycle)))
    organization = base.scope.organization
    return await loader.load(
        CounterRead(organization.id, organization.counters_version, tuple(sources))
    )


async def _hot_grants(
    info: Info, base: Basis, grants: list[CreditGrant]
) -> dict[str, Decimal] | None:
    """What each grant has spent, from the counters (None: read SQL)."""
    loader = info.context.loaders.hot_counters
    if loader is None or not grants:
        return {} if loader is not None else None
    organization = base.scope.organization
    sources = tuple(
        (grant_field(grant.id), FieldSource(grant=grant.id)) for grant in grants
    )
    return await loader.load(
        CounterRead(organization.id, organization.counters_version, sources)
    )


@dataclass(frozen=True)
class MeterState:
    meter: Meter
    used: Decimal
    limit: Decimal | None
    enforcement: Enforcement
    resets_at: datetime | None
    has_usage: bool

    @property
    def cumulative(self) -> bool:
        return self.meter.resets is Resets.NEVER


async def meter_states(info: Info, scope: OrgScope) -> tuple[Basis, list[MeterState]]:
    """Every catalog meter's state as of `at`, in catalog order."""
    base = await basis(info, scope)
    hot = await hot_usage(info, base)
    if hot is not None:
        return base, [_hot_state(base, meter, hot) for meter in base.catalog]
    in_cycle, to_date = await _sums_many(
        info, [base.cycle_range(), base.cumulative_range()]
    )
    states = []
    for meter in base.catalog:
        cumulative = meter.resets is Resets.NEVER
        totals = (to_date if cumulative else in_cycle).get(meter.key, Totals.zero())
        states.append(
            MeterState(
                meter=meter,
                used=totals.quantity,
                limit=base.limit_of(meter.key),
                enforcement=base.enforcement_of(meter.key),
                resets_at=None if cumulative else base.cycle.end,
                has_usage=totals.quantity != ZERO,
            )
        )
    return base, states


def _hot_state(base: Basis, meter: Meter, hot: dict[str, Decimal]) -> MeterState:
    cumulative = meter.resets is Resets.NEVER
    used = hot[_usage_source(base, meter)[0]]
    return MeterState(
        meter=meter,
        used=used,
        limit=base.limit_of(meter.key),
        enforcement=base.enforcement_of(meter.key),
        resets_at=None if cumulative else base.cycle.end,
        has_usage=used != ZERO,
    )


def listed(
    base: Basis,
    states: list[MeterState],
    keys: list[str] | None,
    category: MeterCategory | None,
) -> list[MeterState]:
    """The contract's listing: limited or used meters in catalog order; `keys` names
    exactly which (in the order named), `category` keeps one family."""
    if keys is not None:
        by_key = {state.meter.key: state for state in states}
        unknown = [key for key in keys if key not in by_key]
        if unknown:
            raise BadUserInput(f"unknown meters: {', '.join(unknown)}")
        chosen = [by_key[key] for key in dict.fromkeys(keys)]
    else:
        chosen = [
            state
            for state in states
            if state.meter.key in base.limits or state.has_usage
        ]
    if category is not None:
        chosen = [state for state in chosen if state.meter.category is category]
    return chosen


@dataclass(frozen=True)
class CreditSummary:
    unit: CreditUnit
    granted: Decimal | None
    spent: Decimal
    remaining: Decimal | None
    progress: float
    pools: list[credit_rules.PoolState]
    pool_spent: dict[str | None, Decimal]
    avg_per_day: Decimal
    run_out_in_days: Decimal | None
    on_track_to_run_out: bool
    prompts: list[CreditPrompt]


async def credit_summary(info: Info, scope: OrgScope) -> CreditSummary | None:
    base = await basis(info, scope)
    if base.subscription is None or base.plan is None:
        return None
    if scope.organization.billing_model is BillingModel.USD:
        return await _dollar_summary(info, base)
    loaders = info.context.loaders
    spends, grants, hot = await asyncio.gather(
        loaders.cycle_spend.load((scope.id, base.cycle.start)),
        loaders.grants.load(scope.id),
        hot_usage(info, base),
    )
    spent_by_pool: dict[str | None, Decimal] = defaultdict(lambda: ZERO)
    spent_later: dict[str | None, Decimal] = defaultdict(lambda: ZERO)
    for spend in spends:
        spent_by_pool[spend.grant_id or None] += spend.spent
    hot_grants = None if hot is None else await _hot_grants(info, base, grants)
    if hot is not None and hot_grants is not None:
        # Live, from the counters: the MONTHLY pool and each grant as spent so far.
        spent_by_pool[None] = hot[monthly_field(base.cycle.start)]
        for grant in grants:
            spent_later[grant.id] = grant.spent - hot_grants[grant_field(grant.id)]
    else:
        # The running totals count events recorded after `at` too: these take
        # them back.
        later = await loaders.draws_from.load((scope.id, base.as_of))
        for (cycle_start, grant_id), amount in later.items():
            spent_later[grant_id] += amount
            if cycle_start == base.cycle.start:
                spent_by_pool[grant_id] -= amount
    monthly = credit_rules.PoolState(
        CreditPoolKind.MONTHLY,
        None,
        credit_rules.monthly_grant(
            base.plan.tier,
            base.plan.monthly_credits,
            base.plan.credits_per_seat,
            base.seats,
        ),
        spent_by_pool[None],
        None,
    )
    pools = [monthly]
    for grant in grants:
        if grant.granted_at > scope.at:
            continue
        pool = credit_rules.PoolState(
            grant.kind,
            grant.id,
            grant.amount,
            grant.spent - spent_later[grant.id],
            grant.expires_at,
        )
        holds = pool.balance > ZERO and not pool.expired(scope.at)
        if holds or spent_by_pool[grant.id] > ZERO:
            pools.append(pool)
    pools.sort(key=credit_rules.draw_sort_key)
    spent = sum((spent_by_pool[pool.grant_id] for pool in pools), ZERO)
    remaining = sum(
        (ZERO if pool.expired(scope.at) else pool.balance for pool in pools), ZERO
    )
    return _summary(
        base,
        CreditUnit.CREDITS,
        monthly.granted,
        spent,
        remaining,
        pools,
        spent_by_pool,
    )


async def _dollar_summary(info: Info, base: Basis) -> CreditSummary:
    """BYOM: dollars, the monthly spend cap (the ai_spend_usd limit) as the grant."""
    hot = await hot_usage(info, base)
    if hot is not None:
        spent = hot[usage_field(AI_SPEND_METER, base.cycle.start)]
    else:
        in_cycle = await _sums(info, base.cycle_range())
        spent = in_cycle.get(AI_SPEND_METER, Totals.zero()).quantity
    cap = base.limit_of(AI_SPEND_METER)
    remaining = None if cap is None else max(ZERO, cap - spent)
    return _summary(base, CreditUnit.USD, cap, spent, remaining, [], {})


def _summary(
    base: Basis,
    unit: CreditUnit,
    granted: Decimal | None,
    spent: Decimal,
    remaining: Decimal | None,
    pools: list[credit_rules.PoolState],
    pool_spent: dict[str | None, Decimal],
) -> CreditSummary:
    at = base.scope.at
    average = credit_rules.avg_per_day(
        spent, cycles.fractional_days_elapsed(base.cycle, at)
    )
    run_out = (
        None if remaining is None else credit_rules.run_out_in_days(remaining, average)
    )
    assert base.plan is not None
    return CreditSummary(
        unit=unit,
        granted=granted,
        spent=spent,
        remaining=remaining,
        progress=credit_rules.credit_progress(
            spent, granted or ZERO, remaining or ZERO
        ),
        pools=pools,
        pool_spent=pool_spent,
        avg_per_day=average,
        run_out_in_days=run_out,
        on_track_to_run_out=credit_rules.on_track_to_run_out(
            run_out, cycles.fractional_days_remaining(base.cycle, at)
        ),
        prompts=credit_rules.prompts(spent, granted or ZERO, base.plan.tier),
    )


def can_see_dollars(scope: OrgScope) -> bool:
    return scope.access.can(Permission.BILLING_READ_DOLLARS)


@dataclass(frozen=True)
class OperationRow:
    meter: Meter
    totals: Totals
    free_allowance: Decimal | None
    share_percent: int

    @property
    def hint(self) -> str | None:
        multiplier = self.meter.display_multiplier
        allowance = self.free_allowance
        return display.free_allowance_hint(
            display.display_units(self.totals.free_units_used, multiplier),
            None if allowance is None else display.display_units(allowance, multiplier),
            self.meter.unit_label,
        )


async def operation_rows(info: Info, scope: OrgScope) -> list[OperationRow]:
    base = await basis(info, scope)
    if base.subscription is None:
        return []
    in_cycle = await _sums(info, base.cycle_range())
    used = [
        (meter, in_cycle[meter.key])
        for meter in base.catalog
        if meter.category is MeterCategory.OPERATIONS
        and meter.key in in_cycle
        and in_cycle[meter.key].events > 0
    ]
    all_credits = sum((totals.credits for _, totals in used), ZERO)
    rows = [
        OperationRow(
            meter,
            totals,
            base.limits[meter.key].free_units if meter.key in base.limits else None,
            display.share_percent(totals.credits, all_credits),
        )
        for meter, totals in used
    ]
    rows.sort(key=lambda row: (-row.totals.credits, row.meter.key))
    return rows
