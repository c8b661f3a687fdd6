"""The smallest UsagePage a statement count compares with: one limited meter used,
its admin alone, the monthly pool, one operation. Shared by
`tests/resolvers/test_statement_counts.py` and `test_request_session.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rules.enums import BillingState, PlanTier, Role, UsageStatus
from store import provisioning as p
from store.db import SessionFactory, create_engine, session_factory
from store.recording import UsageEventSpec, record_usage

SETUP = datetime(2025, 12, 1, tzinfo=UTC)
AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ADMIN = "admin"


@asynccontextmanager
async def store(url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def record(sessions: SessionFactory, events: list[UsageEventSpec]) -> None:
    now = max(spec.occurred_at for spec in events if spec.occurred_at is not None)
    outcomes = await record_usage(sessions, events, now)
    assert {outcome.status for outcome in outcomes} == {UsageStatus.ACCEPTED}, [
        outcome.message
        for outcome in outcomes
        if outcome.status is not UsageStatus.ACCEPTED
    ]


def usage(
    org_id: str, key: str, meter: str, quantity: str, at: datetime, **fields: Any
) -> UsageEventSpec:
    return UsageEventSpec(
        idempotency_key=key,
        organization_id=org_id,
        meter=meter,
        quantity=Decimal(quantity),
        occurred_at=at,
        **fields,
    )


async def small_organization(sessions: SessionFactory) -> None:
    """One limited meter used, its admin alone, the monthly pool, one operation."""
    async with sessions() as session, session.begin():
        await p.upsert_plan(
            session,
            p.PlanSpec(
                "small",
                "Small",
                PlanTier.STARTER,
                monthly_credits=Decimal(100),
                limits=(
                    p.PlanLimitSpec("emails_sent", Decimal(100)),
                    p.PlanLimitSpec("voice", credits_per_unit=Decimal(1)),
                ),
            ),
        )
        await p.upsert_organization(
            session,
            p.OrganizationSpec(
                "org_small",
                "Small",
                billing_state=BillingState.PAID,
                allowance_ui_details=True,
            ),
            SETUP,
        )
        await p.set_subscription(
            session,
            p.SubscriptionSpec("org_small", "small", 1, anchor=SETUP),
            SETUP,
        )
        await p.upsert_member(
            session,
            p.MemberSpec("org_small", ADMIN, "admin@example.com", "Admin", Role.ADMIN),
            SETUP,
        )
    await record(
        sessions,
        [
            usage("org_small", "s1", "emails_sent", "5", AT - timedelta(days=2)),
            usage("org_small", "s2", "voice", "3", AT - timedelta(days=1)),
        ],
    )
