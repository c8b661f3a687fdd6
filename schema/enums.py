"""The domain's enums, registered with GraphQL under the same names.

`strawberry.enum` decorates the `rules.enums` classes in place, so the schema, the
resolvers and the store all handle the very same enum objects.
"""

from __future__ import annotations

from enum import Enum

import strawberry

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

_DESCRIPTIONS: dict[type[Enum], str] = {
    MeterCategory: "A family of meters.",
    Resets: "CYCLE: counts only the current billing cycle; NEVER: cumulative.",
    Enforcement: "HARD: denied at the limit; SOFT: 10 % overage; NONE: never denied.",
    UsageLevel: "NORMAL below 80 %, WARNING from 80 %, CRITICAL from 90 %, "
    "EXCEEDED from 100 % of the limit.",
    PlanTier: "A plan's tier.",
    Role: "Roles in an organization: MEMBER < MANAGER < ADMIN < SUPER_ADMIN.",
    SeatType: "A kind of paid seat.",
    SeatStatus: "Whether a member has a seat.",
    BillingModel: "CREDITS: usage draws credits; USD: bring-your-own-model, billed in "
    "dollars against a monthly spend cap.",
    BillingState: "How an organization pays.",
    SubscriptionStatus: "The subscription's status at the provider.",
    CreditPoolKind: "MONTHLY resets every cycle; BONUS never resets but may expire; "
    "PURCHASED is the prepaid overage balance.",
    CreditUnit: "What credit amounts count.",
    CreditPrompt: "UPGRADE from 75 % used (always on free plans); REFERRAL from 50 %.",
    UpgradeTarget: "Where Upgrade leads.",
    UsageSource: "Where usage came from.",
    AiFeature: "An AI budget category.",
    ModelTier: "A model price tier.",
    UsageRange: "A usage chart's range.",
    Granularity: "A chart bucket's width.",
    UsageStatus: "What became of an event.",
    UsageDecisionCode: "Why usage is allowed or denied.",
    AllowanceStatus: "The daily allowance against its limit.",
    PricingCoverage: "Whether every AI event in a window was priced.",
    ReconciliationStatus: "Managed AI usage reconciliation.",
    WorkspaceCreationReason: "What blocks creating workspaces.",
    ApiKeyKind: "What an API key may do.",
    ViewerKind: "Who is asking.",
}

for _enum, _description in _DESCRIPTIONS.items():
    strawberry.enum(_enum, description=_description)

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
