"""Billing readiness: AI access, workspace creation and the plan buttons."""

from __future__ import annotations

from decimal import Decimal

from rules.enums import (
    BillingState,
    PlanTier,
    SubscriptionStatus,
    UpgradeTarget,
    WorkspaceCreationReason,
)


def ai_access_paused(
    status: SubscriptionStatus | None, payment_retries_exhausted: bool
) -> bool:
    """Past due alone keeps AI on while the provider retries; exhausted pauses it."""
    return status is SubscriptionStatus.PAST_DUE and payment_retries_exhausted


def workspace_creation_blockers(
    billing_state: BillingState,
    trial_approved: bool,
    workspace_time_balance_hours: Decimal,
    managed_ai_balance_usd: Decimal,
    subscription_status: SubscriptionStatus | None,
) -> list[WorkspaceCreationReason]:
    """What stops an organization creating workspaces; empty means allowed.

    PAID access or an approved TRIAL may create; PREPAID needs both balances positive;
    a past-due payment blocks every state.
    """
    reasons: list[WorkspaceCreationReason] = []
    if billing_state is BillingState.NONE:
        reasons.append(WorkspaceCreationReason.NO_BILLING)
    elif billing_state is BillingState.TRIAL and not trial_approved:
        reasons.append(WorkspaceCreationReason.TRIAL_NOT_APPROVED)
    elif billing_state is BillingState.PREPAID:
        if workspace_time_balance_hours <= 0:
            reasons.append(WorkspaceCreationReason.WORKSPACE_TIME_UNFUNDED)
        if managed_ai_balance_usd <= 0:
            reasons.append(WorkspaceCreationReason.MANAGED_AI_UNFUNDED)
    if subscription_status is SubscriptionStatus.PAST_DUE:
        reasons.append(WorkspaceCreationReason.PAYMENT_PAST_DUE)
    return reasons


def upgrade_target(
    tier: PlanTier | None, subscription_active: bool, is_admin: bool
) -> UpgradeTarget | None:
    """Where the Upgrade button leads, or None when it is hidden.

    FREE plans lead anyone to the signup wizard; other active plans lead ADMIN and above
    to billing settings; ULTRA has nothing to upgrade to.
    """
    if tier is None or tier is PlanTier.ULTRA:
        return None
    if tier is PlanTier.FREE:
        return UpgradeTarget.SIGNUP_WIZARD
    if subscription_active and is_admin:
        return UpgradeTarget.BILLING_SETTINGS
    return None
