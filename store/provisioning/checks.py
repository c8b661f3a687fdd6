"""What every provisioning operation shares: the checks that collect an input's
problems, the lookups that report what is missing, and the two effects several
operations have (the subscription row lock, the counters' version).

Kept apart from the operations so each domain module reads as "check, then write"
and the bounds (identifiers, text, amounts, counts, instants) are judged the same way
in every one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rules.amounts import amount_problem
from store.errors import Rejected, UserError
from store.models import Member, Meter, Organization, Subscription

NOT_FOUND = "NOT_FOUND"
INVALID = "INVALID"
NO_SEATS_AVAILABLE = "NO_SEATS_AVAILABLE"
SEATS_IN_USE = "SEATS_IN_USE"
_MAX_INT = 2**31 - 1
"""Counts live in INTEGER columns (32-bit on PostgreSQL)."""
_BLANK = re.compile(r"\s")


class Checks:
    """Collects every problem with an input, so one reply can list them all."""

    def __init__(self) -> None:
        self.errors: list[UserError] = []

    def fail(self, field: str, code: str, message: str) -> None:
        self.errors.append(UserError(field, code, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise Rejected(self.errors)

    def identifier(self, field: str, value: str, max_length: int) -> bool:
        """Keys and ids: compared byte for byte, so no blanks that hide in a UI."""
        if not value:
            self.fail(field, INVALID, f"{field} must not be empty")
        elif _BLANK.search(value):
            self.fail(field, INVALID, f"{field} must not contain whitespace")
        elif len(value) > max_length:
            self.fail(field, INVALID, f"{field} is longer than {max_length} characters")
        else:
            return True
        return False

    def text(self, field: str, value: str, max_length: int) -> None:
        """Display text: stored stripped, so it must say something."""
        if not value.strip():
            self.fail(field, INVALID, f"{field} must not be empty")
        elif len(value.strip()) > max_length:
            self.fail(field, INVALID, f"{field} is longer than {max_length} characters")

    def amount(
        self,
        field: str,
        value: Decimal | None,
        *,
        maximum: Decimal,
        positive: bool = False,
    ) -> None:
        """A stored amount: exact at six places, never negative, at most `maximum`
        (one of `rules.amounts`' bounds, which keep every sum storable)."""
        if value is None:
            return
        problem = amount_problem(value, maximum)
        if problem is not None:
            self.fail(field, INVALID, f"{field} {problem.removeprefix('quantity ')}")
        elif value < 0 or (positive and value == 0):
            wanted = "greater than zero" if positive else "zero or more"
            self.fail(field, INVALID, f"{field} must be {wanted}, got {value}")

    def count(
        self,
        field: str,
        value: int | None,
        *,
        minimum: int = 0,
        maximum: int = _MAX_INT,
    ) -> None:
        if value is None:
            return
        if value < minimum:
            self.fail(
                field, INVALID, f"{field} must be at least {minimum}, got {value}"
            )
        elif value > maximum:
            self.fail(field, INVALID, f"{field} is larger than {maximum}")

    def instant(self, field: str, value: datetime | None) -> None:
        """Naive datetimes would be guessed into a zone: refuse them instead."""
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            self.fail(field, INVALID, f"{field} must carry a time zone (UTC)")


def clean_text(value: str | None) -> str | None:
    return None if value is None else value.strip()


async def find_organization(
    session: AsyncSession, checks: Checks, organization_id: str
) -> Organization | None:
    if not checks.identifier("organizationId", organization_id, 64):
        return None
    organization = await session.get(Organization, organization_id)
    if organization is None:
        checks.fail("organizationId", NOT_FOUND, f"no organization {organization_id!r}")
    return organization


async def find_member(
    session: AsyncSession,
    checks: Checks,
    organization: Organization | None,
    user_id: str,
) -> Member | None:
    if not checks.identifier("userId", user_id, 64) or organization is None:
        return None
    member = await session.get(Member, (organization.id, user_id))
    if member is None:
        checks.fail(
            "userId",
            NOT_FOUND,
            f"no member {user_id!r} in organization {organization.id!r}",
        )
    return member


async def existing_meters(session: AsyncSession, keys: Iterable[str]) -> set[str]:
    wanted = set(keys)
    if not wanted:
        return set()
    return set(await session.scalars(select(Meter.key).where(Meter.key.in_(wanted))))


async def locked_subscription(
    session: AsyncSession, organization_id: str
) -> Subscription | None:
    """The subscription row, locked on PostgreSQL so seat counts cannot race.

    Two admins seating people at once would both see one free seat; holding the
    subscription row until commit serialises them. SQLite serialises writers anyway.
    """
    return await session.scalar(
        select(Subscription)
        .where(Subscription.organization_id == organization_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def counters_changed(session: AsyncSession, organization_id: str | None) -> None:
    """Hot counters built before this change must be rebuilt from SQL (one
    organization's, or every one's with None): it changes what they count.

    Moving `counters_version` waits for the writers holding the organization's row
    lock, so none of them reserves against the old definition afterwards.
    """
    statement = update(Organization).values(
        counters_version=Organization.counters_version + 1
    )
    if organization_id is not None:
        statement = statement.where(Organization.id == organization_id)
    await session.execute(statement)
