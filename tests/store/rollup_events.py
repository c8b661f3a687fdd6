"""Events written straight into SQL with their hourly rollups, as the write path
does, and sums computed by hand from them: shared by `tests/store/test_rollups.py`
and `tests/resolvers/test_many_parents.py`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from rules.enums import AiFeature, BillingModel, BillingState, UsageSource
from store.db import SessionFactory
from store.models import Organization, UsageEvent
from store.rollups import Totals, add_to_rollups

ORG = "org-rollups"
T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
_keys = count()


def event(
    meter: str,
    quantity: str,
    occurred_at: datetime,
    *,
    credits: str = "0",
    cost_usd: str | None = None,
    unpriced: bool = False,
    free_units_used: str = "0",
    source: UsageSource = UsageSource.API,
    user_id: str | None = None,
    workspace_id: str | None = None,
    feature: AiFeature | None = None,
    model: str | None = None,
) -> UsageEvent:
    return UsageEvent(
        organization_id=ORG,
        idempotency_key=f"key-{next(_keys)}",
        meter_key=meter,
        quantity=Decimal(quantity),
        occurred_at=occurred_at,
        received_at=occurred_at,
        cycle_start=None,
        user_id=user_id,
        workspace_id=workspace_id,
        source=source,
        feature=feature,
        model=model,
        input_tokens=0,
        output_tokens=0,
        cache_read_tokens=0,
        cache_write_tokens=0,
        cost_usd=None if cost_usd is None else Decimal(cost_usd),
        unpriced=unpriced,
        credits=Decimal(credits),
        free_units_used=Decimal(free_units_used),
    )


async def record(sessions: SessionFactory, events: list[UsageEvent]) -> None:
    """Store events and their rollups in one transaction, as the write path does."""
    async with sessions() as session, session.begin():
        if await session.get(Organization, ORG) is None:
            session.add(
                Organization(
                    id=ORG,
                    name="Rollups",
                    billing_model=BillingModel.CREDITS,
                    billing_state=BillingState.PAID,
                    workspace_time_balance_hours=Decimal(0),
                    managed_ai_balance_usd=Decimal(0),
                    created_at=T0 - timedelta(days=30),
                )
            )
            await session.flush()
        session.add_all(events)
        await session.flush()
        await add_to_rollups(session, events)


def by_hand(
    events: list[UsageEvent], dimension: str, start: datetime | None, end: datetime
) -> dict[tuple[str, str], Totals]:
    """The definition from the events: own meter, plus the AI cost on the budget."""
    result: dict[tuple[str, str], Totals] = {}
    for item in events:
        if (start is not None and item.occurred_at < start) or item.occurred_at >= end:
            continue
        key = {"total": "", "user": item.user_id, "source": item.source.name}[dimension]
        if key is None:
            continue
        cost = item.cost_usd or Decimal(0)
        own = Totals(item.quantity, item.credits, cost, item.free_units_used, 1, 0)
        result[(item.meter_key, key)] = (
            result.get((item.meter_key, key), Totals.zero()) + own
        )
        if cost:
            budget = Totals(cost, Decimal(0), Decimal(0), Decimal(0), 0, 0)
            slot = ("ai_spend_usd", key)
            result[slot] = result.get(slot, Totals.zero()) + budget
    return result
