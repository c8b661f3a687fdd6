"""The root Subscription: live usage for the in-editor usage bar."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from decimal import Decimal

import strawberry

from auth.graphql import IsAuthenticated
from resolvers.context import Info
from schema.enums import UsageLevel
from schema.errors import NotAvailableYet
from schema.types.usage import Credits


@strawberry.type(description="A meter's new state after an accepted event.")
class UsageTick:
    at: datetime = strawberry.field(description="When the event was accepted.")
    meter: str = strawberry.field(description="The meter's key.")
    used: Decimal = strawberry.field(description="Usage now.")
    limit: Decimal | None = strawberry.field(description="The limit; null = none.")
    percent: float | None = strawberry.field(description="used ÷ limit × 100.")
    level: UsageLevel = strawberry.field(description="Warning level.")
    credits: Credits | None = strawberry.field(description="The credit summary now.")


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Ticks for every accepted event of the organization.",
        permission_classes=[IsAuthenticated],
    )
    async def usage_updated(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncGenerator[UsageTick, None]:
        if organization_id:
            raise NotAvailableYet("Subscription.usageUpdated")
        yield UsageTick(  # pragma: no cover - never reached until issue 7
            at=info.context.now,
            meter="",
            used=Decimal(0),
            limit=None,
            percent=None,
            level=UsageLevel.NORMAL,
            credits=None,
        )
