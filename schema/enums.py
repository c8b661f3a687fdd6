"""The domain's enums, registered with GraphQL under the same names.

`strawberry.enum` decorates the `rules.enums` classes in place, so the schema, the
resolvers and the store all handle the very same enum objects.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from rules.enums import (
    AiFeature,
    AllowanceStatus,
    ApiKeyKind,
    BillingModel,
    BillingState,
    CreditPoolKind,
    CreditPrompt,
    CreditUnit,
    Enforcement,
    Granularity,
    MeterCategory,
    ModelTier,
    PlanTier,
    PricingCoverage,
    ReconciliationStatus,
    Resets,
    Role,
    SeatStatus,
    SeatType,
    SubscriptionStatus,
    UpgradeTarget,
    UsageDecisionCode,
    UsageLevel,
    UsageRange,
    UsageSource,
    UsageStatus,
    ViewerKind,
    WorkspaceCreationReason,
)

_DESCRIPTIONS: dict[type[Enum], tuple[str, dict[Any, str]]] = {
    MeterCategory: (
        "A family of meters, as the usage page groups them.",
        {
            MeterCategory.CORE_LIMITS: "Records kept, counted ever: contacts, "
            "companies, storage.",
            MeterCategory.MONTHLY_ACTIVITY: "Activity counted per cycle: emails sent, "
            "AI tokens, enrichments, workflow executions.",
            MeterCategory.DATA_OPERATIONS: "Data moved per cycle: imported and "
            "exported rows, lead captures, API calls.",
            MeterCategory.QUOTA: "Per-cycle allowances such as insights and "
            "transcription hours.",
            MeterCategory.AI_BUDGET: "The monthly AI spend in dollars (ai_spend_usd).",
            MeterCategory.OPERATIONS: "Pay-per-use operations priced in credits "
            "beyond a free allowance: voice, SMS, AI text and the like.",
            MeterCategory.RUNTIME: "Workspace runtime hours.",
        },
    ),
    Resets: (
        "CYCLE: counts only the current billing cycle; NEVER: cumulative.",
        {
            Resets.CYCLE: "Starts from zero every billing cycle.",
            Resets.NEVER: "Cumulative: everything recorded so far (a negative "
            "quantity releases usage).",
        },
    ),
    Enforcement: (
        "HARD: denied at the limit; SOFT: 10 % overage; NONE: never denied.",
        {
            Enforcement.HARD: "An event that would pass the limit is denied "
            "(LIMIT_REACHED).",
            Enforcement.SOFT: "Events pass the limit by up to 10 %, then are denied "
            "(SOFT_LIMIT_REACHED).",
            Enforcement.NONE: "Counted and shown, never denied.",
        },
    ),
    UsageLevel: (
        "NORMAL below 80 %, WARNING from 80 %, CRITICAL from 90 %, "
        "EXCEEDED from 100 % of the limit.",
        {
            UsageLevel.NORMAL: "Below 80 % of the limit, or unlimited.",
            UsageLevel.WARNING: "From 80 % of the limit.",
            UsageLevel.CRITICAL: "From 90 % of the limit.",
            UsageLevel.EXCEEDED: "At or past the limit.",
        },
    ),
    PlanTier: (
        "A plan's tier, from FREE up to ULTRA.",
        {
            PlanTier.FREE: "No charge; 500 monthly credits unless the plan sets "
            "others; Upgrade leads to the signup wizard.",
            PlanTier.STARTER: "The first tier above FREE.",
            PlanTier.PRO: "The tier above STARTER.",
            PlanTier.BUSINESS: "The tier above PRO.",
            PlanTier.ENTERPRISE: "The tier above BUSINESS.",
            PlanTier.ULTRA: "The top tier: there is nothing to upgrade to.",
        },
    ),
    Role: (
        "Roles in an organization: MEMBER < MANAGER < ADMIN < SUPER_ADMIN.",
        {
            Role.MEMBER: "Reads the usage page (usage:read).",
            Role.MANAGER: "A MEMBER who may also manage the plan (plan:manage).",
            Role.ADMIN: "A MANAGER who also sees billing details and dollars, "
            "manages seats and allocations and reads analytics.",
            Role.SUPER_ADMIN: "Everything an ADMIN may do.",
        },
    ),
    SeatType: (
        "A kind of paid seat.",
        {
            SeatType.POWER: "A full seat; allocated first when no type is asked for.",
            SeatType.COLLABORATOR: "A collaborator seat; allocated when no POWER "
            "seat is left.",
        },
    ),
    SeatStatus: (
        "Whether a member has a seat.",
        {
            SeatStatus.ALLOCATED: "Holds a seat (see seatType).",
            SeatStatus.NO_SEAT: "Holds no seat.",
        },
    ),
    BillingModel: (
        "CREDITS: usage draws credits; USD: bring-your-own-model, billed in "
        "dollars against a monthly spend cap.",
        {
            BillingModel.CREDITS: "Usage is priced in credits drawn from the "
            "organization's pools.",
            BillingModel.USD: "Bring-your-own-model: AI usage is billed in dollars "
            "against the monthly spend cap (ai_spend_usd); amounts are dollars.",
        },
    ),
    BillingState: (
        "How an organization pays.",
        {
            BillingState.NONE: "No billing set up: workspaces cannot be created "
            "(NO_BILLING).",
            BillingState.TRIAL: "On trial: workspaces may be created once the trial "
            "is approved.",
            BillingState.PAID: "Invoiced by the provider.",
            BillingState.PREPAID: "Draws prepaid balances: workspace time and managed "
            "AI must both be above zero to create workspaces.",
        },
    ),
    SubscriptionStatus: (
        "The subscription's status at the provider.",
        {
            SubscriptionStatus.ACTIVE: "Paid and current.",
            SubscriptionStatus.TRIALING: "In the provider's trial period.",
            SubscriptionStatus.PAST_DUE: "A payment failed: workspaces cannot be "
            "created, and AI events are denied once the retries are exhausted.",
            SubscriptionStatus.CANCELED: "Ended at the provider: the Upgrade button "
            "leads nowhere (except on FREE).",
        },
    ),
    CreditPoolKind: (
        "MONTHLY resets every cycle; BONUS never resets but may expire; "
        "PURCHASED is the prepaid overage balance.",
        {
            CreditPoolKind.MONTHLY: "The plan's credits for this cycle (monthly plus "
            "per seat); drawn first, reset every cycle.",
            CreditPoolKind.BONUS: "A granted extra; drawn after MONTHLY, earliest "
            "expiry first.",
            CreditPoolKind.PURCHASED: "Prepaid overage credits; drawn last.",
        },
    ),
    CreditUnit: (
        "What credit amounts count.",
        {
            CreditUnit.CREDITS: "Credits, as plans grant and price them.",
            CreditUnit.USD: "US dollars (bring-your-own-model organizations); shown "
            "only with billing:read:dollars.",
        },
    ),
    CreditPrompt: (
        "UPGRADE from 75 % used (always on free plans); REFERRAL from 50 %.",
        {
            CreditPrompt.UPGRADE: "Suggest upgrading: 75 % of the credits are spent, "
            "or the plan is FREE.",
            CreditPrompt.REFERRAL: "Suggest referring others for credits: 50 % are "
            "spent.",
        },
    ),
    UpgradeTarget: (
        "Where Upgrade leads.",
        {
            UpgradeTarget.SIGNUP_WIZARD: "The signup wizard, to pick a paid plan "
            "(FREE plans).",
            UpgradeTarget.BILLING_SETTINGS: "Billing settings, to change the plan "
            "(active paid plans, ADMIN and above).",
        },
    ),
    UsageSource: (
        "Where usage came from.",
        {
            UsageSource.WEB: "The web app.",
            UsageSource.CLI: "The command-line tool.",
            UsageSource.API: "The API; also events that name no source.",
        },
    ),
    AiFeature: (
        "An AI budget category.",
        {
            AiFeature.EMAIL: "AI-written emails.",
            AiFeature.CHIPS: "AI suggestion chips.",
            AiFeature.SUMMARY: "AI summaries.",
            AiFeature.AGENT: "AI agent runs.",
            AiFeature.COACHING: "AI coaching.",
            AiFeature.CHAT: "AI chat.",
        },
    ),
    ModelTier: (
        "A model price tier, set per model with setModelPrice.",
        {
            ModelTier.ADVANCED_REASONING: "Advanced reasoning models, as a rule the "
            "priciest.",
            ModelTier.STANDARD: "General-purpose models.",
            ModelTier.FAST: "Quicker, cheaper models.",
            ModelTier.LIGHT: "The smallest, cheapest models.",
        },
    ),
    UsageRange: (
        "A usage chart's range, ending at `at`.",
        {
            UsageRange.LAST_24_HOURS: "24 hourly buckets.",
            UsageRange.LAST_7_DAYS: "7 daily buckets.",
            UsageRange.LAST_30_DAYS: "Weekly buckets (from Monday) covering the last "
            "30 days.",
        },
    ),
    Granularity: (
        "A chart bucket's width (UTC).",
        {
            Granularity.HOUR: "One hour.",
            Granularity.DAY: "One day, from midnight.",
            Granularity.WEEK: "One week, from Monday midnight.",
        },
    ),
    UsageStatus: (
        "What became of an event.",
        {
            UsageStatus.ACCEPTED: "Recorded and counted.",
            UsageStatus.DUPLICATE: "Its idempotencyKey was recorded before: counted "
            "once, not again.",
            UsageStatus.DENIED: "Refused by the plan's rules (see code); nothing "
            "counted.",
            UsageStatus.INVALID: "Malformed or out of range; nothing counted.",
        },
    ),
    UsageDecisionCode: (
        "Why usage is allowed or denied.",
        {
            UsageDecisionCode.ALLOWED: "Within every limit and pool.",
            UsageDecisionCode.LIMIT_REACHED: "It would pass a HARD limit.",
            UsageDecisionCode.SOFT_LIMIT_REACHED: "It would pass 110 % of a SOFT "
            "limit.",
            UsageDecisionCode.CREDITS_EXHAUSTED: "The credit pools cannot pay for it.",
            UsageDecisionCode.SPEND_CAP_REACHED: "It would pass a bring-your-own-model "
            "organization's monthly AI spend cap.",
            UsageDecisionCode.PERSONAL_ALLOCATION_EXCEEDED: "It would pass the user's "
            "personal allocation on the meter.",
            UsageDecisionCode.AI_ACCESS_PAUSED: "An AI event while AI access is paused "
            "(past due, payment retries exhausted).",
            UsageDecisionCode.NOT_ALLOWED_ON_PLAN: "An operation the plan does not "
            "include (free units 0).",
            UsageDecisionCode.INVALID: "The event is malformed or out of range.",
        },
    ),
    AllowanceStatus: (
        "The daily allowance against its limit.",
        {
            AllowanceStatus.WITHIN_LIMIT: "At or below the daily limit.",
            AllowanceStatus.OVER_LIMIT: "Above the daily limit.",
            AllowanceStatus.UNLIMITED: "The plan sets no daily limit.",
        },
    ),
    PricingCoverage: (
        "Whether every AI event in a window was priced.",
        {
            PricingCoverage.COMPLETE: "Every AI event in the window was priced.",
            PricingCoverage.PARTIAL: "Some AI events could not be priced yet (e.g. a "
            "model without prices): costs are too low.",
        },
    ),
    ReconciliationStatus: (
        "Managed AI usage reconciliation.",
        {
            ReconciliationStatus.NOT_CONFIGURED: "Not set up for this organization.",
            ReconciliationStatus.PENDING: "Set up, awaiting reconciliation with the "
            "provider.",
            ReconciliationStatus.RECONCILED: "Reconciled with the provider (see "
            "lastReconciledAt).",
            ReconciliationStatus.MISMATCH: "The provider's managed AI usage and ours "
            "disagree.",
        },
    ),
    WorkspaceCreationReason: (
        "What blocks creating workspaces.",
        {
            WorkspaceCreationReason.NO_BILLING: "No billing set up (billingState "
            "NONE).",
            WorkspaceCreationReason.TRIAL_NOT_APPROVED: "On TRIAL, not yet approved.",
            WorkspaceCreationReason.WORKSPACE_TIME_UNFUNDED: "PREPAID without "
            "workspace time left.",
            WorkspaceCreationReason.MANAGED_AI_UNFUNDED: "PREPAID without managed AI "
            "balance left.",
            WorkspaceCreationReason.PAYMENT_PAST_DUE: "The subscription is PAST_DUE.",
        },
    ),
    ApiKeyKind: (
        "What an API key may do.",
        {
            ApiKeyKind.OPERATOR: "Everything, in every organization: provisioning, "
            "keys, reads.",
            ApiKeyKind.SERVICE: "A metering service of one organization: reads it as "
            "an ADMIN would, checks and records usage.",
            ApiKeyKind.PARTNER: "Reads the billing state of the organizations it "
            "lists, nothing else.",
        },
    ),
    ViewerKind: (
        "Who is asking.",
        {
            ViewerKind.USER: "A signed-in person (a bearer token).",
            ViewerKind.OPERATOR: "An OPERATOR API key.",
            ViewerKind.SERVICE: "A SERVICE API key.",
            ViewerKind.PARTNER: "A PARTNER API key.",
        },
    ),
}

for _enum, (_description, _values) in _DESCRIPTIONS.items():
    strawberry.enum(_enum, description=_description)
    _definition = getattr(_enum, "__strawberry_definition__")  # noqa: B009
    assert isinstance(_definition, StrawberryEnumDefinition)
    for _value in _definition.values:
        # Keyed by member (not by value: CreditUnit.USD == BillingModel.USD).
        _value.description = _values.get(_enum[_value.name])

__all__ = [
    "AiFeature",
    "AllowanceStatus",
    "ApiKeyKind",
    "BillingModel",
    "BillingState",
    "CreditPoolKind",
    "CreditPrompt",
    "CreditUnit",
    "Enforcement",
    "Granularity",
    "MeterCategory",
    "ModelTier",
    "PlanTier",
    "PricingCoverage",
    "ReconciliationStatus",
    "Resets",
    "Role",
    "SeatStatus",
    "SeatType",
    "SubscriptionStatus",
    "UpgradeTarget",
    "UsageDecisionCode",
    "UsageLevel",
    "UsageRange",
    "UsageSource",
    "UsageStatus",
    "ViewerKind",
    "WorkspaceCreationReason",
]
