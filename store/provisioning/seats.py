"""Members and their seats: who belongs to an organization (role, teams), which seat
each holds, how many seats are paid for, and a member's personal allocation on a meter.

Seat counts are checked under the subscription's row lock (`locked_subscription`),
so two admins seating people at once cannot both take the last seat.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.amounts import MAX_LIMIT, MAX_SEATS
from rules.enums import Role, SeatType
from store.models import (
    Member,
    MemberTeam,
    PersonalAllocation,
    PlanSeatCap,
    Subscription,
    User,
)
from store.provisioning.checks import (
    INVALID,
    NO_SEATS_AVAILABLE,
    NOT_FOUND,
    SEATS_IN_USE,
    Checks,
    counters_changed,
    existing_meters,
    find_member,
    find_organization,
    locked_subscription,
)

_SEAT_PREFERENCE = (SeatType.POWER, SeatType.COLLABORATOR)
"""Which seat type `allocate_seat` hands out when the caller names none."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


@dataclass(frozen=True)
class MemberSpec:
    organization_id: str
    user_id: str
    email: str
    name: str
    role: Role = Role.MEMBER
    teams: tuple[str, ...] = ()
    seat_type: SeatType | None = None
    """Given: the member gets (or is re-typed to) a seat of this type. None: the
    member's seat, if any, is left as it is; `deallocate_seat` frees it."""


async def _allocated_by_type(
    session: AsyncSession, organization_id: str, excluding_user: str | None = None
) -> dict[SeatType, int]:
    query = (
        select(Member.seat_type, func.count())
        .where(Member.organization_id == organization_id, Member.seat_type.is_not(None))
        .group_by(Member.seat_type)
    )
    if excluding_user is not None:
        query = query.where(Member.user_id != excluding_user)
    rows = (await session.execute(query)).all()
    return {seat_type: count for seat_type, count in rows if seat_type is not None}


async def _seat_caps(session: AsyncSession, plan_key: str) -> dict[SeatType, int]:
    rows = await session.execute(
        select(PlanSeatCap.seat_type, PlanSeatCap.cap).where(
            PlanSeatCap.plan_key == plan_key
        )
    )
    return dict(rows.all())


async def _seat_for(
    session: AsyncSession,
    checks: Checks,
    field: str,
    member: Member | None,
    organization_id: str,
    user_id: str,
    wanted: SeatType | None,
) -> SeatType | None:
    """The seat type the member may hold after this change, or None with an error.

    A member who already holds a seat keeps counting against the total once, so
    re-typing never needs a free seat, only room under the new type's cap.
    """
    current = member.seat_type if member is not None else None
    if current is not None and wanted in (None, current):
        return current
    subscription = await locked_subscription(session, organization_id)
    total = subscription.seats if subscription is not None else 0
    caps = await _seat_caps(session, subscription.plan_key) if subscription else {}
    others = await _allocated_by_type(session, organization_id, excluding_user=user_id)
    if sum(others.values()) + 1 > total:
        checks.fail(
            field,
            NO_SEATS_AVAILABLE,
            f"all {total} seats are allocated"
            if total
            else "the organization has no seats",
        )
        return None
    candidates = (wanted,) if wanted is not None else _SEAT_PREFERENCE
    for seat_type in candidates:
        cap = caps.get(seat_type)
        if cap is None or others.get(seat_type, 0) + 1 <= cap:
            return seat_type
    if wanted is not None:
        message = f"the plan's cap of {caps[wanted]} {wanted.value} seats is reached"
    else:
        message = "every seat type's cap on the plan is reached"
    checks.fail(field, NO_SEATS_AVAILABLE, message)
    return None


async def upsert_member(
    session: AsyncSession, spec: MemberSpec, now: datetime
) -> Member:
    """Create or change a user and their membership: role, teams (replaced), seat.

    The `users` row is shared by every organization the person belongs to, so the
    latest email and name given win everywhere.
    """
    checks = Checks()
    organization = await find_organization(session, checks, spec.organization_id)
    checks.identifier("userId", spec.user_id, 64)
    email = spec.email.strip()
    if not _EMAIL.fullmatch(email):
        checks.fail("email", INVALID, f"{spec.email!r} is not an email address")
    elif len(email) > 254:
        checks.fail("email", INVALID, "email is longer than 254 characters")
    checks.text("name", spec.name, 200)
    for position, team in enumerate(spec.teams):
        checks.text(f"teams.{position}", team, 128)
    member = None
    seat_type: SeatType | None = None
    if organization is not None and spec.user_id and not checks.errors:
        member = await session.get(Member, (spec.organization_id, spec.user_id))
        if spec.seat_type is not None:
            seat_type = await _seat_for(
                session,
                checks,
                "seatType",
                member,
                spec.organization_id,
                spec.user_id,
                spec.seat_type,
            )
    checks.raise_if_any()

    user = await session.get(User, spec.user_id)
    if user is None:
        user = User(id=spec.user_id)
        session.add(user)
    user.email = email
    user.name = spec.name.strip()
    # Flushed first: with no ORM relationship between them, the unit of work does
    # not promise to insert the user before the member that references it.
    await session.flush()
    if member is None:
        member = Member(
            organization_id=spec.organization_id, user_id=spec.user_id, joined_at=now
        )
        session.add(member)
    member.role = spec.role
    if spec.seat_type is not None:
        member.seat_type = seat_type
    await session.flush()
    await _replace_teams(session, member, spec.teams)
    return member


