"""The root Query."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from resolvers import organizations, viewer
from resolvers.context import Info
from resolvers.metrics import count_checked
from rules.amounts import MAX_QUANTITY
from schema.organization import Organization
from schema.payloads import UsageCheckResult
from schema.permissions import CanWriteUsage, IsAuthenticated
from schema.types.viewer import ViewerBase
from store import recording

AT = (
    "The instant to evaluate as of, with its UTC offset: cycles, usage and balances "
    "are those at `at`; absent = now."
)


@strawberry.type(description="The caller, with the organizations it can see.")
class Viewer(ViewerBase):
    @strawberry.field(
        description="A user's memberships, or the organizations an API key lists "
        "(empty for operator keys, which name organizations by id)."
    )
    async def organizations(self, info: Info) -> list[Organization]:
        scopes = await organizations.viewer_organization_scopes(info)
        return [Organization(scope=scope) for scope in scopes]


@strawberry.type(
    description="Reads: the caller, organizations' usage and billing state, and "
    "usage checks."
)
class Query:
    @strawberry.field(
        description="Who is asking.", permission_classes=[IsAuthenticated]
    )
    async def viewer(self, info: Info) -> Viewer:
        found = await viewer.viewer(info)
        return Viewer(
            id=strawberry.ID(found.id),
            kind=found.kind,
            email=found.email,
            name=found.name,
        )

    @strawberry.field(
        description="One organization, every time-dependent field evaluated as of "
        "`at` (default: now). NOT_FOUND when the caller has no relation to it.",
        permission_classes=[IsAuthenticated],
    )
    async def organization(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Id of the organization to read."),
        ],
        at: Annotated[datetime | None, strawberry.argument(description=AT)] = None,
    ) -> Organization | None:
        scope = await organizations.organization_scope(info, str(id), at)
        return Organization(scope=scope)

    @strawberry.field(
        description="Many organizations at once (partners' billing state), in the "
        "order asked; an entry the caller may not see is null with an error.",
        permission_classes=[IsAuthenticated],
    )
    async def organizations(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="Organization ids; the answer has one entry per id, in "
                "this order."
            ),
        ],
        at: Annotated[datetime | None, strawberry.argument(description=AT)] = None,
    ) -> list[Organization | None]:
        scopes = await organizations.organization_scopes(
            info, [str(i) for i in ids], at
        )
        # graphql-core turns an Exception entry into that entry's own located error.
        return [
            scope if isinstance(scope, Exception) else Organization(scope=scope)  # type: ignore[misc]
            for scope in scopes
        ]

    @strawberry.field(
        description="Would this event be accepted now? Records nothing. Needs "
        "usage:write in the organization (SERVICE keys, operators).",
        permission_classes=[CanWriteUsage],
    )
    async def usage_check(
        self,
        info: Info,
        organization_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Id of the organization that would pay."),
        ],
        meter: Annotated[
            str, strawberry.argument(description="Key of the meter that would count.")
        ],
        quantity: Annotated[
            Decimal,
            strawberry.argument(
                description=f"Units the event would carry, -{MAX_QUANTITY:,} to "
                f"{MAX_QUANTITY:,} with up to 6 decimals (as in recordUsage)."
            ),
        ],
        user_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The member who would use it: their personal allocation "
                "applies; absent = the organization's limits only."
            ),
        ] = None,
    ) -> UsageCheckResult:
        # check_usage reads on a connection of its own (no snapshot, no BEGIN): the
        # permission check's read connection goes back to the pool first.
        await info.context.release_reads()
        check = await recording.check_usage(
            info.context.sessions,
            str(organization_id),
            meter,
            quantity,
            None if user_id is None else str(user_id),
            info.context.now,
            info.context.counters,
        )
        count_checked(check.allowed, check.code)
        return UsageCheckResult(
            allowed=check.allowed,
            code=check.code,
            used=check.used,
            limit=check.limit,
            remaining=check.remaining,
        )
