"""Customers as the billing systems describe them: organizations, their
subscription (as the payment provider has it), their workspaces and groups, and the
managed-AI reconciliation state.

A subscription change that moves the billing cycles also marks which cycle rollups are
complete (`organizations.cycle_rollups_from`), so pages read hours where the cycle
rows were keyed by the old cycles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.amounts import MAX_CREDITS, MAX_SEATS
from rules.enums import (
    BillingModel,
    BillingState,
    ReconciliationStatus,
    SubscriptionStatus,
)
from store.decisions.events import FUTURE_TOLERANCE
from store.models import (
    Organization,
    Plan,
    Reconciliation,
    Subscription,
    UsageCycleRollup,
    Workspace,
    WorkspaceGroup,
)
from store.provisioning.checks import (
    INVALID,
    NOT_FOUND,
    Checks,
    clean_text,
    counters_changed,
    find_organization,
    locked_subscription,
)


@dataclass(frozen=True)
class OrganizationSpec:
    id: str
    name: str
    billing_model: BillingModel = BillingModel.CREDITS
    billing_state: BillingState = BillingState.NONE
    trial_approved: bool = False
    allowance_ui_details: bool = False
    show_dollars_preview: bool = False
    provider_project_id: str | None = None
    workspace_time_balance_hours: Decimal = Decimal(0)
    managed_ai_balance_usd: Decimal = Decimal(0)


@dataclass(frozen=True)
class SubscriptionSpec:
    organization_id: str
    plan_key: str
    seats: int
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    anchor: datetime | None = None
    """None keeps the stored anchor; a new subscription's cycles then start at `now`."""
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    payment_retries_exhausted: bool = False


@dataclass(frozen=True)
class WorkspaceSpec:
    organization_id: str
    id: str
    name: str
    group_id: str | None = None
    group_name: str | None = None
    """Renames the group when given; a new group without a name is named by its id."""


@dataclass(frozen=True)
class ReconciliationSpec:
    organization_id: str
    status: ReconciliationStatus
    managed_ai_usage_usd: Decimal | None = None
    reconciled_at: datetime | None = None


async def upsert_organization(
    session: AsyncSession, spec: OrganizationSpec, now: datetime
) -> Organization:
    """Create or change an organization; `created_at` is kept from its creation."""
    checks = Checks()
    checks.identifier("id", spec.id, 64)
    checks.text("name", spec.name, 200)
    if spec.provider_project_id is not None:
        checks.identifier("providerProjectId", spec.provider_project_id, 128)
    checks.amount(
        "workspaceTimeBalanceHours",
        spec.workspace_time_balance_hours,
        maximum=MAX_CREDITS,
    )
    checks.amount(
        "managedAiBalanceUsd", spec.managed_ai_balance_usd, maximum=MAX_CREDITS
    )
    checks.raise_if_any()

    organization = await session.get(Organization, spec.id)
    if organization is None:
        organization = Organization(id=spec.id, created_at=now)
        session.add(organization)
    organization.name = spec.name.strip()
    organization.billing_model = spec.billing_model
    organization.billing_state = spec.billing_state
    organization.trial_approved = spec.trial_approved
    organization.allowance_ui_details = spec.allowance_ui_details
    organization.show_dollars_preview = spec.show_dollars_preview
    organization.provider_project_id = spec.provider_project_id
    organization.workspace_time_balance_hours = spec.workspace_time_balance_hours
    organization.managed_ai_balance_usd = spec.managed_ai_balance_usd
    await session.flush()
    return organization