async def _replace_teams(
    session: AsyncSession, member: Member, teams: Iterable[str]
) -> None:
    wanted = {team.strip() for team in teams}
    stored = {
        row.team: row
        for row in await session.scalars(
            select(MemberTeam).where(
                MemberTeam.organization_id == member.organization_id,
                MemberTeam.user_id == member.user_id,
            )
        )
    }
    for team in sorted(wanted - stored.keys()):
        session.add(
            MemberTeam(
                organization_id=member.organization_id,
                user_id=member.user_id,
                team=team,
            )
        )
    for team in stored.keys() - wanted:
        await session.delete(stored[team])
    await session.flush()


async def allocate_seat(
    session: AsyncSession,
    organization_id: str,
    user_id: str,
    seat_type: SeatType | None,
    now: datetime,
) -> Member:
    """Give a member a seat, or re-type the one they hold.

    Without a seat type a seated member keeps theirs and an unseated one gets the
    first type with room (POWER, then COLLABORATOR). `now` is part of the shared
    signature; seats carry no timestamp today.
    """
    checks = Checks()
    organization = await find_organization(session, checks, organization_id)
    member = await find_member(session, checks, organization, user_id)
    checks.raise_if_any()
    assert member is not None
    granted = await _seat_for(
        session, checks, "seatType", member, organization_id, user_id, seat_type
    )
    checks.raise_if_any()

    member.seat_type = granted
    await session.flush()
    return member


async def deallocate_seat(
    session: AsyncSession, organization_id: str, user_id: str
) -> Member:
    """Free a member's seat; freeing a seat the member does not hold is a no-op."""
    checks = Checks()
    organization = await find_organization(session, checks, organization_id)
    member = await find_member(session, checks, organization, user_id)
    checks.raise_if_any()
    assert member is not None

    member.seat_type = None
    await session.flush()
    return member


async def change_seats(
    session: AsyncSession, organization_id: str, total: int, now: datetime
) -> Subscription:
    """Change the seats paid for; never below the seats allocated (SEATS_IN_USE)."""
    checks = Checks()
    organization = await find_organization(session, checks, organization_id)
    checks.count("total", total, maximum=MAX_SEATS)
    subscription = None
    if organization is not None:
        subscription = await locked_subscription(session, organization_id)
        if subscription is None:
            checks.fail(
                "organizationId",
                NOT_FOUND,
                f"organization {organization_id!r} has no subscription",
            )
    if subscription is not None and not checks.errors:
        allocated = sum((await _allocated_by_type(session, organization_id)).values())
        if total < allocated:
            checks.fail(
                "total",
                SEATS_IN_USE,
                f"{allocated} seats are allocated; free some before going to {total}",
            )
    checks.raise_if_any()
    assert subscription is not None

    if subscription.seats != total:
        subscription.seats = total
        subscription.updated_at = now
    await session.flush()
    return subscription


async def set_personal_allocation(
    session: AsyncSession,
    organization_id: str,
    user_id: str,
    meter: str,
    limit: Decimal | None,
) -> PersonalAllocation | None:
    """Set a member's own limit on a meter; a None limit removes it (returns None)."""
    checks = Checks()
    organization = await find_organization(session, checks, organization_id)
    await find_member(session, checks, organization, user_id)
    if checks.identifier("meter", meter, 64) and not await existing_meters(
        session, (meter,)
    ):
        checks.fail("meter", NOT_FOUND, f"no meter {meter!r}")
    checks.amount("limit", limit, maximum=MAX_LIMIT)
    checks.raise_if_any()

    allocation = await session.get(
        PersonalAllocation, (organization_id, user_id, meter)
    )
    # Counters keep a user's usage only where the user has an allocation.
    await counters_changed(session, organization_id)
    if limit is None:
        if allocation is not None:
            await session.delete(allocation)
            await session.flush()
        return None
    if allocation is None:
        allocation = PersonalAllocation(
            organization_id=organization_id, user_id=user_id, meter_key=meter
        )
        session.add(allocation)
    allocation.limit = limit
    await session.flush()
    return allocation
