"""Mutation payloads: the changed thing plus `userErrors` (business outcomes)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from schema.enums import (
    ApiKeyKind,
    CreditPoolKind,
    MeterCategory,
    PlanTier,
    Resets,
    UsageDecisionCode,
    UsageStatus,
)
from schema.organization import Organization
from schema.types.billing import Seats, Subscription
from schema.types.common import UserError
from schema.types.members import Member
from schema.types.reports import AllowanceSnapshot

ERRORS = "Why the mutation did not apply; empty on success."


@strawberry.type(description="A meter in the catalog.")
class CatalogMeter:
    key: str = strawberry.field(description="Stable key.")
    label: str = strawberry.field(description="Display label.")
    category: MeterCategory = strawberry.field(description="Family.")
    unit_label: str = strawberry.field(description="What one unit is.")
    resets: Resets = strawberry.field(description="CYCLE or NEVER.")


@strawberry.type(description="A plan in the catalog.")
class CatalogPlan:
    key: str = strawberry.field(description="Stable key.")
    name: str = strawberry.field(description="Display name.")
    tier: PlanTier = strawberry.field(description="Tier.")


@strawberry.type(description="A workspace.")
class Workspace:
    id: strawberry.ID = strawberry.field(description="Stable id.")
    name: str = strawberry.field(description="Name.")
    group_id: strawberry.ID | None = strawberry.field(description="Its group, if any.")


@strawberry.type(description="A BONUS or PURCHASED credit grant.")
class CreditGrant:
    id: strawberry.ID = strawberry.field(description="The grant's id.")
    kind: CreditPoolKind = strawberry.field(description="BONUS or PURCHASED.")
    amount: Decimal = strawberry.field(description="Credits granted.")
    expires_at: datetime | None = strawberry.field(description="Expiry, if any.")


@strawberry.type(description="A personal allocation on one meter.")
class PersonalAllocation:
    user_id: strawberry.ID = strawberry.field(description="The user.")
    meter: str = strawberry.field(description="The meter's key.")
    limit: Decimal | None = strawberry.field(description="The limit; null = removed.")


@strawberry.type(description="An API key (its secret is never shown again).")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="The key's id.")
    kind: ApiKeyKind = strawberry.field(description="What it may do.")
    name: str = strawberry.field(description="Its name.")
    organization_ids: list[strawberry.ID] = strawberry.field(
        description="Organizations it is scoped to."
    )


@strawberry.type(description="What became of one event.")
class UsageEventResult:
    index: int = strawberry.field(description="Position in the request.")
    idempotency_key: str = strawberry.field(description="The event's key.")
    status: UsageStatus = strawberry.field(description="The outcome.")
    code: UsageDecisionCode | None = strawberry.field(
        description="Why it was denied or invalid; ALLOWED when accepted."
    )
    message: str = strawberry.field(description="A sentence for people.")


@strawberry.type(description="Outcomes of a recordUsage call, one per event in order.")
class RecordUsagePayload:
    accepted: int = strawberry.field(description="Events accepted.")
    duplicates: int = strawberry.field(description="Events already recorded.")
    denied: int = strawberry.field(description="Events denied.")
    invalid: int = strawberry.field(description="Events rejected as invalid.")
    results: list[UsageEventResult] = strawberry.field(description="Per event.")


@strawberry.type(description="Whether an event would be accepted now.")
class UsageCheckResult:
    allowed: bool = strawberry.field(description="It would be accepted.")
    code: UsageDecisionCode = strawberry.field(description="ALLOWED or why not.")
    used: Decimal = strawberry.field(description="Usage counted against the limit.")
    limit: Decimal | None = strawberry.field(description="The limit; null = none.")
    remaining: Decimal | None = strawberry.field(description="What is left.")


@strawberry.type(description="What upsertMeter did: the meter, or why not.")
class UpsertMeterPayload:
    meter: CatalogMeter | None = strawberry.field(description="The meter.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What upsertPlan did: the plan, or why not.")
class UpsertPlanPayload:
    plan: CatalogPlan | None = strawberry.field(description="The plan.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="What upsertOrganization did: the organization, or why not."
)
class UpsertOrganizationPayload:
    organization: Organization | None = strawberry.field(
        description="The organization."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What setSubscription did: the subscription, or why not.")
class SetSubscriptionPayload:
    subscription: Subscription | None = strawberry.field(
        description="The subscription."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What upsertMember did: the member, or why not.")
class UpsertMemberPayload:
    member: Member | None = strawberry.field(description="The member.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What upsertWorkspace did: the workspace, or why not.")
class UpsertWorkspacePayload:
    workspace: Workspace | None = strawberry.field(description="The workspace.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What grantCredits did: the grant, or why not.")
class GrantCreditsPayload:
    grant: CreditGrant | None = strawberry.field(description="The grant.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="Whether a mutation without a result applied: it did when "
    "userErrors is empty."
)
class UserErrorsPayload:
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What syncDailyAllowance took: the snapshot.")
class SyncDailyAllowancePayload:
    snapshot: AllowanceSnapshot | None = strawberry.field(description="The snapshot.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="What createApiKey did: the key and its secret, or why not."
)
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="The new key.")
    secret: str | None = strawberry.field(
        description="The key's secret: shown this once, store it now."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="What allocateSeat or deallocateSeat did: the member and the "
    "seats after, or why not."
)
class SeatPayload:
    member: Member | None = strawberry.field(description="The member.")
    seats: Seats | None = strawberry.field(description="Seats after the change.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="What changeSeats did: the seats after, or why not.")
class ChangeSeatsPayload:
    seats: Seats | None = strawberry.field(description="Seats after the change.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="What setPersonalAllocation did: the allocation, or why not."
)
class SetPersonalAllocationPayload:
    allocation: PersonalAllocation | None = strawberry.field(
        description="The allocation (limit null when removed)."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)
