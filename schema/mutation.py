"""The root Mutation: provisioning (operators), seats (admins), usage (services)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.permission import BasePermission

from auth.graphql import (
    CanWriteAllocations,
    CanWriteSeats,
    IsOperator,
    RecordsUsage,
)
from resolvers import mutations
from resolvers.context import Info
from schema.enums import SeatType
from schema.inputs import (
    ApiKeyInput,
    CreditGrantInput,
    MemberInput,
    MeterInput,
    ModelPriceInput,
    OrganizationInput,
    PlanInput,
    ReconciliationInput,
    SubscriptionInput,
    UsageEventInput,
    WorkspaceInput,
)
from schema.payloads import (
    ChangeSeatsPayload,
    CreateApiKeyPayload,
    GrantCreditsPayload,
    RecordUsagePayload,
    SeatPayload,
    SetPersonalAllocationPayload,
    SetSubscriptionPayload,
    SyncDailyAllowancePayload,
    UpsertMemberPayload,
    UpsertMeterPayload,
    UpsertOrganizationPayload,
    UpsertPlanPayload,
    UpsertWorkspacePayload,
    UserErrorsPayload,
)

OPERATOR: list[type[BasePermission]] = [IsOperator]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Add or change a meter.", permission_classes=OPERATOR
    )
    async def upsert_meter(self, info: Info, input: MeterInput) -> UpsertMeterPayload:
        return await mutations.upsert_meter(info, input)

    @strawberry.mutation(
        description="Add or change a plan; its limits and seat caps are replaced.",
        permission_classes=OPERATOR,
    )
    async def upsert_plan(self, info: Info, input: PlanInput) -> UpsertPlanPayload:
        return await mutations.upsert_plan(info, input)

    @strawberry.mutation(
        description="Add or change an organization.", permission_classes=OPERATOR
    )
    async def upsert_organization(
        self, info: Info, input: OrganizationInput
    ) -> UpsertOrganizationPayload:
        return await mutations.upsert_organization(info, input)

    @strawberry.mutation(
        description="Set an organization's subscription.", permission_classes=OPERATOR
    )
    async def set_subscription(
        self, info: Info, input: SubscriptionInput
    ) -> SetSubscriptionPayload:
        return await mutations.set_subscription(info, input)

    @strawberry.mutation(
        description="Add or change a member (a seat when seatType is given).",
        permission_classes=OPERATOR,
    )
    async def upsert_member(
        self, info: Info, input: MemberInput
    ) -> UpsertMemberPayload:
        return await mutations.upsert_member(info, input)

    @strawberry.mutation(
        description="Add or change a workspace.", permission_classes=OPERATOR
    )
    async def upsert_workspace(
        self, info: Info, input: WorkspaceInput
    ) -> UpsertWorkspacePayload:
        return await mutations.upsert_workspace(info, input)

    @strawberry.mutation(
        description="Grant BONUS or PURCHASED credits.", permission_classes=OPERATOR
    )
    async def grant_credits(
        self, info: Info, input: CreditGrantInput
    ) -> GrantCreditsPayload:
        return await mutations.grant_credits(info, input)

    @strawberry.mutation(
        description="Set a model's prices and tier.", permission_classes=OPERATOR
    )
    async def set_model_price(
        self, info: Info, input: ModelPriceInput
    ) -> UserErrorsPayload:
        return await mutations.set_model_price(info, input)

    @strawberry.mutation(
        description="Set managed AI reconciliation.", permission_classes=OPERATOR
    )
    async def set_reconciliation(
        self, info: Info, input: ReconciliationInput
    ) -> UserErrorsPayload:
        return await mutations.set_reconciliation(info, input)

    @strawberry.mutation(
        description="Take a daily allowance snapshot now (the worker does it too).",
        permission_classes=OPERATOR,
    )
    async def sync_daily_allowance(
        self, info: Info, organization_id: strawberry.ID, at: datetime | None = None
    ) -> SyncDailyAllowancePayload:
        return await mutations.sync_daily_allowance(info, str(organization_id), at)

    @strawberry.mutation(
        description="Create an API key; the payload holds its secret, once.",
        permission_classes=OPERATOR,
    )
    async def create_api_key(
        self, info: Info, input: ApiKeyInput
    ) -> CreateApiKeyPayload:
        return await mutations.create_api_key(info, input)

    @strawberry.mutation(description="Revoke an API key.", permission_classes=OPERATOR)
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> UserErrorsPayload:
        return await mutations.revoke_api_key(info, str(id))

    @strawberry.mutation(
        description="Record up to 1,000 usage events; each is decided on its own.",
        permission_classes=[RecordsUsage],
    )
    async def record_usage(
        self, info: Info, events: list[UsageEventInput]
    ) -> RecordUsagePayload:
        return await mutations.record_usage(info, events)

    @strawberry.mutation(
        description="Allocate a seat (NO_SEATS_AVAILABLE when none is left).",
        permission_classes=[CanWriteSeats],
    )
    async def allocate_seat(
        self,
        info: Info,
        organization_id: strawberry.ID,
        user_id: strawberry.ID,
        seat_type: SeatType | None = None,
    ) -> SeatPayload:
        return await mutations.allocate_seat(
            info, str(organization_id), str(user_id), seat_type
        )

    @strawberry.mutation(
        description="Free a member's seat.", permission_classes=[CanWriteSeats]
    )
    async def deallocate_seat(
        self, info: Info, organization_id: strawberry.ID, user_id: strawberry.ID
    ) -> SeatPayload:
        return await mutations.deallocate_seat(info, str(organization_id), str(user_id))

    @strawberry.mutation(
        description="Change the seats paid for (SEATS_IN_USE below those allocated).",
        permission_classes=[CanWriteSeats],
    )
    async def change_seats(
        self, info: Info, organization_id: strawberry.ID, total: int
    ) -> ChangeSeatsPayload:
        return await mutations.change_seats(info, str(organization_id), total)

    @strawberry.mutation(
        description="Set a user's personal limit on a meter; null removes it.",
        permission_classes=[CanWriteAllocations],
    )
    async def set_personal_allocation(
        self,
        info: Info,
        organization_id: strawberry.ID,
        user_id: strawberry.ID,
        meter: str,
        limit: Decimal | None = None,
    ) -> SetPersonalAllocationPayload:
        return await mutations.set_personal_allocation(
            info, str(organization_id), str(user_id), meter, limit
        )
