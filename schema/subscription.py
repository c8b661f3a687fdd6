"""The root Subscription: live usage for the in-editor usage bar."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from resolvers import live
from resolvers.access import Access
from resolvers.context import Info
from rules import meters as meter_rules
from rules.enums import CreditUnit
from schema.enums import UsageLevel
from schema.permissions import IsAuthenticated, ReadsDollarsOfByom, redacted
from schema.types.usage import Credits
from schema.usage_views import credits_type


@strawberry.type(description="A meter's new state after accepted events.")
class UsageTick:
    at: datetime = strawberry.field(description="When the event was accepted.")
    meter: str = strawberry.field(description="The meter's key.")
    used: Decimal | None = strawberry.field(
        description="Usage now; null for a meter counting dollars (ai_spend_usd) "
        "without billing:read:dollars.",
        extensions=redacted(ReadsDollarsOfByom()),
    )
    limit: Decimal | None = strawberry.field(
        description="The limit; null = none, or redacted like `used`.",
        extensions=redacted(ReadsDollarsOfByom()),
    )
    percent: float | None = strawberry.field(description="used ÷ limit × 100.")
    level: UsageLevel = strawberry.field(description="Warning level.")
    credits: Credits | None = strawberry.field(
        description="The credit summary now (dollars for BYOM, redacted as on "
        "`Organization.credits`)."
    )
    unit: strawberry.Private[CreditUnit | None]
    """USD when the meter counts dollars: what ReadsDollarsOfByom looks at."""
    access: strawberry.Private[Access]


@strawberry.type(description="Live updates over graphql-transport-ws.")
class Subscription:
    @strawberry.subscription(
        description="The organization's meters as events are accepted: one tick per "
        "meter and recordUsage call, carrying its state after the call. A slow "
        "reader gets the latest state of each meter, not every tick.",
        permission_classes=[IsAuthenticated],
    )
    async def usage_updated(
        self,
        info: Info,
        organization_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Id of the organization to watch."),
        ],
    ) -> AsyncIterator[UsageTick]:
        return _usage_ticks(await live.usage_updates(info, str(organization_id)))


async def _usage_ticks(
    ticks: AsyncGenerator[live.LiveTick, None],
) -> AsyncIterator[UsageTick]:
    async with aclosing(ticks):
        async for tick in ticks:
            yield _usage_tick(tick)


def _usage_tick(tick: live.LiveTick) -> UsageTick:
    return UsageTick(
        at=tick.at,
        meter=tick.meter,
        used=tick.used,
        limit=tick.limit,
        percent=meter_rules.percent(tick.used, tick.limit),
        level=meter_rules.level(tick.used, tick.limit),
        credits=None
        if tick.credits is None
        else credits_type(tick.credits, tick.access),
        unit=CreditUnit.USD if tick.in_dollars else None,
        access=tick.access,
    )
