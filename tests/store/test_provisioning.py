"""Provisioning: idempotent upserts, seat rules, and rejections that write nothing.

Every test runs on SQLite and PostgreSQL (the `sessions` fixture); PostgreSQL skips
with the reason when the server is unreachable, and fails under CI=true.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rules.enums import (
    CreditPoolKind,
    Enforcement,
    MeterCategory,
    ModelTier,
    PlanTier,
    ReconciliationStatus,
    Resets,
    Role,
    SeatType,
    SubscriptionStatus,
)
from store import provisioning as p
from store.db import SessionFactory, StatementCounter, create_engine, session_factory
from store.models import (
    Base,
    CreditGrant,
    Member,
    MemberTeam,
    Meter,
    ModelPrice,
    PersonalAllocation,
    PlanLimit,
    PlanSeatCap,
    Reconciliation,
    User,
    Workspace,
    WorkspaceGroup,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
POWER, COLLABORATOR = SeatType.POWER, SeatType.COLLABORATOR


async def _dump(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as this session sees it (flushed writes included)."""
    await session.flush()
    dump: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        rows = (await session.execute(select(table))).all()
        dump[table.name] = sorted(tuple(row) for row in rows)
    return dump


async def _rejected(
    session: AsyncSession, change: Callable[[], Awaitable[object]]
) -> list[p.UserError]:
    """Run a change that must be refused; assert it wrote nothing at all."""
    before = await _dump(session)
    with pytest.raises(p.Rejected) as caught:
        await change()
    assert await _dump(session) == before
    return caught.value.errors


def _codes(errors: list[p.UserError]) -> list[tuple[str, str]]:
    return [(error.field, error.code) for error in errors]


def _writes(counter: StatementCounter) -> list[str]:
    return [
        statement
        for statement in counter.statements
        if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]


async def _org(
    session: AsyncSession,
    *,
    seats: int | None = 3,
    caps: tuple[tuple[SeatType, int], ...] = (),
    organization_id: str = "org_a",
) -> None:
    """An organization on plan `pro` with `seats` seats (None: no subscription)."""
    await p.upsert_plan(session, p.PlanSpec("pro", "Pro", PlanTier.PRO, seat_caps=caps))
    await p.upsert_organization(
        session, p.OrganizationSpec(organization_id, "Org A"), NOW
    )
    if seats is not None:
        await p.set_subscription(
            session, p.SubscriptionSpec(organization_id, "pro", seats), NOW
        )


async def _join(
    session: AsyncSession,
    user_id: str,
    seat_type: SeatType | None = None,
    organization_id: str = "org_a",
) -> Member:
    return await p.upsert_member(
        session,
        p.MemberSpec(
            organization_id,
            user_id,
            f"{user_id}@example.com",
            user_id.title(),
            seat_type=seat_type,
        ),
        NOW,
    )


# Meters


