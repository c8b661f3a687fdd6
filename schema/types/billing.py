"""Plans, subscriptions, cycles, seats and readiness: the billing set-up."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.enums import (
    PlanTier,
    ReconciliationStatus,
    SeatType,
    SubscriptionStatus,
    UpgradeTarget,
    WorkspaceCreationReason,
)
from schema.types.common import Money


@strawberry.type(description="A plan in the catalog.")
class Plan:
    key: str = strawberry.field(description="The plan's stable key.")
    name: str = strawberry.field(description="The plan's display name.")
    tier: PlanTier = strawberry.field(description="The plan's tier.")
    price_monthly: Money | None = strawberry.field(
        description="Price per month when billed monthly; null when not sold so."
    )
    price_annual: Money | None = strawberry.field(
        description="Price per year when billed annually; null when not sold so."
    )


@strawberry.type(description="What the plan buttons on the usage page do.")
class PlanActions:
    upgrade: UpgradeTarget | None = strawberry.field(
        description="SIGNUP_WIZARD on a FREE plan; BILLING_SETTINGS on other active "
        "plans for ADMIN and above; null otherwise and always on ULTRA."
    )
    manage: bool = strawberry.field(description="True for MANAGER and above.")


@strawberry.type(description="The billing cycle containing the organization's `at`.")
class BillingCycle:
    start: datetime = strawberry.field(
        description="When the cycle started (inclusive)."
    )
    end: datetime = strawberry.field(description="When the cycle ends (exclusive).")
    days_elapsed: int = strawberry.field(description="Whole days since the start.")
    days_remaining: int = strawberry.field(
        description="Whole days to the end, rounded up."
    )


@strawberry.type(description="Seats of one type.")
class SeatTypeUsage:
    seat_type: SeatType = strawberry.field(description="The seat type.")
    cap: int | None = strawberry.field(
        description="The plan's cap for this type; null when the plan sets none."
    )
    allocated: int = strawberry.field(description="Seats of this type allocated.")


@strawberry.type(description="Seats paid for and in use.")
class Seats:
    total: int = strawberry.field(description="Seats on the subscription.")
    allocated: int = strawberry.field(description="Seats allocated to members.")
    available: int = strawberry.field(description="Seats left to allocate.")
    by_type: list[SeatTypeUsage] = strawberry.field(
        description="Per seat type: cap and allocation."
    )


@strawberry.type(
    name="PlanSubscription",
    description="The organization's subscription to a plan, as the provider has it.",
)
class Subscription:
    status: SubscriptionStatus = strawberry.field(description="Provider status.")
    plan_key: str = strawberry.field(description="The plan subscribed to.")
    seats: int = strawberry.field(description="Seats paid for.")
    anchor: datetime = strawberry.field(description="The instant cycles anchor on.")
    current_period_start: datetime | None = strawberry.field(
        description="Provider's current period start, when synced."
    )
    current_period_end: datetime | None = strawberry.field(
        description="Provider's current period end, when synced."
    )
    payment_retries_exhausted: bool = strawberry.field(
        description="The provider gave up retrying a failed payment."
    )


@strawberry.type(description="Managed AI usage reconciliation with the provider.")
class Reconciliation:
    status: ReconciliationStatus = strawberry.field(description="Where it stands.")
    last_reconciled_at: datetime | None = strawberry.field(
        description="When it last reconciled."
    )


@strawberry.type(description="Whether new workspaces may be created, and why not.")
class WorkspaceCreation:
    allowed: bool = strawberry.field(description="True when nothing blocks creation.")
    reasons: list[WorkspaceCreationReason] = strawberry.field(
        description="What is missing; empty when allowed."
    )
