"""AI budget categories, the viewer's own usage, the chart and the top tables."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from resolvers.access import OrgScope
from resolvers.basis import Basis
from resolvers.context import Info
from resolvers.usage import (
    PERSONAL_METERS,
    ZERO,
    basis,
    credit_summary,
)
from rules import display
from rules import meters as meter_rules
from rules.enums import (
    AiFeature,
    BillingModel,
    CreditPoolKind,
    CreditUnit,
    Granularity,
    ModelTier,
    Resets,
    UsageRange,
    UsageSource,
)
from store.rollups import AI_SPEND_METER, RollupRequest, Totals


@dataclass(frozen=True)
class CategoryRow:
    category: AiFeature
    tier: ModelTier | None
    spent_usd: Decimal
    percent: float


@dataclass(frozen=True)
class AiBudgetView:
    spent_usd: Decimal
    limit_usd: Decimal | None
    resets_at: datetime
    credit_balance: Decimal | None
    categories: list[CategoryRow]

    @property
    def percent_used(self) -> float | None:
        return meter_rules.percent(self.spent_usd, self.limit_usd)


async def ai_budget(info: Info, scope: OrgScope) -> AiBudgetView | None:
    base = await basis(info, scope)
    if base.subscription is None:
        return None
    loaders = info.context.loaders
    cycle_request = base.cycle_range()
    # Every AI event is filed under its feature (with a model or not); the model
    # rows only pick each feature's tier.
    totals, by_feature, by_model = await loaders.rollup_sums.load_many(
        [
            cycle_request,
            cycle_request.on("feature"),
            cycle_request.on("feature_model"),
        ]
    )
    spent = totals.get((AI_SPEND_METER, ""), Totals.zero()).quantity
    prices = (await loaders.catalog()).prices
    cost: dict[AiFeature, Decimal] = defaultdict(lambda: ZERO)
    model_cost: dict[AiFeature, dict[str, Decimal]] = defaultdict(dict)
    used: set[AiFeature] = set()
    for (_, key), row in by_feature.items():
        feature = AiFeature(key)
        if row.events:
            used.add(feature)
        cost[feature] += row.cost_usd
    for (_, key), row in by_model.items():
        feature_name, _, model = key.partition("|")
        feature = AiFeature(feature_name)
        model_cost[feature][model] = model_cost[feature].get(model, ZERO) + row.cost_usd
    total = sum(cost.values(), ZERO)
    categories = []
    for feature in sorted(used, key=lambda f: (-cost[f], list(AiFeature).index(f))):
        priced = {m: c for m, c in model_cost[feature].items() if m in prices}
        top_model = min(priced, key=lambda m: (-priced[m], m)) if priced else None
        categories.append(
            CategoryRow(
                feature,
                prices[top_model].tier if top_model else None,
                cost[feature],
                0.0 if total == ZERO else round(float(cost[feature] / total * 100), 2),
            )
        )
    summary = await credit_summary(info, scope)
    balance = None
    if summary is not None and summary.unit is CreditUnit.CREDITS:
        balance = sum(
            (
                pool.balance
                for pool in summary.pools
                if pool.kind is CreditPoolKind.PURCHASED and not pool.expired(scope.at)
            ),
            ZERO,
        )
    return AiBudgetView(
        spent, base.limit_of(AI_SPEND_METER), base.cycle.end, balance, categories
    )


@dataclass(frozen=True)
class PersonalMeterView:
    key: str
    label: str
    used: Decimal
    limit: Decimal | None
    shares_org_pool: bool


async def my_meters(info: Info, scope: OrgScope) -> list[PersonalMeterView] | None:
    """The viewer's own usage; None for API keys, which are nobody in particular."""
    user_id = scope.access.user_id
    if user_id is None:
        return None
    base = await basis(info, scope)
    loaders = info.context.loaders
    cycle_request = base.cycle_range()
    every = tuple(m.key for m in base.catalog)
    cumulative = tuple(m.key for m in base.catalog if m.resets is Resets.NEVER)
    # Asked before the allocations are known, so that these sums join the page's
    # others in one statement: every meter this cycle, the cumulative ones to date.
    # Only the viewer's rows, named by meter: the primary key finds them directly
    # instead of reading every member's usage (to date: the whole history).
    mine = (user_id,)
    (in_cycle, to_date), rows = await asyncio.gather(
        loaders.rollup_sums.load_many(
            [
                cycle_request.on("user", every, mine),
                base.cumulative_range(cycle_request.end).on("user", cumulative, mine),
            ]
        ),
        loaders.allocations.load(scope.id),
    )
    allocations = {row.meter_key: row.limit for row in rows if row.user_id == user_id}
    keys = list(dict.fromkeys([*PERSONAL_METERS, *sorted(allocations)]))
    catalog = {meter.key: meter for meter in base.catalog}
    views = []
    for key in keys:
        meter = catalog[key]
        source = to_date if meter.resets is Resets.NEVER else in_cycle
        used = source.get((key, user_id), Totals.zero()).quantity
        allocated = key in allocations
        views.append(
            PersonalMeterView(
                key,
                meter.label,
                used,
                allocations[key] if allocated else base.limit_of(key),
                not allocated,
            )
        )
    return views


