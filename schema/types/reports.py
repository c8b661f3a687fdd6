"""Ranked tables, the daily allowance panel and analytics."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from schema.enums import AllowanceStatus, BillingState, PricingCoverage
from schema.types.billing import Reconciliation, WorkspaceCreation
from schema.types.common import PageInfo, Quantity


@strawberry.type(description="A ranked row: a workspace, group or user.")
class TopEntry:
    id: strawberry.ID = strawberry.field(description="The ranked thing's id.")
    name: str = strawberry.field(description="Its name.")
    amount: Decimal = strawberry.field(
        description="Credits spent this cycle (dollars for BYOM)."
    )
    requests: int = strawberry.field(description="Events recorded this cycle.")
    share_percent: int = strawberry.field(description="Share of the total, rounded.")


@strawberry.type(description="A ranked row with its cursor.")
class TopEdge:
    cursor: str = strawberry.field(description="Opaque position.")
    node: TopEntry = strawberry.field(description="The row.")


@strawberry.type(description="A ranked table, Relay-style (Show More = next page).")
class TopConnection:
    total_count: int = strawberry.field(description="Rows in the whole table.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    edges: list[TopEdge] = strawberry.field(description="This page, highest first.")


@strawberry.type(description="A Data Lake definition ranked by cost.")
class DefinitionCost:
    definition_id: strawberry.ID = strawberry.field(description="The definition's id.")
    name: str | None = strawberry.field(description="The definition's name.")
    relative_cost_percent: int = strawberry.field(
        description="100 for the most expensive, others relative to it."
    )


@strawberry.type(description="What the last daily-allowance sync saw.")
class AllowanceSnapshot:
    status: AllowanceStatus = strawberry.field(description="Against the limit.")
    coverage: PricingCoverage = strawberry.field(description="Pricing coverage.")
    usage_percent: float | None = strawberry.field(
        description="Used ÷ limit × 100; null when unlimited."
    )
    window_start: datetime = strawberry.field(description="24 h before the sync.")
    window_end: datetime = strawberry.field(description="The sync time.")
    last_synced_at: datetime = strawberry.field(description="When it was taken.")
    unpriced_event_count: int = strawberry.field(
        description="AI events in the window that could not be priced."
    )
    top_definitions: list[DefinitionCost] = strawberry.field(
        description="Up to 25 definitions by cost over 48 h."
    )


@strawberry.type(description="The daily AI allowance panel.")
class DailyAllowancePanel:
    message: str | None = strawberry.field(
        description="Why the snapshot is missing or partial; null otherwise."
    )
    snapshot: AllowanceSnapshot | None = strawberry.field(
        description="The latest snapshot; null before the first sync."
    )


@strawberry.type(description="Customer analytics for a period.")
class Analytics:
    workspace_runtime_hours: Decimal = strawberry.field(
        description="Workspace runtime in the period."
    )
    managed_ai_usage: Quantity | None = strawberry.field(
        description="Reconciled managed AI usage; null until configured."
    )
    reconciliation: Reconciliation = strawberry.field(description="Reconciliation.")
    billing_state: BillingState = strawberry.field(description="Billing state.")
    workspace_creation: WorkspaceCreation = strawberry.field(
        description="Workspace-creation readiness."
    )
    provider_project_id: str | None = strawberry.field(
        description="The provider project id (operators only; null for customers)."
    )
