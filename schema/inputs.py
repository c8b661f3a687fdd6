"""Input types of the mutations and usage checks (names fixed by the contract)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import strawberry
from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition

from schema.enums import (
    AiFeature,
    ApiKeyKind,
    BillingModel,
    BillingState,
    CreditPoolKind,
    Enforcement,
    MeterCategory,
    ModelTier,
    PlanTier,
    ReconciliationStatus,
    Resets,
    Role,
    SeatType,
    SubscriptionStatus,
    UsageSource,
)


@strawberry.input(description="A meter in the catalog.")
class MeterInput:
    key: str = strawberry.field(description="Stable key, e.g. `emails_sent`.")
    label: str = strawberry.field(description="Display label.")
    category: MeterCategory = strawberry.field(description="The meter's family.")
    unit_label: str = strawberry.field(description="What one unit is.")
    display_multiplier: int = strawberry.field(
        default=1, description="Shown units = stored units × this."
    )
    resets: Resets = strawberry.field(description="CYCLE or NEVER (cumulative).")


@strawberry.input(description="A plan's cap on one seat type.")
class SeatCapInput:
    seat_type: SeatType = strawberry.field(description="The seat type.")
    cap: int = strawberry.field(description="How many seats of it the plan allows.")


@strawberry.input(description="What a plan allows on one meter.")
class PlanLimitInput:
    meter: str = strawberry.field(description="The meter's key.")
    limit: Decimal | None = strawberry.field(
        default=None, description="The limit; absent = unlimited."
    )
    per_seat: bool = strawberry.field(
        default=False, description="The limit is per seat of the subscription."
    )
    enforcement: Enforcement | None = strawberry.field(
        default=None, description="HARD by default (NONE for ai_tokens)."
    )
    free_units: Decimal | None = strawberry.field(
        default=None,
        description="Free units per cycle for operations; absent = pay-per-use, "
        "0 = not allowed on the plan.",
    )
    credits_per_unit: Decimal | None = strawberry.field(
        default=None, description="Credits per unit beyond the free allowance."
    )


@strawberry.input(description="A plan in the catalog.")
class PlanInput:
    key: str = strawberry.field(description="Stable key.")
    name: str = strawberry.field(description="Display name.")
    tier: PlanTier = strawberry.field(description="The plan's tier.")
    price_monthly_cents: int | None = strawberry.field(
        default=None, description="Monthly price in cents."
    )
    price_annual_cents: int | None = strawberry.field(
        default=None, description="Annual price in cents."
    )
    currency: str = strawberry.field(default="USD", description="ISO 4217 currency.")
    monthly_credits: Decimal | None = strawberry.field(
        default=None, description="Credits granted every cycle (FREE: 500 if absent)."
    )
    credits_per_seat: Decimal | None = strawberry.field(
        default=None, description="Credits granted per seat every cycle."
    )
    credits_per_usd: Decimal | None = strawberry.field(
        default=None,
        description="Credits per dollar of AI cost; absent = not converted.",
    )
    daily_allowance_units: Decimal | None = strawberry.field(
        default=None,
        description="Daily AI allowance in cost units ($0.001); absent = unlimited.",
    )
    seat_caps: list[SeatCapInput] | None = strawberry.field(
        default=None, description="Per seat-type caps."
    )
    limits: list[PlanLimitInput] | None = strawberry.field(
        default=None, description="Per meter limits; replaces the plan's."
    )


@strawberry.input(description="An organization.")
class OrganizationInput:
    id: strawberry.ID = strawberry.field(description="Stable id.")
    name: str = strawberry.field(description="Display name.")
    billing_model: BillingModel = strawberry.field(
        default=BillingModel.CREDITS, description="CREDITS or USD (BYOM)."
    )
    billing_state: BillingState = strawberry.field(
        default=BillingState.NONE, description="How it pays."
    )
    trial_approved: bool = strawberry.field(
        default=False, description="A TRIAL is approved."
    )
    allowance_ui_details: bool = strawberry.field(
        default=False, description="Show the daily allowance panel."
    )
    show_dollars_preview: bool = strawberry.field(
        default=False, description="Every member sees dollar amounts."
    )
    provider_project_id: str | None = strawberry.field(
        default=None, description="The provider's project id (operators only)."
    )
    workspace_time_balance_hours: Decimal = strawberry.field(
        default=Decimal(0), description="Prepaid workspace time."
    )
    managed_ai_balance_usd: Decimal = strawberry.field(
        default=Decimal(0), description="Prepaid managed AI balance."
    )


@strawberry.input(description="An organization's subscription, as the provider has it.")
class SubscriptionInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    plan_key: str = strawberry.field(description="The plan.")
    seats: int = strawberry.field(description="Seats paid for.")
    status: SubscriptionStatus = strawberry.field(
        default=SubscriptionStatus.ACTIVE, description="Provider status."
    )
    anchor: datetime | None = strawberry.field(
        default=None, description="Cycle anchor; absent keeps the current one (or now)."
    )
    current_period_start: datetime | None = strawberry.field(
        default=None, description="Provider's current period start."
    )
    current_period_end: datetime | None = strawberry.field(
        default=None, description="Provider's current period end."
    )
    payment_retries_exhausted: bool = strawberry.field(
        default=False, description="The provider gave up retrying a payment."
    )


@strawberry.input(description="A member of an organization.")
class MemberInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    user_id: strawberry.ID = strawberry.field(description="The user (token `sub`).")
    email: str = strawberry.field(description="Email.")
    name: str = strawberry.field(description="Name.")
    role: Role = strawberry.field(default=Role.MEMBER, description="Role.")
    teams: list[str] | None = strawberry.field(default=None, description="Teams.")
    seat_type: SeatType | None = strawberry.field(
        default=None, description="Allocates a seat of this type when given."
    )


@strawberry.input(description="A workspace, optionally in a group.")
class WorkspaceInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    id: strawberry.ID = strawberry.field(description="Stable id.")
    name: str = strawberry.field(description="Name.")
    group_id: strawberry.ID | None = strawberry.field(
        default=None, description="Group id."
    )
    group_name: str | None = strawberry.field(default=None, description="Group name.")


@strawberry.input(description="A BONUS or PURCHASED credit grant.")
class CreditGrantInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    kind: CreditPoolKind = strawberry.field(description="BONUS or PURCHASED.")
    amount: Decimal = strawberry.field(description="Credits granted.")
    expires_at: datetime | None = strawberry.field(default=None, description="Expiry.")
    reason: str | None = strawberry.field(default=None, description="Why, for people.")


@strawberry.input(description="A model's prices per million tokens.")
class ModelPriceInput:
    model: str = strawberry.field(description="The model name events carry.")
    tier: ModelTier = strawberry.field(description="The model's tier.")
    input_per_million_usd: Decimal = strawberry.field(description="Input tokens.")
    output_per_million_usd: Decimal = strawberry.field(description="Output tokens.")
    cache_read_per_million_usd: Decimal = strawberry.field(
        default=Decimal(0), description="Cache-read tokens."
    )
    cache_write_per_million_usd: Decimal = strawberry.field(
        default=Decimal(0), description="Cache-write tokens."
    )


@strawberry.input(description="Managed AI reconciliation state.")
class ReconciliationInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    status: ReconciliationStatus = strawberry.field(description="Status.")
    managed_ai_usage_usd: Decimal | None = strawberry.field(
        default=None, description="Reconciled managed AI usage."
    )
    reconciled_at: datetime | None = strawberry.field(default=None, description="When.")


@strawberry.input(description="A new API key.")
class ApiKeyInput:
    kind: ApiKeyKind = strawberry.field(description="OPERATOR, SERVICE or PARTNER.")
    name: str = strawberry.field(description="A name for people.")
    organization_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="SERVICE: its one organization; PARTNER: its list."
    )


@strawberry.input(description="Token counts of an AI event.")
class TokenCountsInput:
    input: int = strawberry.field(default=0, description="Input tokens.")
    output: int = strawberry.field(default=0, description="Output tokens.")
    cache_read: int = strawberry.field(default=0, description="Cache-read tokens.")
    cache_write: int = strawberry.field(default=0, description="Cache-write tokens.")


@strawberry.input(
    description="One usage event. There is deliberately no field for prompts, "
    "responses, transcripts, payloads, keys or secrets."
)
class UsageEventInput:
    idempotency_key: str = strawberry.field(description="Unique per organization.")
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    meter: str = strawberry.field(description="The meter's key.")
    quantity: Decimal = strawberry.field(
        description="Units, up to 6 decimals; negative only releases cumulative usage."
    )
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When it happened; absent = when received."
    )
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="The user."
    )
    workspace_id: strawberry.ID | None = strawberry.field(
        default=None, description="The workspace."
    )
    source: UsageSource | None = strawberry.field(
        default=None, description="WEB, CLI or API (absent counts as API)."
    )
    feature: AiFeature | None = strawberry.field(
        default=None, description="AI budget category."
    )
    model: str | None = strawberry.field(default=None, description="AI model name.")
    tokens: TokenCountsInput | None = strawberry.field(
        default=None, description="AI token counts, priced from the model table."
    )
    cost_usd: Decimal | None = strawberry.field(
        default=None, description="AI cost in dollars, when already known."
    )
    definition_id: strawberry.ID | None = strawberry.field(
        default=None, description="Data Lake definition that caused it."
    )
    definition_name: str | None = strawberry.field(
        default=None, description="That definition's name."
    )


def _usage_event_from_input(
    cls: type, value: Mapping[str, Any], context: InputContext
) -> UsageEventInput:
    """A `UsageEventInput` from its coerced GraphQL value, built directly.

    Strawberry's generic conversion resolves every field's type and name for every
    event (about 14 lookups an event, most of a 1,000-event recordUsage's CPU). Here
    graphql-core has already parsed the scalars and enums, and fields the client left
    out hold their published defaults (null, or 0 for token counts), so the fields
    are copied as they are; the result equals the generic one.
    """
    tokens = value.get("tokens")
    return cast(
        UsageEventInput,
        cls(
            idempotency_key=value["idempotencyKey"],
            organization_id=value["organizationId"],
            meter=value["meter"],
            quantity=value["quantity"],
            occurred_at=value.get("occurredAt"),
            user_id=value.get("userId"),
            workspace_id=value.get("workspaceId"),
            source=value.get("source"),
            feature=value.get("feature"),
            model=value.get("model"),
            tokens=None
            if tokens is None
            else TokenCountsInput(
                input=tokens.get("input", 0),
                output=tokens.get("output", 0),
                cache_read=tokens.get("cacheRead", 0),
                cache_write=tokens.get("cacheWrite", 0),
            ),
            cost_usd=value.get("costUsd"),
            definition_id=value.get("definitionId"),
            definition_name=value.get("definitionName"),
        ),
    )


get_object_definition(UsageEventInput, strict=True).from_input = _usage_event_from_input
