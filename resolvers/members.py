"""The member directory: filters, a total and keyset pages ordered by name."""

from __future__ import annotations

import strawberry
from sqlalchemy import Row, Select, and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from resolvers.access import OrgScope
from resolvers.context import Info
from resolvers.pagination import decode_cursor, encode_cursor, page_size
from rules.enums import Role, SeatStatus
from schema.types.common import PageInfo
from schema.types.members import Member, MemberConnection, MemberEdge
from store.models import Member as MemberRow
from store.models import MemberTeam, User


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filters(
    organization_id: str,
    search: str | None,
    role: Role | None,
    team: str | None,
    seat_status: SeatStatus | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        MemberRow.organization_id == organization_id
    ]
    if search:
        pattern = _like(search)
        conditions.append(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    if role is not None:
        conditions.append(MemberRow.role == role)
    if team is not None:
        conditions.append(
            select(MemberTeam.team)
            .where(
                MemberTeam.organization_id == MemberRow.organization_id,
                MemberTeam.user_id == MemberRow.user_id,
                MemberTeam.team == team,
            )
            .exists()
        )
    if seat_status is SeatStatus.ALLOCATED:
        conditions.append(MemberRow.seat_type.is_not(None))
    elif seat_status is SeatStatus.NO_SEAT:
        conditions.append(MemberRow.seat_type.is_(None))
    return conditions


async def members(
    info: Info,
    scope: OrgScope,
    search: str | None,
    role: Role | None,
    team: str | None,
    seat_status: SeatStatus | None,
    first: int | None,
    after: str | None,
) -> MemberConnection:
    size = page_size(first, default=25)
    conditions = _filters(scope.id, search, role, team, seat_status)
    page: Select[MemberRow, User] = (
        select(MemberRow, User)
        .join(User, User.id == MemberRow.user_id)
        .where(*conditions)
        .order_by(User.name, User.id)
        .limit(size + 1)
    )
    if after is not None:
        position = decode_cursor(after, 2)
        name, user_id = position[0], position[1]
        page = page.where(tuple_(User.name, User.id) > tuple_(str(name), str(user_id)))
    rows, has_next, total, teams = await info.context.reads.run(
        lambda session: _read_page(session, scope.id, conditions, page, size)
    )
    edges = [
        MemberEdge(
            cursor=encode_cursor(user.name, user.id),
            node=Member(
                user_id=strawberry.ID(user.id),
                email=user.email,
                name=user.name,
                role=member.role,
                teams=teams.get(user.id, []),
                seat_status=SeatStatus.ALLOCATED
                if member.seat_type
                else SeatStatus.NO_SEAT,
                seat_type=member.seat_type,
            ),
        )
        for member, user in rows
    ]
    return MemberConnection(
        total_count=total,
        page_info=PageInfo.forward(
            [edge.cursor for edge in edges],
            after=after,
            total=total,
            has_next_page=has_next,
        ),
        edges=edges,
    )


async def _read_page(
    session: AsyncSession,
    organization_id: str,
    conditions: list[ColumnElement[bool]],
    page: Select[MemberRow, User],
    size: int,
) -> tuple[list[Row[MemberRow, User]], bool, int, dict[str, list[str]]]:
    """The total, one page (and whether more follow) and the page's teams, read on
    the request's session (one snapshot with the rest of the page)."""
    total = await session.scalar(
        select(func.count())
        .select_from(MemberRow)
        .join(User, User.id == MemberRow.user_id)
        .where(*conditions)
    )
    rows = list((await session.execute(page)).all())
    has_next = len(rows) > size
    rows = rows[:size]
    teams: dict[str, list[str]] = {}
    if rows:
        team_rows = await session.execute(
            select(MemberTeam.user_id, MemberTeam.team)
            .where(
                and_(
                    MemberTeam.organization_id == organization_id,
                    MemberTeam.user_id.in_([user.id for _, user in rows]),
                )
            )
            .order_by(MemberTeam.team)
        )
        for user_id, team_name in team_rows:
            teams.setdefault(user_id, []).append(team_name)
    return rows, has_next, total or 0, teams