async def test_upsert_meter_adds_a_meter_after_the_catalog(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        last = max(await session.scalars(select(Meter.position)))
        meter = await p.upsert_meter(
            session,
            p.MeterSpec(
                "seconds", "Seconds", MeterCategory.OPERATIONS, "s", Resets.CYCLE
            ),
        )

    assert meter.position == last + 1
    assert meter.builtin is False


async def test_upsert_meter_relabels_an_existing_meter(
    sessions: SessionFactory,
) -> None:
    spec = p.MeterSpec(
        "seconds", "Seconds", MeterCategory.OPERATIONS, "s", Resets.CYCLE
    )
    async with sessions() as session:
        first = await p.upsert_meter(session, spec)
        second = await p.upsert_meter(
            session,
            p.MeterSpec("seconds", "Call seconds", spec.category, "sec", spec.resets),
        )

    assert (second.label, second.unit_label) == ("Call seconds", "sec")
    assert second.position == first.position


async def test_upsert_meter_refuses_to_change_a_builtin_meters_category(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        errors = await _rejected(
            session,
            lambda: p.upsert_meter(
                session,
                p.MeterSpec(
                    "contacts",
                    "Contacts",
                    MeterCategory.QUOTA,
                    "contacts",
                    Resets.NEVER,
                ),
            ),
        )

    assert _codes(errors) == [("category", "INVALID")]


async def test_upsert_meter_rejects_an_empty_key(sessions: SessionFactory) -> None:
    async with sessions() as session:
        errors = await _rejected(
            session,
            lambda: p.upsert_meter(
                session, p.MeterSpec("", "X", MeterCategory.QUOTA, "x", Resets.CYCLE)
            ),
        )

    assert _codes(errors) == [("key", "INVALID")]


# Plans


async def test_upsert_plan_stores_limits_and_seat_caps(
    sessions: SessionFactory,
) -> None:
    spec = p.PlanSpec(
        "team",
        "Team",
        PlanTier.BUSINESS,
        seat_caps=((POWER, 5),),
        limits=(
            p.PlanLimitSpec("insights", Decimal(40), per_seat=True),
            p.PlanLimitSpec("contacts", Decimal(1000), enforcement=Enforcement.SOFT),
        ),
    )
    async with sessions() as session:
        await p.upsert_plan(session, spec)
        limits = {
            row.meter_key: (row.limit, row.per_seat, row.enforcement)
            for row in await session.scalars(select(PlanLimit))
        }
        caps = [
            (row.seat_type, row.cap)
            for row in await session.scalars(select(PlanSeatCap))
        ]

    assert limits == {
        "insights": (Decimal(40), True, Enforcement.HARD),
        "contacts": (Decimal(1000), False, Enforcement.SOFT),
    }
    assert caps == [(POWER, 5)]


async def test_upsert_plan_defaults_ai_tokens_enforcement_to_none(
    sessions: SessionFactory,
) -> None:
    spec = p.PlanSpec(
        "pro", "Pro", PlanTier.PRO, limits=(p.PlanLimitSpec("ai_tokens", Decimal(10)),)
    )
    async with sessions() as session:
        await p.upsert_plan(session, spec)
        row = await session.get(PlanLimit, ("pro", "ai_tokens"))

    assert row is not None
    assert row.enforcement is Enforcement.NONE


async def test_upsert_plan_replaces_limits_and_seat_caps(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await p.upsert_plan(
            session,
            p.PlanSpec(
                "pro",
                "Pro",
                PlanTier.PRO,
                seat_caps=((POWER, 2), (COLLABORATOR, 4)),
                limits=(
                    p.PlanLimitSpec("contacts", Decimal(10)),
                    p.PlanLimitSpec("companies", Decimal(5)),
                ),
            ),
        )
        await p.upsert_plan(
            session,
            p.PlanSpec(
                "pro",
                "Pro",
                PlanTier.PRO,
                seat_caps=((POWER, 3),),
                limits=(p.PlanLimitSpec("contacts", Decimal(20)),),
            ),
        )
        limits = [
            (r.meter_key, r.limit) for r in await session.scalars(select(PlanLimit))
        ]
        caps = [
            (r.seat_type, r.cap) for r in await session.scalars(select(PlanSeatCap))
        ]

    assert limits == [("contacts", Decimal(20))]
    assert caps == [(POWER, 3)]


async def test_upsert_plan_twice_writes_nothing_the_second_time(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    spec = p.PlanSpec(
        "pro",
        "Pro",
        PlanTier.PRO,
        monthly_credits=Decimal("1000.5"),
        seat_caps=((POWER, 2),),
        limits=(p.PlanLimitSpec("contacts", Decimal(10)),),
    )
    async with sessions() as session:
        await p.upsert_plan(session, spec)
        await session.commit()
    async with sessions() as session:
        with StatementCounter(engine) as counter:
            await p.upsert_plan(session, spec)
            await session.commit()

    assert _writes(counter) == []


async def test_upsert_plan_rejects_an_unknown_meter(sessions: SessionFactory) -> None:
    spec = p.PlanSpec(
        "pro", "Pro", PlanTier.PRO, limits=(p.PlanLimitSpec("nope", Decimal(1)),)
    )
    async with sessions() as session:
        errors = await _rejected(session, lambda: p.upsert_plan(session, spec))

    assert _codes(errors) == [("limits.0.meter", "NOT_FOUND")]


async def test_upsert_plan_rejects_a_meter_limited_twice(
    sessions: SessionFactory,
) -> None:
    spec = p.PlanSpec(
        "pro",
        "Pro",
        PlanTier.PRO,
        limits=(
            p.PlanLimitSpec("contacts", Decimal(1)),
            p.PlanLimitSpec("contacts", Decimal(2)),
        ),
    )
    async with sessions() as session:
        errors = await _rejected(session, lambda: p.upsert_plan(session, spec))

    assert _codes(errors) == [("limits.1.meter", "INVALID")]


async def test_upsert_plan_rejects_a_negative_limit(sessions: SessionFactory) -> None:
    spec = p.PlanSpec(
        "pro", "Pro", PlanTier.PRO, limits=(p.PlanLimitSpec("contacts", Decimal(-1)),)
    )
    async with sessions() as session:
        errors = await _rejected(session, lambda: p.upsert_plan(session, spec))

    assert _codes(errors) == [("limits.0.limit", "INVALID")]


async def test_upsert_plan_rejects_a_limit_with_more_than_six_decimals(
    sessions: SessionFactory,
) -> None:
    spec = p.PlanSpec(
        "pro",
        "Pro",
        PlanTier.PRO,
        limits=(p.PlanLimitSpec("contacts", Decimal("1.0000001")),),
    )
    async with sessions() as session:
        errors = await _rejected(session, lambda: p.upsert_plan(session, spec))

    assert _codes(errors) == [("limits.0.limit", "INVALID")]
    assert "more than 6 decimal places" in errors[0].message


async def test_upsert_plan_accepts_trailing_zeros_past_six_decimals(
    sessions: SessionFactory,
) -> None:
    spec = p.PlanSpec(
        "pro",
        "Pro",
        PlanTier.PRO,
        limits=(p.PlanLimitSpec("voice", free_units=Decimal("2.50000000")),),
    )
    async with sessions() as session:
        await p.upsert_plan(session, spec)
        row = await session.get(PlanLimit, ("pro", "voice"))

    assert row is not None
    assert row.free_units == Decimal("2.5")


async def test_upsert_plan_rejects_free_units_with_more_than_six_decimals(
    sessions: SessionFactory,
) -> None:
    spec = p.PlanSpec(
        "pro",
        "Pro",
        PlanTier.PRO,
        limits=(p.PlanLimitSpec("voice", free_units=Decimal("0.0000001")),),
    )
    async with sessions() as session:
        errors = await _rejected(session, lambda: p.upsert_plan(session, spec))

    assert _codes(errors) == [("limits.0.freeUnits", "INVALID")]


async def test_upsert_plan_rejects_a_limit_past_the_largest_limit(
    sessions: SessionFactory,
) -> None:
    spec = p.PlanSpec(
        "pro",
        "Pro",
        PlanTier.PRO,
        limits=(p.PlanLimitSpec("api_calls", Decimal("1e33")),),
    )
    async with sessions() as session:
        errors = await _rejected(session, lambda: p.upsert_plan(session, spec))

    assert _codes(errors) == [("limits.0.limit", "INVALID")]
    assert errors[0].message == "limits.0.limit is larger than 9000000000000"


async def test_upsert_plan_rejects_a_negative_seat_cap(
    sessions: SessionFactory,
) -> None:
    spec = p.PlanSpec("pro", "Pro", PlanTier.PRO, seat_caps=((POWER, -1),))
    async with sessions() as session:
        errors = await _rejected(session, lambda: p.upsert_plan(session, spec))

    assert _codes(errors) == [("seatCaps.0.cap", "INVALID")]


async def test_upsert_plan_reports_every_problem_at_once(
    sessions: SessionFactory,
) -> None:
    spec = p.PlanSpec(
        "",
        " ",
        PlanTier.PRO,
        monthly_credits=Decimal(-5),
        limits=(p.PlanLimitSpec("nope"), p.PlanLimitSpec("contacts", Decimal("NaN"))),
    )
    async with sessions() as session:
        errors = await _rejected(session, lambda: p.upsert_plan(session, spec))

    assert _codes(errors) == [
        ("key", "INVALID"),
        ("name", "INVALID"),
        ("monthlyCredits", "INVALID"),
        ("limits.0.meter", "NOT_FOUND"),
        ("limits.1.limit", "INVALID"),
    ]


async def test_upsert_plan_rejected_change_keeps_the_stored_plan(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await p.upsert_plan(
            session,
            p.PlanSpec(
                "pro",
                "Pro",
                PlanTier.PRO,
                limits=(p.PlanLimitSpec("contacts", Decimal(5)),),
            ),
        )
        errors = await _rejected(
            session,
            lambda: p.upsert_plan(
                session,
                p.PlanSpec(
                    "pro", "Pro 2", PlanTier.PRO, limits=(p.PlanLimitSpec("nope"),)
                ),
            ),
        )

    assert _codes(errors) == [("limits.0.meter", "NOT_FOUND")]


# Organizations


async def test_upsert_organization_creates_it_with_the_contract_defaults(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        organization = await p.upsert_organization(
            session, p.OrganizationSpec("org_a", "  Org A "), NOW
        )

    assert organization.name == "Org A"
    assert organization.created_at == NOW
    assert organization.workspace_time_balance_hours == Decimal(0)


async def test_upsert_organization_updates_and_keeps_created_at(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await p.upsert_organization(session, p.OrganizationSpec("org_a", "A"), NOW)
        organization = await p.upsert_organization(
            session,
            p.OrganizationSpec("org_a", "B", allowance_ui_details=True),
            NOW + timedelta(days=1),
        )

    assert (organization.name, organization.allowance_ui_details) == ("B", True)
    assert organization.created_at == NOW


async def test_upsert_organization_rejects_a_negative_balance(
    sessions: SessionFactory,
) -> None:
    spec = p.OrganizationSpec("org_a", "A", managed_ai_balance_usd=Decimal("-0.01"))
    async with sessions() as session:
        errors = await _rejected(
            session, lambda: p.upsert_organization(session, spec, NOW)
        )

    assert _codes(errors) == [("managedAiBalanceUsd", "INVALID")]


# Subscriptions


async def test_set_subscription_starts_a_new_subscription_at_now(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=None)
        subscription = await p.set_subscription(
            session, p.SubscriptionSpec("org_a", "pro", 4), NOW
        )

    assert (subscription.anchor, subscription.seats) == (NOW, 4)
    assert subscription.status is SubscriptionStatus.ACTIVE


async def test_set_subscription_without_anchor_keeps_the_stored_anchor(
    sessions: SessionFactory,
) -> None:
    anchor = datetime(2025, 1, 31, 9, 30, tzinfo=UTC)
    async with sessions() as session:
        await _org(session, seats=None)
        await p.set_subscription(
            session, p.SubscriptionSpec("org_a", "pro", 4, anchor=anchor), NOW
        )
        subscription = await p.set_subscription(
            session, p.SubscriptionSpec("org_a", "pro", 6), NOW + timedelta(days=3)
        )

    assert subscription.anchor == anchor


async def test_set_subscription_twice_keeps_updated_at(
    sessions: SessionFactory,
) -> None:
    spec = p.SubscriptionSpec("org_a", "pro", 4, anchor=NOW - timedelta(days=40))
    async with sessions() as session:
        await _org(session, seats=None)
        await p.set_subscription(session, spec, NOW)
        await session.commit()
    async with sessions() as session:
        subscription = await p.set_subscription(session, spec, NOW + timedelta(hours=1))

    assert subscription.updated_at == NOW


async def test_set_subscription_rejects_an_unknown_plan(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=None)
        errors = await _rejected(
            session,
            lambda: p.set_subscription(
                session, p.SubscriptionSpec("org_a", "gold", 1), NOW
            ),
        )

    assert _codes(errors) == [("planKey", "NOT_FOUND")]


async def test_set_subscription_rejects_an_unknown_organization(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=None)
        errors = await _rejected(
            session,
            lambda: p.set_subscription(
                session, p.SubscriptionSpec("org_x", "pro", 1), NOW
            ),
        )

    assert _codes(errors) == [("organizationId", "NOT_FOUND")]


async def test_set_subscription_rejects_negative_seats(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=None)
        errors = await _rejected(
            session,
            lambda: p.set_subscription(
                session, p.SubscriptionSpec("org_a", "pro", -1), NOW
            ),
        )

    assert _codes(errors) == [("seats", "INVALID")]


async def test_set_subscription_rejects_a_period_that_ends_before_it_starts(
    sessions: SessionFactory,
) -> None:
    spec = p.SubscriptionSpec(
        "org_a",
        "pro",
        1,
        current_period_start=NOW,
        current_period_end=NOW - timedelta(days=1),
    )
    async with sessions() as session:
        await _org(session, seats=None)
        errors = await _rejected(
            session, lambda: p.set_subscription(session, spec, NOW)
        )

    assert _codes(errors) == [("currentPeriodEnd", "INVALID")]


async def test_set_subscription_rejects_a_naive_anchor(
    sessions: SessionFactory,
) -> None:
    spec = p.SubscriptionSpec("org_a", "pro", 1, anchor=datetime(2026, 1, 1))
    async with sessions() as session:
        await _org(session, seats=None)
        errors = await _rejected(
            session, lambda: p.set_subscription(session, spec, NOW)
        )

    assert _codes(errors) == [("anchor", "INVALID")]


async def test_set_subscription_mirrors_the_provider_below_the_allocated_seats(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=2)
        await _join(session, "ana", POWER)
        await _join(session, "bo", POWER)
        subscription = await p.set_subscription(
            session,
            p.SubscriptionSpec("org_a", "pro", 1, status=SubscriptionStatus.PAST_DUE),
            NOW,
        )

    assert (subscription.seats, subscription.status) == (1, SubscriptionStatus.PAST_DUE)


# Members


async def test_upsert_member_creates_the_user_the_member_and_its_teams(
    sessions: SessionFactory,
) -> None:
    spec = p.MemberSpec(
        "org_a", "u1", "ana@example.com", "Ana", Role.ADMIN, teams=("Sales", "Ops")
    )
    async with sessions() as session:
        await _org(session)
        member = await p.upsert_member(session, spec, NOW)
        user = await session.get(User, "u1")
        teams = sorted(await session.scalars(select(MemberTeam.team)))

    assert (member.role, member.seat_type, member.joined_at) == (Role.ADMIN, None, NOW)
    assert user is not None
    assert (user.email, user.name) == ("ana@example.com", "Ana")
    assert teams == ["Ops", "Sales"]


async def test_upsert_member_replaces_teams_role_and_user_details(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        await p.upsert_member(
            session,
            p.MemberSpec("org_a", "u1", "a@example.com", "A", teams=("Sales", "Ops")),
            NOW,
        )
        member = await p.upsert_member(
            session,
            p.MemberSpec(
                "org_a", "u1", "b@example.com", "B", Role.MANAGER, teams=("Ops", "R&D")
            ),
            NOW + timedelta(days=1),
        )
        user = await session.get(User, "u1")
        teams = sorted(await session.scalars(select(MemberTeam.team)))

    assert (member.role, member.joined_at) == (Role.MANAGER, NOW)
    assert user is not None
    assert (user.email, user.name) == ("b@example.com", "B")
    assert teams == ["Ops", "R&D"]


async def test_upsert_member_with_a_seat_type_allocates_a_seat(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        member = await _join(session, "u1", COLLABORATOR)

    assert member.seat_type is COLLABORATOR


async def test_upsert_member_without_a_seat_type_keeps_the_seat(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        await _join(session, "u1", POWER)
        member = await _join(session, "u1", None)

    assert member.seat_type is POWER


async def test_upsert_member_twice_writes_nothing_the_second_time(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    spec = p.MemberSpec(
        "org_a", "u1", "a@example.com", "A", Role.ADMIN, ("Ops",), seat_type=POWER
    )
    async with sessions() as session:
        await _org(session)
        await p.upsert_member(session, spec, NOW)
        await session.commit()
    async with sessions() as session:
        with StatementCounter(engine) as counter:
            await p.upsert_member(session, spec, NOW)
            await session.commit()

    assert _writes(counter) == []


async def test_upsert_member_fails_when_no_seat_is_left(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=1)
        await _join(session, "u1", POWER)
        errors = await _rejected(
            session,
            lambda: p.upsert_member(
                session,
                p.MemberSpec("org_a", "u2", "b@example.com", "B", seat_type=POWER),
                NOW,
            ),
        )

    assert _codes(errors) == [("seatType", "NO_SEATS_AVAILABLE")]


async def test_upsert_member_rejects_an_invalid_email(sessions: SessionFactory) -> None:
    async with sessions() as session:
        await _org(session)
        errors = await _rejected(
            session,
            lambda: p.upsert_member(
                session, p.MemberSpec("org_a", "u1", "ana", "Ana"), NOW
            ),
        )

    assert _codes(errors) == [("email", "INVALID")]


async def test_upsert_member_rejects_an_unknown_organization(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        errors = await _rejected(
            session,
            lambda: p.upsert_member(
                session, p.MemberSpec("org_x", "u1", "a@example.com", "A"), NOW
            ),
        )

    assert _codes(errors) == [("organizationId", "NOT_FOUND")]


# Seats


async def test_allocate_seat_gives_the_member_a_seat_of_the_type(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        await _join(session, "u1")
        member = await p.allocate_seat(session, "org_a", "u1", COLLABORATOR, NOW)

    assert member.seat_type is COLLABORATOR


async def test_allocate_seat_fails_when_no_seat_is_left(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=1)
        await _join(session, "u1", POWER)
        await _join(session, "u2")
        errors = await _rejected(
            session, lambda: p.allocate_seat(session, "org_a", "u2", COLLABORATOR, NOW)
        )

    assert _codes(errors) == [("seatType", "NO_SEATS_AVAILABLE")]


async def test_allocate_seat_fails_when_type_cap_reached(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=5, caps=((POWER, 1),))
        await _join(session, "u1", POWER)
        await _join(session, "u2")
        errors = await _rejected(
            session, lambda: p.allocate_seat(session, "org_a", "u2", POWER, NOW)
        )

    assert _codes(errors) == [("seatType", "NO_SEATS_AVAILABLE")]
    assert "cap of 1 POWER" in errors[0].message


async def test_allocate_seat_of_an_uncapped_type_is_limited_by_the_total_only(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=3, caps=((POWER, 1),))
        for user_id in ("u1", "u2", "u3"):
            await _join(session, user_id, COLLABORATOR)
        seated = await session.scalar(select(Member).where(Member.user_id == "u3"))

    assert seated is not None
    assert seated.seat_type is COLLABORATOR


async def test_allocate_seat_with_a_cap_of_zero_refuses_the_type(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=3, caps=((COLLABORATOR, 0),))
        await _join(session, "u1")
        errors = await _rejected(
            session, lambda: p.allocate_seat(session, "org_a", "u1", COLLABORATOR, NOW)
        )

    assert _codes(errors) == [("seatType", "NO_SEATS_AVAILABLE")]


async def test_allocate_seat_retypes_an_allocated_member(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=1)
        await _join(session, "u1", COLLABORATOR)
        member = await p.allocate_seat(session, "org_a", "u1", POWER, NOW)

    assert member.seat_type is POWER


async def test_allocate_seat_retype_fails_when_the_new_types_cap_is_reached(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=3, caps=((POWER, 1),))
        await _join(session, "u1", POWER)
        await _join(session, "u2", COLLABORATOR)
        errors = await _rejected(
            session, lambda: p.allocate_seat(session, "org_a", "u2", POWER, NOW)
        )

    assert _codes(errors) == [("seatType", "NO_SEATS_AVAILABLE")]


async def test_allocate_seat_again_with_the_same_type_changes_nothing(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=1, caps=((POWER, 1),))
        await _join(session, "u1", POWER)
        member = await p.allocate_seat(session, "org_a", "u1", POWER, NOW)

    assert member.seat_type is POWER


async def test_allocate_seat_without_a_type_takes_the_first_type_with_room(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=3, caps=((POWER, 1),))
        await _join(session, "u1", POWER)
        await _join(session, "u2")
        member = await p.allocate_seat(session, "org_a", "u2", None, NOW)

    assert member.seat_type is COLLABORATOR


async def test_allocate_seat_without_a_type_keeps_the_members_type(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=1)
        await _join(session, "u1", COLLABORATOR)
        member = await p.allocate_seat(session, "org_a", "u1", None, NOW)

    assert member.seat_type is COLLABORATOR


async def test_allocate_seat_fails_without_a_subscription(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=None)
        await _join(session, "u1")
        errors = await _rejected(
            session, lambda: p.allocate_seat(session, "org_a", "u1", POWER, NOW)
        )

    assert _codes(errors) == [("seatType", "NO_SEATS_AVAILABLE")]


async def test_allocate_seat_rejects_a_user_who_is_not_a_member(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        errors = await _rejected(
            session, lambda: p.allocate_seat(session, "org_a", "ghost", POWER, NOW)
        )

    assert _codes(errors) == [("userId", "NOT_FOUND")]


async def test_allocate_seat_rejects_a_member_of_another_organization(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        await _org(session, organization_id="org_b")
        await _join(session, "u1", organization_id="org_b")
        errors = await _rejected(
            session, lambda: p.allocate_seat(session, "org_a", "u1", POWER, NOW)
        )

    assert _codes(errors) == [("userId", "NOT_FOUND")]


async def test_deallocate_seat_frees_the_seat(sessions: SessionFactory) -> None:
    async with sessions() as session:
        await _org(session, seats=1)
        await _join(session, "u1", POWER)
        await _join(session, "u2")
        freed = await p.deallocate_seat(session, "org_a", "u1")
        seated = await p.allocate_seat(session, "org_a", "u2", POWER, NOW)

    assert freed.seat_type is None
    assert seated.seat_type is POWER


async def test_deallocate_seat_rejects_an_unknown_member(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        errors = await _rejected(
            session, lambda: p.deallocate_seat(session, "org_a", "ghost")
        )

    assert _codes(errors) == [("userId", "NOT_FOUND")]


async def test_change_seats_sets_the_total(sessions: SessionFactory) -> None:
    async with sessions() as session:
        await _org(session, seats=3)
        subscription = await p.change_seats(
            session, "org_a", 7, NOW + timedelta(hours=1)
        )

    assert subscription.seats == 7
    assert subscription.updated_at == NOW + timedelta(hours=1)


async def test_change_seats_down_to_the_allocated_count_is_allowed(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=3)
        await _join(session, "u1", POWER)
        await _join(session, "u2", POWER)
        subscription = await p.change_seats(session, "org_a", 2, NOW)

    assert subscription.seats == 2


async def test_change_seats_fails_below_the_allocated_count(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=3)
        await _join(session, "u1", POWER)
        await _join(session, "u2", COLLABORATOR)
        errors = await _rejected(
            session, lambda: p.change_seats(session, "org_a", 1, NOW)
        )

    assert _codes(errors) == [("total", "SEATS_IN_USE")]


async def test_change_seats_rejects_a_negative_total(sessions: SessionFactory) -> None:
    async with sessions() as session:
        await _org(session)
        errors = await _rejected(
            session, lambda: p.change_seats(session, "org_a", -1, NOW)
        )

    assert _codes(errors) == [("total", "INVALID")]


async def test_change_seats_rejects_an_organization_without_subscription(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session, seats=None)
        errors = await _rejected(
            session, lambda: p.change_seats(session, "org_a", 2, NOW)
        )

    assert _codes(errors) == [("organizationId", "NOT_FOUND")]


# Workspaces


async def test_upsert_workspace_creates_its_group(sessions: SessionFactory) -> None:
    spec = p.WorkspaceSpec("org_a", "ws1", "Payments", "g1", "Platform")
    async with sessions() as session:
        await _org(session)
        workspace = await p.upsert_workspace(session, spec)
        group = await session.get(WorkspaceGroup, ("org_a", "g1"))

    assert workspace.group_id == "g1"
    assert group is not None
    assert group.name == "Platform"


async def test_upsert_workspace_without_a_group_leaves_its_group(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        await p.upsert_workspace(
            session, p.WorkspaceSpec("org_a", "ws1", "Payments", "g1", "Platform")
        )
        workspace = await p.upsert_workspace(
            session, p.WorkspaceSpec("org_a", "ws1", "Payments v2")
        )
        count = len((await session.scalars(select(Workspace))).all())

    assert (workspace.name, workspace.group_id, count) == ("Payments v2", None, 1)


async def test_upsert_workspace_rejects_a_group_name_without_a_group(
    sessions: SessionFactory,
) -> None:
    spec = p.WorkspaceSpec("org_a", "ws1", "Payments", group_name="Platform")
    async with sessions() as session:
        await _org(session)
        errors = await _rejected(session, lambda: p.upsert_workspace(session, spec))

    assert _codes(errors) == [("groupName", "INVALID")]


# Credit grants


async def test_grant_credits_without_an_id_adds_a_grant_every_time(
    sessions: SessionFactory,
) -> None:
    spec = p.CreditGrantSpec("org_a", CreditPoolKind.BONUS, Decimal(100), reason="ref")
    async with sessions() as session:
        await _org(session)
        first = await p.grant_credits(session, spec, NOW)
        second = await p.grant_credits(session, spec, NOW)

    assert first.id != second.id
    assert (first.amount, first.spent, first.granted_at) == (
        Decimal(100),
        Decimal(0),
        NOW,
    )


async def test_grant_credits_with_an_id_is_idempotent(sessions: SessionFactory) -> None:
    spec = p.CreditGrantSpec(
        "org_a", CreditPoolKind.PURCHASED, Decimal(50), id="grant-1"
    )
    async with sessions() as session:
        await _org(session)
        await p.grant_credits(session, spec, NOW)
        await p.grant_credits(session, spec, NOW + timedelta(days=1))
        grants = (await session.scalars(select(CreditGrant))).all()

    assert [(g.id, g.amount, g.granted_at) for g in grants] == [
        ("grant-1", Decimal(50), NOW)
    ]


async def test_grant_credits_refuses_an_amount_below_what_was_spent(
    sessions: SessionFactory,
) -> None:
    spec = p.CreditGrantSpec("org_a", CreditPoolKind.BONUS, Decimal(50), id="g1")
    async with sessions() as session:
        await _org(session)
        grant = await p.grant_credits(session, spec, NOW)
        grant.spent = Decimal(30)
        errors = await _rejected(
            session,
            lambda: p.grant_credits(
                session,
                p.CreditGrantSpec("org_a", CreditPoolKind.BONUS, Decimal(20), id="g1"),
                NOW,
            ),
        )

    assert _codes(errors) == [("amount", "INVALID")]


async def test_grant_credits_rejects_a_negative_amount(
    sessions: SessionFactory,
) -> None:
    spec = p.CreditGrantSpec("org_a", CreditPoolKind.BONUS, Decimal(-10))
    async with sessions() as session:
        await _org(session)
        errors = await _rejected(session, lambda: p.grant_credits(session, spec, NOW))

    assert _codes(errors) == [("amount", "INVALID")]


async def test_grant_credits_rejects_the_monthly_pool(sessions: SessionFactory) -> None:
    spec = p.CreditGrantSpec("org_a", CreditPoolKind.MONTHLY, Decimal(10))
    async with sessions() as session:
        await _org(session)
        errors = await _rejected(session, lambda: p.grant_credits(session, spec, NOW))

    assert _codes(errors) == [("kind", "INVALID")]


async def test_grant_credits_rejects_a_new_grant_that_has_expired(
    sessions: SessionFactory,
) -> None:
    spec = p.CreditGrantSpec(
        "org_a", CreditPoolKind.BONUS, Decimal(10), expires_at=NOW - timedelta(days=1)
    )
    async with sessions() as session:
        await _org(session)
        errors = await _rejected(session, lambda: p.grant_credits(session, spec, NOW))

    assert _codes(errors) == [("expiresAt", "INVALID")]


# Model prices and reconciliation


async def test_set_model_price_updates_an_existing_price(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await p.set_model_price(
            session, p.ModelPriceSpec("m1", ModelTier.FAST, Decimal(1), Decimal(2))
        )
        await p.set_model_price(
            session,
            p.ModelPriceSpec(
                "m1", ModelTier.STANDARD, Decimal(3), Decimal(15), Decimal("0.3")
            ),
        )
        prices = (await session.scalars(select(ModelPrice))).all()

    assert [
        (row.tier, row.input_per_million_usd, row.cache_read_per_million_usd)
        for row in prices
    ] == [(ModelTier.STANDARD, Decimal(3), Decimal("0.3"))]


async def test_set_model_price_rejects_a_negative_price(
    sessions: SessionFactory,
) -> None:
    spec = p.ModelPriceSpec("m1", ModelTier.FAST, Decimal(-1), Decimal(2))
    async with sessions() as session:
        errors = await _rejected(session, lambda: p.set_model_price(session, spec))

    assert _codes(errors) == [("inputPerMillionUsd", "INVALID")]


async def test_set_reconciliation_replaces_the_state(sessions: SessionFactory) -> None:
    async with sessions() as session:
        await _org(session)
        await p.set_reconciliation(
            session, p.ReconciliationSpec("org_a", ReconciliationStatus.PENDING)
        )
        await p.set_reconciliation(
            session,
            p.ReconciliationSpec(
                "org_a", ReconciliationStatus.RECONCILED, Decimal("12.5"), NOW
            ),
        )
        rows = (await session.scalars(select(Reconciliation))).all()

    assert [(r.status, r.managed_ai_usage_usd, r.reconciled_at) for r in rows] == [
        (ReconciliationStatus.RECONCILED, Decimal("12.5"), NOW)
    ]


async def test_set_reconciliation_rejects_an_unknown_organization(
    sessions: SessionFactory,
) -> None:
    spec = p.ReconciliationSpec("org_x", ReconciliationStatus.PENDING)
    async with sessions() as session:
        errors = await _rejected(session, lambda: p.set_reconciliation(session, spec))

    assert _codes(errors) == [("organizationId", "NOT_FOUND")]


# Personal allocations


async def test_set_personal_allocation_sets_and_changes_the_limit(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        await _join(session, "u1")
        await p.set_personal_allocation(session, "org_a", "u1", "ai_tokens", Decimal(5))
        allocation = await p.set_personal_allocation(
            session, "org_a", "u1", "ai_tokens", Decimal(9)
        )
        count = len((await session.scalars(select(PersonalAllocation))).all())

    assert allocation is not None
    assert (allocation.limit, count) == (Decimal(9), 1)


async def test_set_personal_allocation_with_no_limit_removes_it(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        await _join(session, "u1")
        await p.set_personal_allocation(
            session, "org_a", "u1", "enrichments", Decimal(5)
        )
        removed = await p.set_personal_allocation(
            session, "org_a", "u1", "enrichments", None
        )
        remaining = (await session.scalars(select(PersonalAllocation))).all()

    assert removed is None
    assert remaining == []


async def test_set_personal_allocation_rejects_an_unknown_meter(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        await _join(session, "u1")
        errors = await _rejected(
            session,
            lambda: p.set_personal_allocation(
                session, "org_a", "u1", "nope", Decimal(1)
            ),
        )

    assert _codes(errors) == [("meter", "NOT_FOUND")]


async def test_set_personal_allocation_rejects_a_user_who_is_not_a_member(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        errors = await _rejected(
            session,
            lambda: p.set_personal_allocation(
                session, "org_a", "ghost", "ai_tokens", Decimal(1)
            ),
        )

    assert _codes(errors) == [("userId", "NOT_FOUND")]


async def test_set_personal_allocation_rejects_a_negative_limit(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await _org(session)
        await _join(session, "u1")
        errors = await _rejected(
            session,
            lambda: p.set_personal_allocation(
                session, "org_a", "u1", "ai_tokens", Decimal(-1)
            ),
        )

    assert _codes(errors) == [("limit", "INVALID")]


# Concurrency (PostgreSQL: row locks; SQLite serialises writers by itself)


async def test_allocate_seat_racing_for_the_last_seat_seats_only_one(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            await _org(session, seats=1)
            await _join(session, "u1")
            await _join(session, "u2")
            await session.commit()
        async with sessions() as first, sessions() as second:
            await p.allocate_seat(first, "org_a", "u1", POWER, NOW)
            racing = asyncio.ensure_future(
                p.allocate_seat(second, "org_a", "u2", POWER, NOW)
            )
            await asyncio.sleep(0.2)
            assert not racing.done(), "the second allocation must wait for the lock"
            await first.commit()
            with pytest.raises(p.Rejected) as caught:
                await racing
        async with sessions() as session:
            seated = list(
                await session.scalars(
                    select(Member.user_id).where(Member.seat_type.is_not(None))
                )
            )
    finally:
        await engine.dispose()

    assert _codes(caught.value.errors) == [("seatType", "NO_SEATS_AVAILABLE")]
    assert seated == ["u1"]
