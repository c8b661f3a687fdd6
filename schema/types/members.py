"""The seat directory."""

from __future__ import annotations

import strawberry

from schema.enums import Role, SeatStatus, SeatType
from schema.types.common import PageInfo


@strawberry.type(description="A member of the organization.")
class Member:
    user_id: strawberry.ID = strawberry.field(description="The user's id.")
    email: str = strawberry.field(description="The user's email.")
    name: str = strawberry.field(description="The user's name.")
    role: Role = strawberry.field(description="The member's role.")
    teams: list[str] = strawberry.field(description="Teams the member belongs to.")
    seat_status: SeatStatus = strawberry.field(description="Whether a seat is held.")
    seat_type: SeatType | None = strawberry.field(
        description="The held seat's type; null without a seat."
    )


@strawberry.type(description="A member with its cursor.")
class MemberEdge:
    cursor: str = strawberry.field(description="Opaque position of this member.")
    node: Member = strawberry.field(description="The member.")


@strawberry.type(description="A page of the member directory.")
class MemberConnection:
    total_count: int = strawberry.field(description="Members matching the filters.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    edges: list[MemberEdge] = strawberry.field(description="This page, by name.")
