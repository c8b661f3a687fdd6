"""Organizations, their subscriptions, plans and memberships."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.loaders.base import StoreLoader, many_per_key, one_per_key
from rules.enums import SeatType
from store.models import (
    Member,
    Organization,
    Reconciliation,
    Subscription,
    User,
)


class OrganizationById(StoreLoader[str, Organization | None]):
    async def fetch(
        self, session: AsyncSession, keys: list[str]
    ) -> list[Organization | None]:
        rows = await session.scalars(
            select(Organization).where(Organization.id.in_(keys))
        )
        return one_per_key(rows, keys, lambda row: row.id)


class SubscriptionByOrganization(StoreLoader[str, Subscription | None]):
    async def fetch(
        self, session: AsyncSession, keys: list[str]
    ) -> list[Subscription | None]:
        rows = await session.scalars(
            select(Subscription).where(Subscription.organization_id.in_(keys))
        )
        return one_per_key(rows, keys, lambda row: row.organization_id)


class MembershipByOrganizationUser(StoreLoader[tuple[str, str], Member | None]):
    async def fetch(
        self, session: AsyncSession, keys: list[tuple[str, str]]
    ) -> list[Member | None]:
        user_ids = {user_id for _, user_id in keys}
        organization_ids = {organization_id for organization_id, _ in keys}
        rows = await session.scalars(
            select(Member).where(
                Member.user_id.in_(user_ids),
                Member.organization_id.in_(organization_ids),
            )
        )
        return one_per_key(rows, keys, lambda row: (row.organization_id, row.user_id))


class MembershipsByUser(StoreLoader[str, list[Member]]):
    async def fetch(self, session: AsyncSession, keys: list[str]) -> list[list[Member]]:
        rows = await session.scalars(
            select(Member)
            .where(Member.user_id.in_(keys))
            .order_by(Member.organization_id)
        )
        return many_per_key(rows, keys, lambda row: row.user_id)


class UserById(StoreLoader[str, User | None]):
    async def fetch(self, session: AsyncSession, keys: list[str]) -> list[User | None]:
        rows = await session.scalars(select(User).where(User.id.in_(keys)))
        return one_per_key(rows, keys, lambda row: row.id)


class AllocatedSeatsByOrganization(StoreLoader[str, dict[SeatType, int]]):
    async def fetch(
        self, session: AsyncSession, keys: list[str]
    ) -> list[dict[SeatType, int]]:
        rows = await session.execute(
            select(Member.organization_id, Member.seat_type, func.count())
            .where(Member.organization_id.in_(keys), Member.seat_type.is_not(None))
            .group_by(Member.organization_id, Member.seat_type)
        )
        counts: dict[str, dict[SeatType, int]] = {key: {} for key in keys}
        for organization_id, seat_type, count in rows:
            if seat_type is not None:
                counts[organization_id][seat_type] = count
        return [counts[key] for key in keys]


class ReconciliationByOrganization(StoreLoader[str, Reconciliation | None]):
    async def fetch(
        self, session: AsyncSession, keys: list[str]
    ) -> list[Reconciliation | None]:
        rows = await session.scalars(
            select(Reconciliation).where(Reconciliation.organization_id.in_(keys))
        )
        return one_per_key(rows, keys, lambda row: row.organization_id)
