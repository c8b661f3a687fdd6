"""Small builders for test data: each test states the rows it needs, nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from rules.enums import (
    ApiKeyKind,
    BillingModel,
    BillingState,
    Enforcement,
    PlanTier,
    Role,
    SeatType,
    SubscriptionStatus,
    UsageSource,
)
from store.api_keys import create_api_key
from store.db import create_engine, session_factory
from store.models import (
    Member,
    Organization,
    Plan,
    PlanLimit,
    Subscription,
    UsageEvent,
    User,
)

_keys = count(1)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def organization(id: str = "org_a", **fields: object) -> Organization:
    values: dict[str, object] = {
        "name": id.replace("_", " ").title(),
        "billing_model": BillingModel.CREDITS,
        "billing_state": BillingState.PAID,
        "trial_approved": False,
        "allowance_ui_details": False,
        "show_dollars_preview": False,
        "workspace_time_balance_hours": Decimal(0),
        "managed_ai_balance_usd": Decimal(0),
        "created_at": EPOCH,
    }
    values.update(fields)
    return Organization(id=id, **values)


def plan(key: str = "pro", **fields: object) -> Plan:
    values: dict[str, object] = {
        "name": key.title(),
        "tier": PlanTier.PRO,
        "currency": "USD",
    }
    values.update(fields)
    return Plan(key=key, **values)


def limit(plan_key: str, meter: str, value: str | None, **fields: object) -> PlanLimit:
    values: dict[str, object] = {"per_seat": False, "enforcement": Enforcement.HARD}
    values.update(fields)
    return PlanLimit(
        plan_key=plan_key,
        meter_key=meter,
        limit=None if value is None else Decimal(value),
        **values,
    )


def subscription(
    organization_id: str = "org_a", plan_key: str = "pro", **fields: object
) -> Subscription:
    values: dict[str, object] = {
        "seats": 5,
        "status": SubscriptionStatus.ACTIVE,
        "anchor": EPOCH,
        "payment_retries_exhausted": False,
        "updated_at": EPOCH,
    }
    values.update(fields)
    return Subscription(organization_id=organization_id, plan_key=plan_key, **values)


def member(
    organization_id: str,
    user_id: str,
    role: Role = Role.MEMBER,
    seat_type: SeatType | None = None,
    name: str | None = None,
    email: str | None = None,
) -> tuple[User, Member]:
    user = User(
        id=user_id,
        email=email or f"{user_id}@example.com",
        name=name or user_id.title(),
    )
    return user, Member(
        organization_id=organization_id,
        user_id=user_id,
        role=role,
        seat_type=seat_type,
        joined_at=EPOCH,
    )


def event(
    organization_id: str,
    meter: str,
    quantity: str,
    occurred_at: datetime,
    **fields: object,
) -> UsageEvent:
    """A raw stored event (bypasses the write path: for read-side tests only)."""
    values: dict[str, object] = {
        "idempotency_key": f"test-{next(_keys)}",
        "received_at": occurred_at,
        "source": UsageSource.API,
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "unpriced": False,
        "credits": Decimal(0),
        "free_units_used": Decimal(0),
    }
    values.update(fields)
    return UsageEvent(
        organization_id=organization_id,
        meter_key=meter,
        quantity=Decimal(quantity),
        occurred_at=occurred_at,
        **values,
    )


async def add_all(session: AsyncSession, *rows: object) -> None:
    """Add rows in dependency order (flush between groups) and commit."""
    for row in rows:
        # No ORM relationships order the inserts, so flush each row on its own.
        for part in row if isinstance(row, tuple) else (row,):
            session.add(part)
            await session.flush()
    await session.commit()


async def subscribed_with_operator(
    url: str, organization_id: str, enrichments_limit: str = "3"
) -> str:
    """An organization on `pro` (enrichments limited), subscribed since yesterday, and
    an OPERATOR key: the secret of that key."""
    now = datetime.now(UTC)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await add_all(
                session,
                organization(organization_id),
                plan("pro"),
                limit("pro", "enrichments", enrichments_limit),
                subscription(organization_id, "pro", anchor=now - timedelta(days=1)),
            )
            _, secret = await create_api_key(
                session, ApiKeyKind.OPERATOR, "operator", (), now
            )
            await session.commit()
    finally:
        await engine.dispose()
    return secret
