"""The root Query."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from auth.graphql import CanWriteUsage, IsAuthenticated
from resolvers import organizations, viewer
from resolvers.context import Info
from resolvers.metrics import count_checked
from schema.organization import Organization
from schema.payloads import UsageCheckResult
from schema.types.viewer import ViewerBase
from store import recording


@strawberry.type(description="The caller, with the organizations it can see.")
class Viewer(ViewerBase):
    @strawberry.field(
        description="A user's memberships, or the organizations an API key lists "
        "(empty for operator keys, which name organizations by id)."
    )
    async def organizations(self, info: Info) -> list[Organization]:
        scopes = await organizations.viewer_organization_scopes(info)
        return [Organization(scope=scope) for scope in scopes]


@strawberry.type
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
        self, info: Info, id: strawberry.ID, at: datetime | None = None
    ) -> Organization | None:
        scope = await organizations.organization_scope(info, str(id), at)
        return Organization(scope=scope)

    @strawberry.field(
        description="Many organizations at once (partners' billing state), in the "
        "order asked; an entry the caller may not see is null with an error.",
        permission_classes=[IsAuthenticated],
    )
    async def organizations(
        self, info: Info, ids: list[strawberry.ID], at: datetime | None = None
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
        organization_id: strawberry.ID,
        meter: str,
        quantity: Decimal,
        user_id: strawberry.ID | None = None,
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