@dataclass(frozen=True)
class SeriesPoint:
    start: datetime
    web: Decimal
    cli: Decimal
    api: Decimal

    @property
    def total(self) -> Decimal:
        return self.web + self.cli + self.api


async def usage_series(
    info: Info, scope: OrgScope, range_: UsageRange
) -> tuple[CreditUnit, Granularity, list[SeriesPoint]]:
    """Credits (dollars for BYOM) per bucket and source, every bucket present."""
    base = await basis(info, scope)
    dollars = scope.organization.billing_model is BillingModel.USD
    granularity, starts = display.series_buckets(range_, scope.at)
    requests = [
        RollupRequest(
            scope.id,
            "source",
            start,
            min(display.bucket_end(start, granularity), base.as_of),
            (AI_SPEND_METER,) if dollars else None,
        )
        for start in starts
    ]
    sums = await info.context.loaders.rollup_sums.load_many(requests)
    points = []
    for start, found in zip(starts, sums, strict=True):
        by_source: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for (_, source), totals in found.items():
            by_source[source] += totals.quantity if dollars else totals.credits
        points.append(
            SeriesPoint(
                start,
                by_source[UsageSource.WEB.value],
                by_source[UsageSource.CLI.value],
                by_source[UsageSource.API.value],
            )
        )
    unit = CreditUnit.USD if dollars else CreditUnit.CREDITS
    return unit, granularity, points


@dataclass(frozen=True)
class Ranked:
    id: str
    name: str
    amount: Decimal
    requests: int
    share_percent: int


async def ranked(info: Info, scope: OrgScope, dimension: str) -> list[Ranked]:
    """Workspaces, groups or users by credits (dollars for BYOM) this cycle."""
    base: Basis = await basis(info, scope)
    dollars = scope.organization.billing_model is BillingModel.USD
    loaders = info.context.loaders
    cycle_request = base.cycle_range()
    source_dimension = "user" if dimension == "user" else "workspace"
    found, organization_totals = await loaders.rollup_sums.load_many(
        [
            cycle_request.on(source_dimension),
            cycle_request,
        ]
    )

    def spent(meter: str, totals: Totals) -> Decimal:
        """Credits, or for BYOM the dollars on the AI spend meter."""
        if dollars:
            return totals.quantity if meter == AI_SPEND_METER else ZERO
        return totals.credits

    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    requests: dict[str, int] = defaultdict(int)
    for (meter, key), totals in found.items():
        amounts[key] += spent(meter, totals)
        requests[key] += totals.events
    names: dict[str, str] = {}
    if dimension == "user":
        users = await loaders.user.load_many(list(amounts))
        names = {user.id: user.name for user in users if user is not None}
    else:
        workspaces, groups = await loaders.workspaces.load(scope.id)
        names = {key: workspace.name for key, workspace in workspaces.items()}
        if dimension == "group":
            grouped_amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
            grouped_requests: dict[str, int] = defaultdict(int)
            for key in amounts:
                workspace = workspaces.get(key)
                if workspace is None or workspace.group_id is None:
                    continue
                grouped_amounts[workspace.group_id] += amounts[key]
                grouped_requests[workspace.group_id] += requests[key]
            amounts, requests = grouped_amounts, grouped_requests
            names = {key: group.name for key, group in groups.items()}
    # Shares are of the organization's whole spend this cycle, so usage without a
    # user, workspace or group still counts in the total.
    total = sum(
        (spent(meter, totals) for (meter, _), totals in organization_totals.items()),
        ZERO,
    )
    rows = [
        Ranked(
            key,
            names.get(key, key),
            amount,
            requests[key],
            display.share_percent(amount, total),
        )
        for key, amount in amounts.items()
    ]
    rows.sort(key=lambda row: (-row.amount, -row.requests, row.id))
    return rows
