"""The demo loads through the real write path, and loading it twice adds nothing.

Loading takes seconds, so one module fixture loads a fresh migrated SQLite database
twice and keeps what the tests look at.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway import demo
from rules.enums import Role
from store.db import create_engine, session_factory
from store.migrate import upgrade
from store.models import Base, Member, Organization, Subscription, UsageEvent

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
MAIN_ORGANIZATIONS = (
    "org_meetly",
    "org_pipeline",
    "org_forge",
    "org_hostel",
    "org_callbell",
)


@dataclass(frozen=True)
class Loaded:
    counts_after_first: dict[str, int]
    counts_after_second: dict[str, int]
    organizations: dict[str, str]
    subscriptions: dict[str, tuple[str, int]]
    events: dict[str, int]
    unpriced_events: int
    first_event: datetime
    last_event: datetime
    roles: dict[tuple[str, str], Role]
    seated: dict[str, int]


async def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                table.name: (
                    await connection.execute(select(func.count()).select_from(table))
                ).scalar_one()
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


async def _load_twice(url: str) -> Loaded:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        await demo.load_demo(sessions, NOW)
        first = await _counts(url)
        await demo.load_demo(sessions, NOW)
        second = await _counts(url)
        async with sessions() as session:
            organizations = dict(
                (
                    await session.execute(select(Organization.id, Organization.name))
                ).all()
            )
            subscriptions = {
                row.organization_id: (row.plan_key, row.seats)
                for row in await session.scalars(select(Subscription))
            }
            events = dict(
                (
                    await session.execute(
                        select(UsageEvent.organization_id, func.count()).group_by(
                            UsageEvent.organization_id
                        )
                    )
                ).all()
            )
            unpriced = await session.scalar(
                select(func.count()).where(UsageEvent.unpriced.is_(True))
            )
            first_event, last_event = (
                await session.execute(
                    select(
                        func.min(UsageEvent.occurred_at),
                        func.max(UsageEvent.occurred_at),
                    )
                )
            ).one()
            members = (await session.scalars(select(Member))).all()
    finally:
        await engine.dispose()
    return Loaded(
        counts_after_first=first,
        counts_after_second=second,
        organizations=organizations,
        subscriptions=subscriptions,
        events=events,
        unpriced_events=unpriced or 0,
        first_event=first_event,
        last_event=last_event,
        roles={(m.organization_id, m.user_id): m.role for m in members},
        seated=Counter(m.organization_id for m in members if m.seat_type is not None),
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    path: Path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    return asyncio.run(_load_twice(f"sqlite+aiosqlite:///{path}"))


def test_load_demo_twice_adds_nothing_the_second_time(loaded: Loaded) -> None:
    assert loaded.counts_after_second == loaded.counts_after_first
    assert loaded.counts_after_first["usage_events"] > 0


def test_every_demo_organization_exists_with_a_subscription(loaded: Loaded) -> None:
    assert set(loaded.organizations) == set(demo.DEMO_ORGANIZATIONS)
    assert set(loaded.subscriptions) == set(demo.DEMO_ORGANIZATIONS)


def test_every_demo_organization_has_accepted_events(loaded: Loaded) -> None:
    without = [org for org in demo.DEMO_ORGANIZATIONS if not loaded.events.get(org)]
    assert without == []


def test_demo_events_stay_modest_for_a_quick_start(loaded: Loaded) -> None:
    assert 15_000 <= sum(loaded.events.values()) <= 30_000


def test_demo_events_cover_about_four_months_up_to_now(loaded: Loaded) -> None:
    assert loaded.first_event <= NOW - timedelta(days=110)
    assert loaded.last_event <= NOW


def test_demo_includes_unpriced_ai_events(loaded: Loaded) -> None:
    assert loaded.unpriced_events > 0


def test_demo_users_have_the_documented_roles(loaded: Loaded) -> None:
    organization = demo.DEMO_ORGANIZATION
    assert loaded.roles[(organization, demo.DEMO_ADMIN_USER)] is Role.ADMIN
    assert loaded.roles[(organization, demo.DEMO_MEMBER_USER)] is Role.MEMBER


def test_main_organizations_have_20_to_60_members_of_every_role(
    loaded: Loaded,
) -> None:
    for organization in MAIN_ORGANIZATIONS:
        roles = [r for (org, _), r in loaded.roles.items() if org == organization]
        assert 20 <= len(roles) <= 60, organization
        assert set(roles) == set(Role), organization


def test_seats_allocated_stay_within_each_subscription(loaded: Loaded) -> None:
    for organization, (_, seats) in loaded.subscriptions.items():
        assert loaded.seated[organization] <= seats, organization