async def set_subscription(
    session: AsyncSession, spec: SubscriptionSpec, now: datetime
) -> Subscription:
    """Record the organization's subscription as the payment provider has it.

    This mirrors the provider, so it is not refused when the seats drop below the
    allocated count (a refused sync would also drop a PAST_DUE status); admins'
    `change_seats` is where SEATS_IN_USE applies. `updated_at` moves only when
    something changed, so a repeated sync is a no-op.
    """
    checks = Checks()
    await find_organization(session, checks, spec.organization_id)
    if checks.identifier("planKey", spec.plan_key, 64) and (
        await session.get(Plan, spec.plan_key) is None
    ):
        checks.fail("planKey", NOT_FOUND, f"no plan {spec.plan_key!r}")
    checks.count("seats", spec.seats, maximum=MAX_SEATS)
    checks.instant("anchor", spec.anchor)
    checks.instant("currentPeriodStart", spec.current_period_start)
    checks.instant("currentPeriodEnd", spec.current_period_end)
    start, end = spec.current_period_start, spec.current_period_end
    if (start is None) != (end is None):
        checks.fail(
            "currentPeriodEnd" if end is None else "currentPeriodStart",
            INVALID,
            "currentPeriodStart and currentPeriodEnd are given together",
        )
    elif start is not None and end is not None and not checks.errors and end <= start:
        checks.fail("currentPeriodEnd", INVALID, "the period must end after it starts")
    checks.raise_if_any()

    subscription = await locked_subscription(session, spec.organization_id)
    cycles_before = _cycles_of(subscription)
    if subscription is None:
        subscription = Subscription(
            organization_id=spec.organization_id, anchor=spec.anchor or now
        )
        session.add(subscription)
    elif spec.anchor is not None:
        subscription.anchor = spec.anchor
    subscription.plan_key = spec.plan_key
    subscription.seats = spec.seats
    subscription.status = spec.status
    subscription.current_period_start = spec.current_period_start
    subscription.current_period_end = spec.current_period_end
    subscription.payment_retries_exhausted = spec.payment_retries_exhausted
    if subscription.updated_at is None or session.is_modified(subscription):
        subscription.updated_at = now
        await counters_changed(session, spec.organization_id)  # cycles may move
    if _cycles_of(subscription) != cycles_before:
        await _cycle_rollups_changed(session, spec.organization_id, now)
    await session.flush()
    return subscription


def _cycles_of(
    subscription: Subscription | None,
) -> tuple[datetime | None, datetime | None, datetime | None] | None:
    """What defines an organization's billing cycles (None: calendar months)."""
    if subscription is None:
        return None
    return (
        subscription.anchor,
        subscription.current_period_start,
        subscription.current_period_end,
    )


async def _cycle_rollups_changed(
    session: AsyncSession, organization_id: str, now: datetime
) -> None:
    """The cycles moved: cycle rows written so far are keyed by the old ones, so
    only cycles starting after every such event (stamped up to five minutes ahead)
    are complete. Without usage yet there is nothing to redo."""
    recorded = await session.scalar(
        select(exists().where(UsageCycleRollup.organization_id == organization_id))
    )
    if not recorded:
        return
    organization = await session.get(Organization, organization_id)
    assert organization is not None  # checked by `find_organization`
    complete_from = now + FUTURE_TOLERANCE
    if (
        organization.cycle_rollups_from is None
        or organization.cycle_rollups_from < complete_from
    ):
        organization.cycle_rollups_from = complete_from


async def upsert_workspace(session: AsyncSession, spec: WorkspaceSpec) -> Workspace:
    """Create or change a workspace; no group id takes it out of its group."""
    checks = Checks()
    await find_organization(session, checks, spec.organization_id)
    checks.identifier("id", spec.id, 64)
    checks.text("name", spec.name, 200)
    if spec.group_id is not None:
        checks.identifier("groupId", spec.group_id, 64)
    if spec.group_name is not None:
        checks.text("groupName", spec.group_name, 200)
        if spec.group_id is None:
            checks.fail("groupName", INVALID, "a group name needs a groupId")
    checks.raise_if_any()

    if spec.group_id is not None:
        group = await session.get(WorkspaceGroup, (spec.organization_id, spec.group_id))
        if group is None:
            group = WorkspaceGroup(
                organization_id=spec.organization_id,
                id=spec.group_id,
                name=clean_text(spec.group_name) or spec.group_id,
            )
            session.add(group)
        elif spec.group_name is not None:
            group.name = spec.group_name.strip()
    workspace = await session.get(Workspace, (spec.organization_id, spec.id))
    if workspace is None:
        workspace = Workspace(organization_id=spec.organization_id, id=spec.id)
        session.add(workspace)
    workspace.name = spec.name.strip()
    workspace.group_id = spec.group_id
    await session.flush()
    return workspace


async def set_reconciliation(
    session: AsyncSession, spec: ReconciliationSpec
) -> Reconciliation:
    """Record the managed-AI reconciliation state reported for an organization."""
    checks = Checks()
    await find_organization(session, checks, spec.organization_id)
    checks.amount("managedAiUsageUsd", spec.managed_ai_usage_usd, maximum=MAX_CREDITS)
    checks.instant("reconciledAt", spec.reconciled_at)
    checks.raise_if_any()

    row = await session.get(Reconciliation, spec.organization_id)
    if row is None:
        row = Reconciliation(organization_id=spec.organization_id)
        session.add(row)
    row.status = spec.status
    row.managed_ai_usage_usd = spec.managed_ai_usage_usd
    row.reconciled_at = spec.reconciled_at
    await session.flush()
    return row
