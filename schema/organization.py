"""The Organization type: every field of the usage page hangs off it.

Fields read the organization's `OrgScope` (row, instant `at`, the viewer's access);
what each field does lives in `resolvers/`.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from auth.permissions import Permission
from resolvers import billing, members
from resolvers.access import OrgScope
from resolvers.context import Info
from schema.enums import (
    BillingModel,
    BillingState,
    MeterCategory,
    Role,
    SeatStatus,
    UsageRange,
)
from schema.errors import NotAvailableYet
from schema.types.billing import (
    BillingCycle,
    Plan,
    PlanActions,
    Reconciliation,
    Seats,
    Subscription,
    WorkspaceCreation,
)
from schema.types.members import MemberConnection
from schema.types.meters import Meter
from schema.types.reports import Analytics, DailyAllowancePanel, TopConnection
from schema.types.usage import AiBudget, Credits, MyUsage, OperationUsage, UsageSeries
from schema.types.viewer import ViewerCan


@strawberry.type(description="An organization's usage and billing state, as of `at`.")
class Organization:
    scope: strawberry.Private[OrgScope]

    @strawberry.field(description="The organization's id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.scope.id)

    @strawberry.field(description="The organization's name.")
    def name(self) -> str:
        return self.scope.organization.name

    @strawberry.field(description="CREDITS, or USD for bring-your-own-model billing.")
    def billing_model(self) -> BillingModel:
        return self.scope.organization.billing_model

    @strawberry.field(description="How the organization pays.")
    def billing_state(self) -> BillingState:
        return self.scope.organization.billing_state

    @strawberry.field(
        description="True when a past-due payment's retries are exhausted: every AI "
        "event is denied."
    )
    async def ai_access_paused(self, info: Info) -> bool:
        return await billing.ai_access_paused(info, self.scope)

    @strawberry.field(description="The viewer's role here; null for API keys.")
    def viewer_role(self) -> Role | None:
        return self.scope.access.role

    @strawberry.field(description="What the viewer will get, so clients can hide UI.")
    def viewer_can(self) -> ViewerCan:
        access = self.scope.access
        return ViewerCan(
            view_dollars=access.can(Permission.BILLING_READ_DOLLARS),
            view_billing_details=access.can(Permission.BILLING_READ_ALL),
            view_analytics=access.can(Permission.ANALYTICS_READ),
            manage_seats=access.can(Permission.SEATS_WRITE),
            manage_plan=access.can(Permission.PLAN_MANAGE),
        )

    @strawberry.field(description="The subscription's plan; null without one.")
    async def plan(self, info: Info) -> Plan | None:
        return await billing.plan(info, self.scope)

    @strawberry.field(description="Where the Upgrade and Manage Plan buttons lead.")
    async def plan_actions(self, info: Info) -> PlanActions:
        return await billing.plan_actions(info, self.scope)

    @strawberry.field(description="The subscription as synced from the provider.")
    async def subscription(self, info: Info) -> Subscription | None:
        return await billing.subscription(info, self.scope)

    @strawberry.field(
        description="The billing cycle containing `at`; null without one."
    )
    async def cycle(self, info: Info) -> BillingCycle | None:
        return await billing.cycle(info, self.scope)

    @strawberry.field(description="Seats paid for and allocated; null without one.")
    async def seats(self, info: Info) -> Seats | None:
        return await billing.seats(info, self.scope)

    @strawberry.field(
        description="Meters the plan limits or that have usage this cycle, in catalog "
        "order; `keys` returns exactly those named, `category` those of one family."
    )
    async def meters(
        self,
        info: Info,
        keys: list[str] | None = None,
        category: MeterCategory | None = None,
    ) -> list[Meter]:
        raise NotAvailableYet("Organization.meters")

    @strawberry.field(description="Credits this cycle, by pool, with projections.")
    async def credits(self, info: Info) -> Credits | None:
        raise NotAvailableYet("Organization.credits")

    @strawberry.field(description="Operations used this cycle, by credits spent.")
    async def usage_by_operation(self, info: Info) -> list[OperationUsage]:
        raise NotAvailableYet("Organization.usageByOperation")

    @strawberry.field(description="The monthly AI budget by feature category.")
    async def ai_budget(self, info: Info) -> AiBudget | None:
        raise NotAvailableYet("Organization.aiBudget")

    @strawberry.field(
        description="The worker-synced daily AI allowance; null without "
        "billing:read:all or the allowanceUiDetails flag."
    )
    async def daily_allowance(self, info: Info) -> DailyAllowancePanel | None:
        raise NotAvailableYet("Organization.dailyAllowance")

    @strawberry.field(description="The viewer's own usage and personal allocations.")
    async def my_usage(self, info: Info) -> MyUsage | None:
        raise NotAvailableYet("Organization.myUsage")

    @strawberry.field(description="The seat directory, by name, Relay-style.")
    async def members(
        self,
        info: Info,
        search: str | None = None,
        role: Role | None = None,
        team: str | None = None,
        seat_status: SeatStatus | None = None,
        first: int | None = 25,
        after: str | None = None,
    ) -> MemberConnection:
        return await members.members(
            info, self.scope, search, role, team, seat_status, first, after
        )

    @strawberry.field(description="Credits (dollars for BYOM) over time, by source.")
    async def usage_series(self, info: Info, range: UsageRange) -> UsageSeries:
        raise NotAvailableYet("Organization.usageSeries")

    @strawberry.field(description="Workspaces ranked by credits this cycle.")
    async def top_workspaces(
        self, info: Info, first: int | None = 10, after: str | None = None
    ) -> TopConnection:
        raise NotAvailableYet("Organization.topWorkspaces")

    @strawberry.field(description="Workspace groups ranked by credits this cycle.")
    async def top_workspace_groups(
        self, info: Info, first: int | None = 10, after: str | None = None
    ) -> TopConnection:
        raise NotAvailableYet("Organization.topWorkspaceGroups")

    @strawberry.field(description="Users ranked by credits this cycle.")
    async def top_users(
        self, info: Info, first: int | None = 10, after: str | None = None
    ) -> TopConnection:
        raise NotAvailableYet("Organization.topUsers")

    @strawberry.field(description="Managed AI reconciliation status.")
    async def reconciliation(self, info: Info) -> Reconciliation:
        return await billing.reconciliation(info, self.scope)

    @strawberry.field(description="Whether workspaces may be created, and why not.")
    async def workspace_creation(self, info: Info) -> WorkspaceCreation:
        return await billing.workspace_creation(info, self.scope)

    @strawberry.field(description="Customer analytics for a period (ADMIN, operators).")
    async def analytics(
        self, info: Info, start: datetime, end: datetime
    ) -> Analytics | None:
        raise NotAvailableYet("Organization.analytics")
