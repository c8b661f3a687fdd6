"""Input types of the mutations and usage checks (names fixed by the contract)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import strawberry
from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition

from rules.amounts import (
    MAX_COST_USD,
    MAX_CREDITS,
    MAX_LIMIT,
    MAX_QUANTITY,
    MAX_RATE,
    MAX_SEATS,
    MAX_TOKENS,
    MAX_TOTAL,
)
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
    key: str = strawberry.field(
        description="Stable key, e.g. `emails_sent`: events and limits name the "
        "meter by it."
    )
    label: str = strawberry.field(description="Display label.")
    category: MeterCategory = strawberry.field(
        description="The family the usage page lists it under."
    )
    unit_label: str = strawberry.field(description="What one unit is, e.g. `emails`.")
    display_multiplier: int = strawberry.field(
        default=1, description="Shown units = stored units × this; 1 or more."
    )
    resets: Resets = strawberry.field(description="CYCLE or NEVER (cumulative).")


@strawberry.input(description="A plan's cap on one seat type.")
class SeatCapInput:
    seat_type: SeatType = strawberry.field(description="The seat type capped.")
    cap: int = strawberry.field(
        description="How many seats of this type the plan allows; 0 or more."
    )


@strawberry.input(description="What a plan allows on one meter.")
class PlanLimitInput:
    meter: str = strawberry.field(description="Key of the meter limited.")
    limit: Decimal | None = strawberry.field(
        default=None,
        description="Units allowed per cycle (ever, on a cumulative meter), "
        f"0 to {MAX_LIMIT:,}; absent = unlimited.",
    )
    per_seat: bool = strawberry.field(
        default=False,
        description="The limit is per seat: the organization's limit is it × seats.",
    )
    enforcement: Enforcement | None = strawberry.field(
        default=None, description="HARD by default (NONE for ai_tokens)."
    )
    free_units: Decimal | None = strawberry.field(
        default=None,
        description=f"Free units per cycle for operations, 0 to {MAX_LIMIT:,}; "
        "absent = pay-per-use, 0 = not allowed on the plan.",
    )
    credits_per_unit: Decimal | None = strawberry.field(
        default=None,
        description="Credits per unit beyond the free allowance, "
        f"0 to {MAX_RATE:,}; absent = no charge per unit.",
    )


@strawberry.input(description="A plan in the catalog.")
class PlanInput:
    key: str = strawberry.field(
        description="Stable key that subscriptions name the plan by."
    )
    name: str = strawberry.field(description="Display name.")
    tier: PlanTier = strawberry.field(
        description="The plan's tier (FREE grants 500 credits by default)."
    )
    price_monthly_cents: int | None = strawberry.field(
        default=None,
        description="Price per month billed monthly, in cents; 0 or more, absent = "
        "not sold monthly.",
    )
    price_annual_cents: int | None = strawberry.field(
        default=None,
        description="Price per year billed annually, in cents; 0 or more, absent = "
        "not sold annually.",
    )
    currency: str = strawberry.field(
        default="USD", description="ISO 4217 code of the prices, e.g. `USD`."
    )
    monthly_credits: Decimal | None = strawberry.field(
        default=None,
        description=f"Credits granted every cycle, 0 to {MAX_CREDITS:,} "
        "(FREE: 500 if absent).",
    )
    credits_per_seat: Decimal | None = strawberry.field(
        default=None,
        description=f"Credits granted per seat every cycle, 0 to {MAX_RATE:,}.",
    )
    credits_per_usd: Decimal | None = strawberry.field(
        default=None,
        description=f"Credits per dollar of AI cost, 0 to {MAX_RATE:,}; absent = "
        "AI cost is not charged in credits.",
    )
    daily_allowance_units: Decimal | None = strawberry.field(
        default=None,
        description="Daily AI allowance in cost units ($0.001), "
        f"0 to {MAX_LIMIT:,}; absent = unlimited.",
    )
    seat_caps: list[SeatCapInput] | None = strawberry.field(
        default=None, description="Caps per seat type, one each; absent = none."
    )
    limits: list[PlanLimitInput] | None = strawberry.field(
        default=None,
        description="What the plan allows per meter, one each; replaces the "
        "plan's limits (absent = none).",
    )


@strawberry.input(description="An organization.")
class OrganizationInput:
    id: strawberry.ID = strawberry.field(
        description="Stable id: every other input and query names the organization "
        "by it."
    )
    name: str = strawberry.field(description="Display name.")
    billing_model: BillingModel = strawberry.field(
        default=BillingModel.CREDITS,
        description="CREDITS, or USD for bring-your-own-model billing.",
    )
    billing_state: BillingState = strawberry.field(
        default=BillingState.NONE,
        description="How it pays; decides whether workspaces may be created.",
    )
    trial_approved: bool = strawberry.field(
        default=False,
        description="A TRIAL is approved: workspaces may be created on it.",
    )
    allowance_ui_details: bool = strawberry.field(
        default=False,
        description="Show the daily allowance panel (to billing:read:all).",
    )
    show_dollars_preview: bool = strawberry.field(
        default=False,
        description="Every member sees dollar amounts (billing:read:dollars).",
    )
    provider_project_id: str | None = strawberry.field(
        default=None,
        description="The payment provider's project id (shown to operators only).",
    )
    workspace_time_balance_hours: Decimal = strawberry.field(
        default=Decimal(0),
        description=f"Prepaid workspace time in hours, 0 to {MAX_CREDITS:,}.",
    )
    managed_ai_balance_usd: Decimal = strawberry.field(
        default=Decimal(0),
        description=f"Prepaid managed AI balance in dollars, 0 to {MAX_CREDITS:,}.",
    )


@strawberry.input(description="An organization's subscription, as the provider has it.")
class SubscriptionInput:
    organization_id: strawberry.ID = strawberry.field(
        description="Id of the organization subscribing."
    )
    plan_key: str = strawberry.field(description="Key of the plan subscribed to.")
    seats: int = strawberry.field(
        description=f"Seats paid for, 0 to {MAX_SEATS:,} (may be below those "
        "allocated: this mirrors the provider)."
    )
    status: SubscriptionStatus = strawberry.field(
        default=SubscriptionStatus.ACTIVE,
        description="The status at the payment provider.",
    )
    anchor: datetime | None = strawberry.field(
        default=None, description="Cycle anchor; absent keeps the current one (or now)."
    )
    current_period_start: datetime | None = strawberry.field(
        default=None,
        description="Start of the provider's current period, with its UTC offset; "
        "given with currentPeriodEnd, it wins over the anchor.",
    )
    current_period_end: datetime | None = strawberry.field(
        default=None,
        description="End of the provider's current period, after its start.",
    )
    payment_retries_exhausted: bool = strawberry.field(
        default=False,
        description="The provider gave up retrying a payment: while PAST_DUE, AI "
        "events are denied.",
    )


@strawberry.input(description="A member of an organization.")
class MemberInput:
    organization_id: strawberry.ID = strawberry.field(
        description="Id of the organization the user belongs to."
    )
    user_id: strawberry.ID = strawberry.field(
        description="The user's id: the `sub` of their bearer token."
    )
    email: str = strawberry.field(description="Email address, shown in the directory.")
    name: str = strawberry.field(description="Full name; the directory sorts by it.")
    role: Role = strawberry.field(
        default=Role.MEMBER, description="Role here: what the member may see and do."
    )
    teams: list[str] | None = strawberry.field(
        default=None,
        description="Team names, replacing the member's; absent = no teams.",
    )
    seat_type: SeatType | None = strawberry.field(
        default=None, description="Allocates a seat of this type when given."
    )


@strawberry.input(description="A workspace, optionally in a group.")
class WorkspaceInput:
    organization_id: strawberry.ID = strawberry.field(
        description="Id of the organization owning the workspace."
    )
    id: strawberry.ID = strawberry.field(
        description="Stable id that usage events name the workspace by."
    )
    name: str = strawberry.field(description="Display name in the top tables.")
    group_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Id of its workspace group (created when new); absent takes it "
        "out of its group.",
    )
    group_name: str | None = strawberry.field(
        default=None, description="The group's display name (needs groupId)."
    )


@strawberry.input(description="A BONUS or PURCHASED credit grant.")
class CreditGrantInput:
    organization_id: strawberry.ID = strawberry.field(
        description="Id of the organization credited."
    )
    kind: CreditPoolKind = strawberry.field(
        description="BONUS or PURCHASED (MONTHLY comes from the plan)."
    )
    amount: Decimal = strawberry.field(
        description=f"Credits granted, above 0 and up to {MAX_CREDITS:,}."
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the grant's remaining credits expire (a new grant's in the "
        "future); absent = never.",
    )
    reason: str | None = strawberry.field(
        default=None, description="Why it was granted, for people (500 characters)."
    )


@strawberry.input(description="A model's prices per million tokens.")
class ModelPriceInput:
    model: str = strawberry.field(description="The model name events carry.")
    tier: ModelTier = strawberry.field(
        description="The price tier the AI budget shows for the model."
    )
    input_per_million_usd: Decimal = strawberry.field(
        description=f"Dollars per million input tokens, 0 to {MAX_RATE:,}."
    )
    output_per_million_usd: Decimal = strawberry.field(
        description=f"Dollars per million output tokens, 0 to {MAX_RATE:,}."
    )
    cache_read_per_million_usd: Decimal = strawberry.field(
        default=Decimal(0),
        description=f"Dollars per million cache-read tokens, 0 to {MAX_RATE:,}.",
    )
    cache_write_per_million_usd: Decimal = strawberry.field(
        default=Decimal(0),
        description=f"Dollars per million cache-write tokens, 0 to {MAX_RATE:,}.",
    )


@strawberry.input(description="Managed AI reconciliation state.")
class ReconciliationInput:
    organization_id: strawberry.ID = strawberry.field(
        description="Id of the organization reconciled."
    )
    status: ReconciliationStatus = strawberry.field(
        description="Where reconciliation stands."
    )
    managed_ai_usage_usd: Decimal | None = strawberry.field(
        default=None,
        description="Managed AI usage in dollars as reconciled, "
        f"0 to {MAX_CREDITS:,}; absent = not known yet.",
    )
    reconciled_at: datetime | None = strawberry.field(
        default=None, description="When it was last reconciled; absent = never."
    )


@strawberry.input(description="A new API key.")
class ApiKeyInput:
    kind: ApiKeyKind = strawberry.field(
        description="What the key may do: OPERATOR, SERVICE or PARTNER."
    )
    name: str = strawberry.field(
        description="A name for people, e.g. the service using it."
    )
    organization_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="SERVICE: its one organization; PARTNER: its list."
    )


@strawberry.input(description="Token counts of an AI event.")
class TokenCountsInput:
    input: int = strawberry.field(
        default=0, description=f"Input (prompt) tokens, 0 to {MAX_TOKENS:,}."
    )
    output: int = strawberry.field(
        default=0, description=f"Output (completion) tokens, 0 to {MAX_TOKENS:,}."
    )
    cache_read: int = strawberry.field(
        default=0,
        description=f"Tokens read from the prompt cache, 0 to {MAX_TOKENS:,}.",
    )
    cache_write: int = strawberry.field(
        default=0,
        description=f"Tokens written to the prompt cache, 0 to {MAX_TOKENS:,}.",
    )


@strawberry.input(
    description="One usage event. There is deliberately no field for prompts, "
    "responses, transcripts, payloads, keys or secrets."
)
class UsageEventInput:
    idempotency_key: str = strawberry.field(
        description="Unique per organization: the same key again is a DUPLICATE, "
        "counted once."
    )
    organization_id: strawberry.ID = strawberry.field(
        description="Id of the organization the usage is billed to."
    )
    meter: str = strawberry.field(description="Key of the meter counting it.")
    quantity: Decimal = strawberry.field(
        description=f"Units, -{MAX_QUANTITY:,} to {MAX_QUANTITY:,} with up to 6 "
        "decimals; negative only releases cumulative usage. INVALID when it would "
        f"take the meter's total past {MAX_TOTAL:,} or cost more than "
        f"{MAX_CREDITS:,} credits."
    )
    occurred_at: datetime | None = strawberry.field(
        default=None,
        description="When it happened, with its UTC offset; absent = when received.",
    )
    user_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Id of the member who used it (counts against their personal "
        "allocation); absent = nobody in particular.",
    )
    workspace_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Id of the workspace it ran in, for the top tables; absent = none.",
    )
    source: UsageSource | None = strawberry.field(
        default=None, description="WEB, CLI or API (absent counts as API)."
    )
    feature: AiFeature | None = strawberry.field(
        default=None, description="The AI budget category it is filed under."
    )
    model: str | None = strawberry.field(
        default=None, description="AI model name; its prices price `tokens`."
    )
    tokens: TokenCountsInput | None = strawberry.field(
        default=None,
        description="AI token counts, priced from the model table when `costUsd` "
        f"is absent (at most ${MAX_COST_USD:,} in all).",
    )
    cost_usd: Decimal | None = strawberry.field(
        default=None,
        description=f"AI cost in dollars when already known, 0 to {MAX_COST_USD:,}.",
    )
    definition_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Id of the Data Lake definition that caused it, for the daily "
        "allowance's ranking.",
    )
    definition_name: str | None = strawberry.field(
        default=None, description="That definition's display name."
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
