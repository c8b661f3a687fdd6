"""Meters, credits and the breakdowns of the usage page."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from resolvers.access import Access
from schema.enums import (
    AiFeature,
    CreditPoolKind,
    CreditPrompt,
    CreditUnit,
    Enforcement,
    Granularity,
    MeterCategory,
    ModelTier,
    Resets,
    UsageLevel,
)
from schema.permissions import ReadsDollars, ReadsDollarsOfByom, built_redacted


@strawberry.type(description="One point of a meter's trend: one billing cycle.")
class TrendPoint:
    start: datetime = strawberry.field(description="The cycle's start.")
    value: Decimal = strawberry.field(
        description="The cycle's total (resetting meters) or the value at the cycle's "
        "end or `at` (cumulative meters)."
    )


@strawberry.type(description="A credit pool as drawn this cycle.")
class CreditPool:
    kind: CreditPoolKind = strawberry.field(description="The pool's kind.")
    granted: Decimal = strawberry.field(description="What the pool was granted.")
    spent: Decimal = strawberry.field(description="What this cycle spent from it.")
    remaining: Decimal = strawberry.field(description="What it still holds.")
    expires_at: datetime | None = strawberry.field(
        description="When a BONUS or PURCHASED grant expires; null if never."
    )


@strawberry.type(description="One operation type's usage this cycle.")
class OperationUsage:
    operation_type: str = strawberry.field(description="The operation meter's key.")
    label: str = strawberry.field(description="Display label.")
    unit_label: str = strawberry.field(description="Unit of `displayUnits`.")
    units: Decimal = strawberry.field(description="Raw stored units.")
    display_units: Decimal = strawberry.field(
        description="Units × the meter's display multiplier (AI text: tokens)."
    )
    free_units_used: Decimal = strawberry.field(
        description="The part absorbed by the free allowance."
    )
    free_allowance: Decimal | None = strawberry.field(
        description="The plan's free allowance; null = pay-per-use."
    )
    credits_spent: Decimal = strawberry.field(description="Credits spent on it.")
    share_percent: int = strawberry.field(
        description="round(credits ÷ all operation credits × 100); 0 when none."
    )
    free_allowance_hint: str | None = strawberry.field(
        description='"12 of 100 free minutes used" when the allowance is above zero.'
    )


@strawberry.type(description="One AI feature category's share of the AI budget.")
class AiBudgetCategory:
    category: AiFeature = strawberry.field(description="The category.")
    tier_label: ModelTier | None = strawberry.field(
        description="Tier of the model that spent most in it; null if unpriced only."
    )
    percent: float = strawberry.field(description="Share of the categories' total.")
    spent_usd: Decimal | None = strawberry.field(
        description="Dollars spent; null without billing:read:dollars.",
        directives=built_redacted(ReadsDollars()),
    )
    access: strawberry.Private[Access]


@strawberry.type(description="Points of the usage chart.")
class UsagePoint:
    start: datetime = strawberry.field(description="The bucket's start.")
    web: Decimal = strawberry.field(description="Spent from the web app.")
    cli: Decimal = strawberry.field(description="Spent from the CLI.")
    api: Decimal = strawberry.field(description="Spent through the API (or unknown).")
    total: Decimal = strawberry.field(description="All sources.")


@strawberry.type(description="The usage chart: credits (dollars for BYOM) by source.")
class UsageSeries:
    unit: CreditUnit = strawberry.field(description="What the points count.")
    granularity: Granularity = strawberry.field(description="Bucket width.")
    points: list[UsagePoint] = strawberry.field(
        description="Every bucket, oldest first; the last contains `at`."
    )


@strawberry.type(description="A meter's state for the viewer personally.")
class PersonalMeter:
    key: str = strawberry.field(description="The meter's key.")
    label: str = strawberry.field(description="Display label.")
    used: Decimal = strawberry.field(description="The viewer's own usage this cycle.")
    limit: Decimal | None = strawberry.field(
        description="The personal allocation, else the organization's limit."
    )
    shares_org_pool: bool = strawberry.field(
        description="True when no personal allocation applies."
    )
    caption: str | None = strawberry.field(
        description='"You share the organization pool" when sharing.'
    )
    level: UsageLevel = strawberry.field(description="Level of `used` against `limit`.")


@strawberry.type(description="The viewer's own usage.")
class MyUsage:
    meters: list[PersonalMeter] = strawberry.field(
        description="ai_tokens, enrichments and any meter allocated to the viewer."
    )


__all__ = [
    "AiBudgetCategory",
    "CreditPool",
    "Enforcement",
    "MeterCategory",
    "MyUsage",
    "OperationUsage",
    "PersonalMeter",
    "Resets",
    "TrendPoint",
    "UsagePoint",
    "UsageSeries",
]


@strawberry.type(description="Credits this cycle (dollars for BYOM organizations).")
class Credits:
    """Built redacted (`schema.usage_views.credits_type`, `permissions.shown`)."""

    unit: CreditUnit = strawberry.field(description="CREDITS, or USD for BYOM.")
    granted: Decimal | None = strawberry.field(
        description="Granted this cycle (monthly + per seat; the spend cap for BYOM). "
        "Dollars need billing:read:dollars.",
        directives=built_redacted(ReadsDollarsOfByom()),
    )
    spent: Decimal | None = strawberry.field(
        description="Spent this cycle, all pools.",
        directives=built_redacted(ReadsDollarsOfByom()),
    )
    remaining: Decimal | None = strawberry.field(
        description="What all pools hold (null when unlimited).",
        directives=built_redacted(ReadsDollarsOfByom()),
    )
    progress: float = strawberry.field(
        description="spent ÷ granted, clamped to [0, 1]."
    )
    pools: list[CreditPool] = strawberry.field(description="Pools in draw order.")
    avg_per_day: Decimal | None = strawberry.field(
        description="spent ÷ max(1, fractional days elapsed).",
        directives=built_redacted(ReadsDollarsOfByom()),
    )
    run_out_in_days: float | None = strawberry.field(
        description="remaining ÷ avgPerDay; null when nothing was spent."
    )
    on_track_to_run_out: bool = strawberry.field(
        description="True when the pools run out before the cycle ends."
    )
    prompts: list[CreditPrompt] = strawberry.field(
        description="Which nudges to show: UPGRADE, REFERRAL."
    )
    access: strawberry.Private[Access]


@strawberry.type(description="The monthly AI budget (the ai_spend_usd meter).")
class AiBudget:
    """Built redacted, categories included (`schema.organization`)."""

    percent_used: float | None = strawberry.field(
        description="Spent ÷ the monthly limit × 100; null when unlimited."
    )
    resets_at: datetime | None = strawberry.field(description="The cycle's end.")
    spent_usd: Decimal | None = strawberry.field(
        description="Dollars spent; null without billing:read:dollars.",
        directives=built_redacted(ReadsDollars()),
    )
    limit_usd: Decimal | None = strawberry.field(
        description="The monthly limit in dollars; null when unlimited or without "
        "billing:read:dollars.",
        directives=built_redacted(ReadsDollars()),
    )
    credit_balance: Decimal | None = strawberry.field(
        description="What the PURCHASED pool holds."
    )
    categories: list[AiBudgetCategory] = strawberry.field(
        description="One row per AI feature category with usage."
    )
    access: strawberry.Private[Access]
