"""The Organization type: every field of the usage page hangs off it.

Fields read the organization's `OrgScope` (row, instant `at`, the viewer's access);
what each field does lives in `resolvers/`. The meter and credits types are built in
`schema.usage_views`, the top tables' connections in `schema.tops`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from auth.permissions import Permission
from resolvers import allowance, analytics, billing, breakdowns, members, trends, usage
from resolvers.access import Access, OrgScope
from resolvers.context import Info
from resolvers.pagination import MAX_PAGE_SIZE
from rules import display
from rules import meters as meter_rules
from rules.enums import CreditUnit
from schema.enums import (
    BillingModel,
    BillingState,
    MeterCategory,
    Role,
    SeatStatus,
    UsageRange,
)
from schema.permissions import (
    HasAllowancePanel,
    ReadsAnalytics,
    ReadsBillingDetails,
    ReadsDollarsOfByom,
    ReadsUsage,
    redacted,
    sees_dollars,
    shown,
)
from schema.tops import top_connection
from schema.types.billing import (
    BillingCycle,
    Plan,
    PlanActions,
    Reconciliation,
    Seats,
    Subscription,
    WorkspaceCreation,
)
from schema.types.common import Quantity
from schema.types.members import MemberConnection
from schema.types.meters import Meter
from schema.types.reports import Analytics, DailyAllowancePanel, TopConnection
from schema.types.usage import (
    AiBudget,
    AiBudgetCategory,
    Credits,
    MyUsage,
    OperationUsage,
    PersonalMeter,
    UsagePoint,
    UsageSeries,
)
from schema.types.viewer import ViewerCan
from schema.usage_views import credits_type, meter_type

FIRST = f"How many rows this page holds, 0 to {MAX_PAGE_SIZE}."
AFTER = "The previous page's `endCursor`: this page starts after it; absent = the top."


@strawberry.type(description="An organization's usage and billing state, as of `at`.")
class Organization:
    scope: strawberry.Private[OrgScope]

    @property
    def access(self) -> Access:
        return self.scope.access

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

    @strawberry.field(
        description="The viewer's role here; null for API keys.",
        permission_classes=[ReadsUsage],
    )
    def viewer_role(self) -> Role | None:
        return self.scope.access.role

    @strawberry.field(
        description="What the viewer will get, so clients can hide UI.",
        permission_classes=[ReadsUsage],
    )
    def viewer_can(self) -> ViewerCan:
        access = self.scope.access
        return ViewerCan(
            view_dollars=access.can(Permission.BILLING_READ_DOLLARS),
            view_billing_details=access.can(Permission.BILLING_READ_ALL),
            view_analytics=access.can(Permission.ANALYTICS_READ),
            manage_seats=access.can(Permission.SEATS_WRITE),
            manage_plan=access.can(Permission.PLAN_MANAGE),
        )

    @strawberry.field(
        description="The subscription's plan; null without one.",
        permission_classes=[ReadsUsage],
    )
    async def plan(self, info: Info) -> Plan | None:
        return await billing.plan(info, self.scope)

    @strawberry.field(
        description="Where the Upgrade and Manage Plan buttons lead.",
        permission_classes=[ReadsUsage],
    )
    async def plan_actions(self, info: Info) -> PlanActions:
        return await billing.plan_actions(info, self.scope)

    @strawberry.field(description="The subscription as synced from the provider.")
    async def subscription(self, info: Info) -> Subscription | None:
        return await billing.subscription(info, self.scope)

    @strawberry.field(
        description="The billing cycle containing `at`; null without one.",
        permission_classes=[ReadsUsage],
    )
    async def cycle(self, info: Info) -> BillingCycle | None:
        return await billing.cycle(info, self.scope)

    @strawberry.field(
        description="Seats paid for and allocated; null without one.",
        permission_classes=[ReadsUsage],
    )
    async def seats(self, info: Info) -> Seats | None:
        return await billing.seats(info, self.scope)

    @strawberry.field(
        description="Meters the plan limits or that have usage this cycle, in catalog "
        "order; `keys` returns exactly those named, `category` those of one family.",
        permission_classes=[ReadsUsage],
    )
    async def meters(
        self,
        info: Info,
        keys: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Exactly these meters, in the order named, limited or "
                "not (an unknown key is BAD_USER_INPUT); absent = the limited or used "
                "ones."
            ),
        ] = None,
        category: Annotated[
            MeterCategory | None,
            strawberry.argument(description="Only meters of this family."),
        ] = None,
    ) -> list[Meter]:
        base, states = await usage.meter_states(info, self.scope)
        listed = usage.listed(base, states, keys, category)
        months = trends.trend_months(info)
        sums = await trends.trend_sums(info, self.scope, months) if months else {}
        return [meter_type(self.scope, state, sums) for state in listed]

    @strawberry.field(description="Credits this cycle, by pool, with projections.")
    async def credits(self, info: Info) -> Credits | None:
        summary = await usage.credit_summary(info, self.scope)
        return None if summary is None else credits_type(summary, self.access)

    @strawberry.field(
        description="Operations used this cycle, by credits spent.",
        permission_classes=[ReadsUsage],
    )
    async def usage_by_operation(self, info: Info) -> list[OperationUsage]:
        return [
            OperationUsage(
                operation_type=row.meter.key,
                label=row.meter.label,
                unit_label=row.meter.unit_label,
                units=row.totals.quantity,
                display_units=display.display_units(
                    row.totals.quantity, row.meter.display_multiplier
                ),
                free_units_used=row.totals.free_units_used,
                free_allowance=row.free_allowance,
                credits_spent=row.totals.credits,
                share_percent=row.share_percent,
                free_allowance_hint=row.hint,
            )
            for row in await usage.operation_rows(info, self.scope)
        ]

    @strawberry.field(
        description="The monthly AI budget by feature category.",
        permission_classes=[ReadsUsage],
    )
    async def ai_budget(self, info: Info) -> AiBudget | None:
        view = await breakdowns.ai_budget(info, self.scope)
        if view is None:
            return None
        dollars = sees_dollars(self.access)  # else dollar amounts are null, no error
        return AiBudget(
            percent_used=view.percent_used,
            resets_at=view.resets_at,
            spent_usd=shown(view.spent_usd, dollars),
            limit_usd=shown(view.limit_usd, dollars),
            credit_balance=view.credit_balance,
            categories=[
                AiBudgetCategory(
                    category=row.category,
                    tier_label=row.tier,
                    percent=row.percent,
                    spent_usd=shown(row.spent_usd, dollars),
                    access=self.access,
                )
                for row in view.categories
            ],
            access=self.access,
        )

    @strawberry.field(
        description="The worker-synced daily AI allowance; null without "
        "billing:read:all or the allowanceUiDetails flag.",
        permission_classes=[ReadsUsage],
        extensions=redacted(ReadsBillingDetails(), HasAllowancePanel()),
    )
    async def daily_allowance(self, info: Info) -> DailyAllowancePanel | None:
        return await allowance.daily_allowance(info, self.scope)

    @strawberry.field(
        description="The viewer's own usage and personal allocations.",
        permission_classes=[ReadsUsage],
    )
    async def my_usage(self, info: Info) -> MyUsage | None:
        views = await breakdowns.my_meters(info, self.scope)
        if views is None:
            return None
        return MyUsage(
            meters=[
                PersonalMeter(
                    key=view.key,
                    label=view.label,
                    used=view.used,
                    limit=view.limit,
                    shares_org_pool=view.shares_org_pool,
                    caption=usage.SHARED_POOL_CAPTION if view.shares_org_pool else None,
                    level=meter_rules.level(view.used, view.limit),
                )
                for view in views
            ]
        )

    @strawberry.field(
        description="The seat directory, by name, Relay-style; null without "
        "billing:read:all.",
        permission_classes=[ReadsUsage],
        extensions=redacted(ReadsBillingDetails()),
    )
    async def members(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Part of a name or email, any case; absent = everyone."
            ),
        ] = None,
        role: Annotated[
            Role | None, strawberry.argument(description="Only members of this role.")
        ] = None,
        team: Annotated[
            str | None,
            strawberry.argument(description="Only members of the team of this name."),
        ] = None,
        seat_status: Annotated[
            SeatStatus | None,
            strawberry.argument(description="Only members with (or without) a seat."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 25,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> MemberConnection | None:
        return await members.members(
            info, self.scope, search, role, team, seat_status, first, after
        )

    @strawberry.field(
        description="Credits (dollars for BYOM, null without billing:read:dollars) "
        "over time, by source.",
        permission_classes=[ReadsUsage],
        extensions=redacted(ReadsDollarsOfByom()),
    )
    async def usage_series(
        self,
        info: Info,
        range: Annotated[
            UsageRange,
            strawberry.argument(
                description="How far back from `at` the chart goes, and so its "
                "buckets' width."
            ),
        ],
    ) -> UsageSeries | None:
        unit, granularity, points = await breakdowns.usage_series(
            info, self.scope, range
        )
        if unit is CreditUnit.USD and not usage.can_see_dollars(self.scope):
            return None
        return UsageSeries(
            unit=unit,
            granularity=granularity,
            points=[
                UsagePoint(
                    start=point.start,
                    web=point.web,
                    cli=point.cli,
                    api=point.api,
                    total=point.total,
                )
                for point in points
            ],
        )

    @strawberry.field(
        description="Workspaces ranked by credits this cycle; null without "
        "billing:read:all.",
        permission_classes=[ReadsUsage],
        extensions=redacted(ReadsBillingDetails()),
    )
    async def top_workspaces(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 10,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> TopConnection | None:
        return await top_connection(info, self.scope, "workspace", first, after)

    @strawberry.field(
        description="Workspace groups ranked by credits this cycle; null without "
        "billing:read:all.",
        permission_classes=[ReadsUsage],
        extensions=redacted(ReadsBillingDetails()),
    )
    async def top_workspace_groups(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 10,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> TopConnection | None:
        return await top_connection(info, self.scope, "group", first, after)

    @strawberry.field(
        description="Users ranked by credits this cycle; null without "
        "billing:read:all.",
        permission_classes=[ReadsUsage],
        extensions=redacted(ReadsBillingDetails()),
    )
    async def top_users(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 10,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> TopConnection | None:
        return await top_connection(info, self.scope, "user", first, after)

    @strawberry.field(description="Managed AI reconciliation status.")
    async def reconciliation(self, info: Info) -> Reconciliation:
        return await billing.reconciliation(info, self.scope)

    @strawberry.field(description="Whether workspaces may be created, and why not.")
    async def workspace_creation(self, info: Info) -> WorkspaceCreation:
        return await billing.workspace_creation(info, self.scope)

    @strawberry.field(
        description="Customer analytics for a period (ADMIN, operators).",
        permission_classes=[ReadsAnalytics],
    )
    async def analytics(
        self,
        info: Info,
        start: Annotated[
            datetime,
            strawberry.argument(
                description="The period's first instant (inclusive), with its UTC "
                "offset."
            ),
        ],
        end: Annotated[
            datetime,
            strawberry.argument(
                description="The period's end (exclusive), after `start`, with its UTC "
                "offset."
            ),
        ],
    ) -> Analytics | None:
        view = await analytics.analytics(info, self.scope, start, end)
        return Analytics(
            workspace_runtime_hours=view.workspace_runtime_hours,
            managed_ai_usage=None
            if view.managed_ai_usage_usd is None
            else Quantity(amount=view.managed_ai_usage_usd, unit="USD"),
            reconciliation=await billing.reconciliation(info, self.scope),
            billing_state=self.scope.organization.billing_state,
            workspace_creation=await billing.workspace_creation(info, self.scope),
            provider_project_id=view.provider_project_id,
        )
