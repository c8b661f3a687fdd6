"""The catalog operators keep: meters, plans (their limits and seat caps) and model
prices.

Every change here also announces a catalog change (`store.catalog_cache`), so the
processes' cached catalogs reload; a meter whose reset changes moves every
organization's counters' version, since what they count changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.amounts import MAX_CREDITS, MAX_LIMIT, MAX_RATE
from rules.enums import Enforcement, ModelTier, PlanTier, SeatType
from rules.meters import default_enforcement
from store.catalog import MeterSpec
from store.catalog_cache import catalog_changed
from store.models import Meter, ModelPrice, Plan, PlanLimit, PlanSeatCap
from store.provisioning.checks import (
    INVALID,
    NOT_FOUND,
    Checks,
    counters_changed,
    existing_meters,
)


@dataclass(frozen=True)
class PlanLimitSpec:
    meter: str
    limit: Decimal | None = None
    per_seat: bool = False
    enforcement: Enforcement | None = None
    """None means HARD, except on `ai_tokens` (observability only: NONE)."""
    free_units: Decimal | None = None
    credits_per_unit: Decimal | None = None


@dataclass(frozen=True)
class PlanSpec:
    """A plan as it should be; its limits and seat caps replace the stored ones."""

    key: str
    name: str
    tier: PlanTier
    price_monthly_cents: int | None = None
    price_annual_cents: int | None = None
    currency: str = "USD"
    monthly_credits: Decimal | None = None
    credits_per_seat: Decimal | None = None
    credits_per_usd: Decimal | None = None
    daily_allowance_units: Decimal | None = None
    seat_caps: tuple[tuple[SeatType, int], ...] = ()
    limits: tuple[PlanLimitSpec, ...] = ()


@dataclass(frozen=True)
class ModelPriceSpec:
    model: str
    tier: ModelTier
    input_per_million_usd: Decimal
    output_per_million_usd: Decimal
    cache_read_per_million_usd: Decimal = Decimal(0)
    cache_write_per_million_usd: Decimal = Decimal(0)


async def upsert_meter(session: AsyncSession, spec: MeterSpec) -> Meter:
    """Add a meter to the catalog (after the built-in ones) or relabel one.

    A built-in meter keeps its category, reset and display multiplier: the rules
    (cumulative releases, operation breakdowns, AI meters) are written against them.
    """
    catalog_changed(session)
    checks = Checks()
    checks.identifier("key", spec.key, 64)
    checks.text("label", spec.label, 128)
    checks.text("unitLabel", spec.unit_label, 64)
    checks.count("displayMultiplier", spec.display_multiplier, minimum=1)
    meter = await session.get(Meter, spec.key) if spec.key else None
    if meter is not None and meter.builtin:
        for field, stored, given in (
            ("category", meter.category, spec.category),
            ("resets", meter.resets, spec.resets),
            ("displayMultiplier", meter.display_multiplier, spec.display_multiplier),
        ):
            if stored != given:
                checks.fail(
                    field, INVALID, f"built-in meter {spec.key!r} keeps its {field}"
                )
    checks.raise_if_any()

    if meter is None:
        last = await session.scalar(select(func.max(Meter.position)))
        meter = Meter(key=spec.key, position=(last or 0) + 1, builtin=False)
        session.add(meter)
    elif meter.resets != spec.resets:
        await counters_changed(session, None)  # counted per cycle, or ever
    meter.label = spec.label.strip()
    meter.category = spec.category
    meter.unit_label = spec.unit_label.strip()
    meter.resets = spec.resets
    meter.display_multiplier = spec.display_multiplier
    await session.flush()
    return meter


async def upsert_plan(session: AsyncSession, spec: PlanSpec) -> Plan:
    """Create or change a plan; its limits and seat caps become exactly the spec's.

    Stored rows are updated in place and only the missing ones deleted, so applying
    the same spec again issues no writes.
    """
    catalog_changed(session)
    checks = Checks()
    checks.identifier("key", spec.key, 64)
    checks.text("name", spec.name, 128)
    checks.count("priceMonthlyCents", spec.price_monthly_cents)
    checks.count("priceAnnualCents", spec.price_annual_cents)
    if not re.fullmatch(r"[A-Z]{3}", spec.currency):
        checks.fail("currency", INVALID, "currency is a 3-letter ISO 4217 code")
    checks.amount("monthlyCredits", spec.monthly_credits, maximum=MAX_CREDITS)
    checks.amount("creditsPerSeat", spec.credits_per_seat, maximum=MAX_RATE)
    checks.amount("creditsPerUsd", spec.credits_per_usd, maximum=MAX_RATE)
    checks.amount("dailyAllowanceUnits", spec.daily_allowance_units, maximum=MAX_LIMIT)
    seen_types: set[SeatType] = set()
    for position, (seat_type, cap) in enumerate(spec.seat_caps):
        if seat_type in seen_types:
            checks.fail(
                f"seatCaps.{position}.seatType",
                INVALID,
                f"seat type {seat_type.value} is capped twice",
            )
        seen_types.add(seat_type)
        checks.count(f"seatCaps.{position}.cap", cap)
    known = await existing_meters(session, (limit.meter for limit in spec.limits))
    seen_meters: set[str] = set()
    for position, limit in enumerate(spec.limits):
        prefix = f"limits.{position}"
        if limit.meter not in known:
            checks.fail(f"{prefix}.meter", NOT_FOUND, f"no meter {limit.meter!r}")
        elif limit.meter in seen_meters:
            checks.fail(
                f"{prefix}.meter", INVALID, f"meter {limit.meter!r} is limited twice"
            )
        seen_meters.add(limit.meter)
        checks.amount(f"{prefix}.limit", limit.limit, maximum=MAX_LIMIT)
        checks.amount(f"{prefix}.freeUnits", limit.free_units, maximum=MAX_LIMIT)
        checks.amount(
            f"{prefix}.creditsPerUnit", limit.credits_per_unit, maximum=MAX_RATE
        )
    checks.raise_if_any()

    plan = await session.get(Plan, spec.key)
    if plan is None:
        plan = Plan(key=spec.key)
        session.add(plan)
    plan.name = spec.name.strip()
    plan.tier = spec.tier
    plan.price_monthly_cents = spec.price_monthly_cents
    plan.price_annual_cents = spec.price_annual_cents
    plan.currency = spec.currency
    plan.monthly_credits = spec.monthly_credits
    plan.credits_per_seat = spec.credits_per_seat
    plan.credits_per_usd = spec.credits_per_usd
    plan.daily_allowance_units = spec.daily_allowance_units
    await session.flush()

    stored_limits = {
        row.meter_key: row
        for row in await session.scalars(
            select(PlanLimit).where(PlanLimit.plan_key == spec.key)
        )
    }
    for limit in spec.limits:
        row = stored_limits.pop(limit.meter, None)
        if row is None:
            row = PlanLimit(plan_key=spec.key, meter_key=limit.meter)
            session.add(row)
        row.limit = limit.limit
        row.per_seat = limit.per_seat
        row.enforcement = limit.enforcement or default_enforcement(limit.meter)
        row.free_units = limit.free_units
        row.credits_per_unit = limit.credits_per_unit
    for row in stored_limits.values():
        await session.delete(row)

    stored_caps = {
        row.seat_type: row
        for row in await session.scalars(
            select(PlanSeatCap).where(PlanSeatCap.plan_key == spec.key)
        )
    }
    for seat_type, cap in spec.seat_caps:
        cap_row = stored_caps.pop(seat_type, None)
        if cap_row is None:
            cap_row = PlanSeatCap(plan_key=spec.key, seat_type=seat_type)
            session.add(cap_row)
        cap_row.cap = cap
    for cap_row in stored_caps.values():
        await session.delete(cap_row)
    await session.flush()
    return plan


async def set_model_price(session: AsyncSession, spec: ModelPriceSpec) -> ModelPrice:
    """Price a model per million tokens; later events are priced with it."""
    catalog_changed(session)
    checks = Checks()
    checks.identifier("model", spec.model, 128)
    checks.amount("inputPerMillionUsd", spec.input_per_million_usd, maximum=MAX_RATE)
    checks.amount("outputPerMillionUsd", spec.output_per_million_usd, maximum=MAX_RATE)
    checks.amount(
        "cacheReadPerMillionUsd", spec.cache_read_per_million_usd, maximum=MAX_RATE
    )
    checks.amount(
        "cacheWritePerMillionUsd", spec.cache_write_per_million_usd, maximum=MAX_RATE
    )
    checks.raise_if_any()

    price = await session.get(ModelPrice, spec.model)
    if price is None:
        price = ModelPrice(model=spec.model)
        session.add(price)
    price.tier = spec.tier
    price.input_per_million_usd = spec.input_per_million_usd
    price.output_per_million_usd = spec.output_per_million_usd
    price.cache_read_per_million_usd = spec.cache_read_per_million_usd
    price.cache_write_per_million_usd = spec.cache_write_per_million_usd
    await session.flush()
    return price
