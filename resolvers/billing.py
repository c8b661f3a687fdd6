"""The organization's billing set-up: plan, cycle, seats, subscription, readiness."""

from __future__ import annotations

from decimal import Decimal

from auth.permissions import Permission
from resolvers.access import OrgScope
from resolvers.context import Info
from rules import cycles, readiness
from rules.enums import ReconciliationStatus, SeatType, SubscriptionStatus
from schema.types import billing
from schema.types.common import Money
from store.models import Plan, Subscription

_ACTIVE = frozenset(
    {
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.PAST_DUE,
    }
)


async def subscription_of(info: Info, scope: OrgScope) -> Subscription | None:
    return await info.context.loaders.subscription.load(scope.id)


async def plan_of(info: Info, scope: OrgScope) -> Plan | None:
    subscription = await subscription_of(info, scope)
    if subscription is None:
        return None
    return (await info.context.loaders.catalog()).plans.get(subscription.plan_key)


async def cycle_of(info: Info, scope: OrgScope) -> cycles.Cycle | None:
    subscription = await subscription_of(info, scope)
    if subscription is None:
        return None
    return cycles.cycle_for(
        subscription.anchor,
        scope.at,
        subscription.current_period_start,
        subscription.current_period_end,
    )


def _money(cents: int | None, currency: str) -> Money | None:
    if cents is None:
        return None
    return Money(amount=Decimal(cents) / 100, currency=currency)


async def plan(info: Info, scope: OrgScope) -> billing.Plan | None:
    row = await plan_of(info, scope)
    if row is None:
        return None
    return billing.Plan(
        key=row.key,
        name=row.name,
        tier=row.tier,
        price_monthly=_money(row.price_monthly_cents, row.currency),
        price_annual=_money(row.price_annual_cents, row.currency),
    )


async def plan_actions(info: Info, scope: OrgScope) -> billing.PlanActions:
    subscription = await subscription_of(info, scope)
    row = await plan_of(info, scope)
    active = subscription is not None and subscription.status in _ACTIVE
    return billing.PlanActions(
        upgrade=readiness.upgrade_target(
            row.tier if row else None,
            active,
            is_admin=scope.access.can(Permission.BILLING_READ_ALL),
        ),
        manage=scope.access.can(Permission.PLAN_MANAGE),
    )


async def cycle(info: Info, scope: OrgScope) -> billing.BillingCycle | None:
    current = await cycle_of(info, scope)
    if current is None:
        return None
    return billing.BillingCycle(
        start=current.start,
        end=current.end,
        days_elapsed=cycles.days_elapsed(current, scope.at),
        days_remaining=cycles.days_remaining(current, scope.at),
    )


async def seats(info: Info, scope: OrgScope) -> billing.Seats | None:
    subscription = await subscription_of(info, scope)
    if subscription is None:
        return None
    loaders = info.context.loaders
    caps = {
        cap.seat_type: cap.cap
        for cap in (await loaders.catalog()).seat_caps.get(subscription.plan_key, [])
    }
    allocated = await loaders.allocated_seats.load(scope.id)
    total_allocated = sum(allocated.values())
    return billing.Seats(
        total=subscription.seats,
        allocated=total_allocated,
        available=max(0, subscription.seats - total_allocated),
        by_type=[
            billing.SeatTypeUsage(
                seat_type=seat_type,
                cap=caps.get(seat_type),
                allocated=allocated.get(seat_type, 0),
            )
            for seat_type in SeatType
        ],
    )


async def subscription(info: Info, scope: OrgScope) -> billing.Subscription | None:
    row = await subscription_of(info, scope)
    return None if row is None else subscription_type(row)


def subscription_type(row: Subscription) -> billing.Subscription:
    return billing.Subscription(
        status=row.status,
        plan_key=row.plan_key,
        seats=row.seats,
        anchor=row.anchor,
        current_period_start=row.current_period_start,
        current_period_end=row.current_period_end,
        payment_retries_exhausted=row.payment_retries_exhausted,
    )


async def ai_access_paused(info: Info, scope: OrgScope) -> bool:
    row = await subscription_of(info, scope)
    if row is None:
        return False
    return readiness.ai_access_paused(row.status, row.payment_retries_exhausted)


async def reconciliation(info: Info, scope: OrgScope) -> billing.Reconciliation:
    row = await info.context.loaders.reconciliation.load(scope.id)
    if row is None:
        return billing.Reconciliation(
            status=ReconciliationStatus.NOT_CONFIGURED, last_reconciled_at=None
        )
    return billing.Reconciliation(
        status=row.status, last_reconciled_at=row.reconciled_at
    )


async def workspace_creation(info: Info, scope: OrgScope) -> billing.WorkspaceCreation:
    row = await subscription_of(info, scope)
    organization = scope.organization
    reasons = readiness.workspace_creation_blockers(
        organization.billing_state,
        organization.trial_approved,
        organization.workspace_time_balance_hours,
        organization.managed_ai_balance_usd,
        row.status if row else None,
    )
    return billing.WorkspaceCreation(allowed=not reasons, reasons=reasons)
