"""The domain's enums, exposed to GraphQL under the same names (see rules.enums)."""

from __future__ import annotations

import strawberry

from rules import enums

MeterCategory = strawberry.enum(enums.MeterCategory, description="A family of meters.")
Resets = strawberry.enum(
    enums.Resets,
    description="CYCLE: counts only the current billing cycle; NEVER: cumulative.",
)
Enforcement = strawberry.enum(
    enums.Enforcement,
    description="HARD: denied at the limit; SOFT: 10 % overage; NONE: never denied.",
)
UsageLevel = strawberry.enum(
    enums.UsageLevel,
    description="NORMAL below 80 %, WARNING from 80 %, CRITICAL from 90 %, "
    "EXCEEDED from 100 % of the limit.",
)
PlanTier = strawberry.enum(enums.PlanTier, description="A plan's tier.")
Role = strawberry.enum(
    enums.Role,
    description="Roles in an organization: MEMBER < MANAGER < ADMIN < SUPER_ADMIN.",
)
SeatType = strawberry.enum(enums.SeatType, description="A kind of paid seat.")
SeatStatus = strawberry.enum(
    enums.SeatStatus, description="Whether a member has a seat."
)
BillingModel = strawberry.enum(
    enums.BillingModel,
    description="CREDITS: usage draws credits; USD: bring-your-own-model, billed in "
    "dollars against a monthly spend cap.",
)
BillingState = strawberry.enum(
    enums.BillingState, description="How an organization pays."
)
SubscriptionStatus = strawberry.enum(
    enums.SubscriptionStatus, description="The subscription's status at the provider."
)
CreditPoolKind = strawberry.enum(
    enums.CreditPoolKind,
    description="MONTHLY resets every cycle; BONUS never resets but may expire; "
    "PURCHASED is the prepaid overage balance.",
)
CreditUnit = strawberry.enum(enums.CreditUnit, description="What credit amounts count.")
CreditPrompt = strawberry.enum(
    enums.CreditPrompt,
    description="UPGRADE from 75 % used (always on free plans); REFERRAL from 50 %.",
)
UpgradeTarget = strawberry.enum(enums.UpgradeTarget, description="Where Upgrade leads.")
UsageSource = strawberry.enum(enums.UsageSource, description="Where usage came from.")
AiFeature = strawberry.enum(enums.AiFeature, description="An AI budget category.")
ModelTier = strawberry.enum(enums.ModelTier, description="A model price tier.")
UsageRange = strawberry.enum(enums.UsageRange, description="A usage chart's range.")
Granularity = strawberry.enum(enums.Granularity, description="A chart bucket's width.")
UsageStatus = strawberry.enum(enums.UsageStatus, description="What became of an event.")
UsageDecisionCode = strawberry.enum(
    enums.UsageDecisionCode, description="Why usage is allowed or denied."
)
AllowanceStatus = strawberry.enum(
    enums.AllowanceStatus, description="The daily allowance against its limit."
)
PricingCoverage = strawberry.enum(
    enums.PricingCoverage, description="Whether every AI event in a window was priced."
)
ReconciliationStatus = strawberry.enum(
    enums.ReconciliationStatus, description="Managed AI usage reconciliation."
)
WorkspaceCreationReason = strawberry.enum(
    enums.WorkspaceCreationReason, description="What blocks creating workspaces."
)
ApiKeyKind = strawberry.enum(enums.ApiKeyKind, description="What an API key may do.")
ViewerKind = strawberry.enum(enums.ViewerKind, description="Who is asking.")
