"""Who is asking, and what the viewer may do in an organization."""

from __future__ import annotations

import strawberry

from schema.enums import ViewerKind


@strawberry.type(description="What the viewer will get in this organization.")
class ViewerCan:
    view_dollars: bool = strawberry.field(
        description="Dollar amounts resolve (billing:read:dollars); else they are null."
    )
    view_billing_details: bool = strawberry.field(
        description="Seat directory, daily allowance and top tables (billing:read:all)."
    )
    view_analytics: bool = strawberry.field(description="analytics:read.")
    manage_seats: bool = strawberry.field(description="seats:write.")
    manage_plan: bool = strawberry.field(description="plan:manage.")


@strawberry.type(description="The caller: a user or an API key.")
class ViewerBase:
    id: strawberry.ID = strawberry.field(description="User id, or API key id.")
    kind: ViewerKind = strawberry.field(description="User or API key kind.")
    email: str | None = strawberry.field(description="A user's email; null for keys.")
    name: str | None = strawberry.field(description="A user's name, or the key's name.")
