"""The root Mutation: provisioning (operators), seats (admins), usage (services)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.permission import BasePermission
from strawberry.types.arguments import StrawberryArgumentAnnotation

from resolvers import mutations
from resolvers.context import Info
from rules.amounts import MAX_LIMIT, MAX_SEATS
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
from schema.permissions import (
    CanWriteAllocations,
    CanWriteSeats,
    IsOperator,
    RecordsUsage,
)

OPERATOR: list[type[BasePermission]] = [IsOperator]
ORGANIZATION_ID = "Id of the member's organization."
USER_ID = "Id of the member (their token's `sub`)."


def _described(description: str) -> StrawberryArgumentAnnotation:
    return strawberry.argument(description=description)


@strawberry.type(
    description="Writes: provisioning (OPERATOR keys), seats and allocations "
    "(admins), usage (SERVICE keys)."
)
class Mutation:
    @strawberry.mutation(
        description="Add or change a meter.", permission_classes=OPERATOR
    )
    async def upsert_meter(
        self,
        info: Info,
        input: Annotated[
            MeterInput,
            _described(
                "The meter, by key (a built-in one keeps its category, resets and "
                "displayMultiplier)."
            ),
        ],
    ) -> UpsertMeterPayload:
        return await mutations.upsert_meter(info, input)

    @strawberry.mutation(
        description="Add or change a plan; its limits and seat caps are replaced.",
        permission_classes=OPERATOR,
    )
    async def upsert_plan(
        self,
        info: Info,
        input: Annotated[PlanInput, _described("The whole plan, by key.")],
    ) -> UpsertPlanPayload:
        return await mutations.upsert_plan(info, input)

    @strawberry.mutation(
        description="Add or change an organization.", permission_classes=OPERATOR
    )
    async def upsert_organization(
        self,
        info: Info,
        input: Annotated[OrganizationInput, _described("The organization, by id.")],
    ) -> UpsertOrganizationPayload:
        return await mutations.upsert_organization(info, input)

    @strawberry.mutation(
        description="Set an organization's subscription.", permission_classes=OPERATOR
    )
    async def set_subscription(
        self,
        info: Info,
        input: Annotated[
            SubscriptionInput,
            _described("The subscription as the payment provider has it."),
        ],
    ) -> SetSubscriptionPayload:
        return await mutations.set_subscription(info, input)

    @strawberry.mutation(
        description="Add or change a member (a seat when seatType is given).",
        permission_classes=OPERATOR,
    )
    async def upsert_member(
        self,
        info: Info,
        input: Annotated[
            MemberInput, _described("The member, by organization and user id.")
        ],
    ) -> UpsertMemberPayload:
        return await mutations.upsert_member(info, input)

    @strawberry.mutation(
        description="Add or change a workspace.", permission_classes=OPERATOR
    )
    async def upsert_workspace(
        self,
        info: Info,
        input: Annotated[
            WorkspaceInput, _described("The workspace, by organization and id.")
        ],
    ) -> UpsertWorkspacePayload:
        return await mutations.upsert_workspace(info, input)

    @strawberry.mutation(
        description="Grant BONUS or PURCHASED credits.", permission_classes=OPERATOR
    )
    async def grant_credits(
        self,
        info: Info,
        input: Annotated[CreditGrantInput, _described("The credits to grant.")],
    ) -> GrantCreditsPayload:
        return await mutations.grant_credits(info, input)

    @strawberry.mutation(
        description="Set a model's prices and tier.", permission_classes=OPERATOR
    )
    async def set_model_price(
        self,
        info: Info,
        input: Annotated[
            ModelPriceInput,
            _described("The model's prices; events after this are priced with them."),
        ],
    ) -> UserErrorsPayload:
        return await mutations.set_model_price(info, input)

    @strawberry.mutation(
        description="Set managed AI reconciliation.", permission_classes=OPERATOR
    )
    async def set_reconciliation(
        self,
        info: Info,
        input: Annotated[
            ReconciliationInput, _described("The reconciliation state reported.")
        ],
    ) -> UserErrorsPayload:
        return await mutations.set_reconciliation(info, input)

    @strawberry.mutation(
        description="Take a daily allowance snapshot now (the worker does it too).",
        permission_classes=OPERATOR,
    )
    async def sync_daily_allowance(
        self,
        info: Info,
        organization_id: Annotated[
            strawberry.ID, _described("Id of the organization to snapshot.")
        ],
        at: Annotated[
            datetime | None,
            _described(
                "The sync time, with its UTC offset: the window is the 24 h before "
                "it; absent = now."
            ),
        ] = None,
    ) -> SyncDailyAllowancePayload:
        return await mutations.sync_daily_allowance(info, str(organization_id), at)

    @strawberry.mutation(
        description="Create an API key; the payload holds its secret, once.",
        permission_classes=OPERATOR,
    )
    async def create_api_key(
        self,
        info: Info,
        input: Annotated[ApiKeyInput, _described("What the key may do, and its name.")],
    ) -> CreateApiKeyPayload:
        return await mutations.create_api_key(info, input)

    @strawberry.mutation(description="Revoke an API key.", permission_classes=OPERATOR)
    async def revoke_api_key(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            _described("Id of the API key to revoke (not its secret)."),
        ],
    ) -> UserErrorsPayload:
        return await mutations.revoke_api_key(info, str(id))

    @strawberry.mutation(
        description=f"Record up to {mutations.MAX_EVENTS_PER_CALL:,} usage events; "
        "each is decided on its own.",
        permission_classes=[RecordsUsage],
    )
    async def record_usage(
        self,
        info: Info,
        events: Annotated[
            list[UsageEventInput],
            _described(
                f"The events, at most {mutations.MAX_EVENTS_PER_CALL:,}, decided in "
                "this order."
            ),
        ],
    ) -> RecordUsagePayload:
        return await mutations.record_usage(info, events)

    @strawberry.mutation(
        description="Allocate a seat (NO_SEATS_AVAILABLE when none is left).",
        permission_classes=[CanWriteSeats],
    )
    async def allocate_seat(
        self,
        info: Info,
        organization_id: Annotated[strawberry.ID, _described(ORGANIZATION_ID)],
        user_id: Annotated[strawberry.ID, _described(USER_ID)],
        seat_type: Annotated[
            SeatType | None,
            _described(
                "The type of seat; absent keeps a held seat's type, or takes the "
                "first with room (POWER, then COLLABORATOR)."
            ),
        ] = None,
    ) -> SeatPayload:
        return await mutations.allocate_seat(
            info, str(organization_id), str(user_id), seat_type
        )

    @strawberry.mutation(
        description="Free a member's seat.", permission_classes=[CanWriteSeats]
    )
    async def deallocate_seat(
        self,
        info: Info,
        organization_id: Annotated[strawberry.ID, _described(ORGANIZATION_ID)],
        user_id: Annotated[strawberry.ID, _described(USER_ID)],
    ) -> SeatPayload:
        return await mutations.deallocate_seat(info, str(organization_id), str(user_id))

    @strawberry.mutation(
        description="Change the seats paid for (SEATS_IN_USE below those allocated).",
        permission_classes=[CanWriteSeats],
    )
    async def change_seats(
        self,
        info: Info,
        organization_id: Annotated[
            strawberry.ID, _described("Id of the organization whose seats change.")
        ],
        total: Annotated[
            int,
            _described(
                f"Seats to pay for, 0 to {MAX_SEATS:,}, and at least those allocated."
            ),
        ],
    ) -> ChangeSeatsPayload:
        return await mutations.change_seats(info, str(organization_id), total)

    @strawberry.mutation(
        description="Set a user's personal limit on a meter; null removes it.",
        permission_classes=[CanWriteAllocations],
    )
    async def set_personal_allocation(
        self,
        info: Info,
        organization_id: Annotated[strawberry.ID, _described(ORGANIZATION_ID)],
        user_id: Annotated[strawberry.ID, _described(USER_ID)],
        meter: Annotated[str, _described("Key of the meter the allocation limits.")],
        limit: Annotated[
            Decimal | None,
            _described(
                "The member's own limit per cycle (ever, on a cumulative meter), "
                f"0 to {MAX_LIMIT:,}; absent or null removes it."
            ),
        ] = None,
    ) -> SetPersonalAllocationPayload:
        return await mutations.set_personal_allocation(
            info, str(organization_id), str(user_id), meter, limit
        )
