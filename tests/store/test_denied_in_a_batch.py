"""A denied event inside a batch of accepted ones writes nothing and claims nothing.

The accepted events around it are stored with their rollups and credit draws; the
denied one leaves no row in usage_events, usage_rollups, usage_cycle_rollups,
credit_draws or credit_cycle_spend, no counter moves for it, and its idempotency key
stays free: resent once there is room, it is ACCEPTED, not DUPLICATE.

Every test runs once per way of deciding (tests/store/conftest.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select, update

from rules.cycles import cycle_for
from rules.enums import CreditPoolKind, UsageDecisionCode, UsageStatus
from store.counters import CounterStore, monthly_field, usage_field
from store.counters.redis import RedisCounterStore
from store.db import SessionFactory
from store.models import (
    CreditCycleSpend,
    CreditDraw,
    CreditGrant,
    PlanLimit,
    UsageCycleRollup,
    UsageEvent,
    UsageRollup,
)
from store.recording import EventOutcome, UsageEventSpec, record_usage
from store.usage_loads import FieldSource, load_fields
from tests import factories as f
from tests.store.conftest import close_counters

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
MARCH = cycle_for(f.EPOCH, NOW)
ACCEPTED, DUPLICATE, DENIED = (
    UsageStatus.ACCEPTED,
    UsageStatus.DUPLICATE,
    UsageStatus.DENIED,
)


@pytest.fixture
def database_url(way_url: str) -> str:
    return way_url


@pytest.fixture
async def store(counters: CounterStore | None) -> AsyncIterator[CounterStore | None]:
    yield counters
    await close_counters(counters)


async def _given(sessions: SessionFactory) -> None:
    """`org_a` on `pro`: 10 MONTHLY credits; enrichments capped at 3 (1 credit per
    unit); api_calls unlimited at 1 credit per unit."""
    async with sessions() as session:
        await f.add_all(
            session,
            f.organization("org_a"),
            f.plan("pro", monthly_credits=Decimal(10)),
            f.limit("pro", "enrichments", "3", credits_per_unit=Decimal(1)),
            f.limit("pro", "api_calls", None, credits_per_unit=Decimal(1)),
            f.subscription("org_a", "pro"),
        )


def _ev(key: str, meter: str, quantity: str) -> UsageEventSpec:
    return UsageEventSpec(key, "org_a", meter, Decimal(quantity))


async def _record(
    sessions: SessionFactory, store: CounterStore | None, *events: UsageEventSpec
) -> list[tuple[UsageStatus, UsageDecisionCode | None]]:
    outcomes: list[EventOutcome] = await record_usage(
        sessions, list(events), NOW, store
    )
    return [(outcome.status, outcome.code) for outcome in outcomes]


async def _rows(sessions: SessionFactory) -> dict[str, Any]:
    """Every row a decision may write, as comparable values."""
    async with sessions() as session:
        events = (
            await session.execute(
                select(
                    UsageEvent.id,
                    UsageEvent.idempotency_key,
                    UsageEvent.quantity,
                    UsageEvent.credits,
                ).order_by(UsageEvent.id)
            )
        ).all()
        keys_by_id = {row.id: row.idempotency_key for row in events}
        draws = (
            await session.execute(
                select(
                    CreditDraw.event_id, CreditDraw.kind, CreditDraw.amount
                ).order_by(CreditDraw.id)
            )
        ).all()
        hourly = (
            await session.execute(
                select(
                    UsageRollup.meter_key,
                    UsageRollup.dimension,
                    UsageRollup.quantity,
                    UsageRollup.credits,
                    UsageRollup.events,
                ).order_by(UsageRollup.meter_key, UsageRollup.dimension)
            )
        ).all()
        cycle = (
            await session.execute(
                select(
                    UsageCycleRollup.meter_key,
                    UsageCycleRollup.dimension,
                    UsageCycleRollup.quantity,
                    UsageCycleRollup.credits,
                    UsageCycleRollup.events,
                ).order_by(UsageCycleRollup.meter_key, UsageCycleRollup.dimension)
            )
        ).all()
        spend = (
            await session.execute(
                select(CreditCycleSpend.grant_id, CreditCycleSpend.spent).order_by(
                    CreditCycleSpend.grant_id
                )
            )
        ).all()
    return {
        "events": [(row.idempotency_key, row.quantity, row.credits) for row in events],
        "draws": [(keys_by_id[row.event_id], row.kind, row.amount) for row in draws],
        "hourly": [tuple(row) for row in hourly],
        "cycle": [tuple(row) for row in cycle],
        "spend": [tuple(row) for row in spend],
    }


async def _counters_equal_sql(
    sessions: SessionFactory, store: CounterStore | None, meter: str
) -> None:
    if store is None:
        return
    sources = {
        usage_field(meter, MARCH.start): FieldSource(meter=meter, cycle=MARCH),
        monthly_field(MARCH.start): FieldSource(monthly=MARCH),
    }
    async with sessions() as session:
        truth = (await load_fields(session, {"org_a": sources}))["org_a"]
    assert await store.values("org_a", list(sources)) == truth


async def _claimed(store: CounterStore | None) -> list[bytes | str]:
    """The idempotency keys Redis holds as reserved for `org_a` (none elsewhere)."""
    if not isinstance(store, RedisCounterStore):
        return []
    client: Redis = store.redis
    claimed: list[bytes | str] = await client.hkeys(store.claims_key("org_a"))
    return claimed


def _rollup(meter: str, quantity: int, events: int) -> list[tuple[Any, ...]]:
    """The rollup rows of events without user, workspace or feature."""
    return [
        (meter, "source", Decimal(quantity), Decimal(quantity), events),
        (meter, "total", Decimal(quantity), Decimal(quantity), events),
    ]


async def test_a_limit_denial_between_accepted_events_writes_only_the_accepted(
    sessions: SessionFactory, store: CounterStore | None
) -> None:
    await _given(sessions)

    decided = await _record(
        sessions,
        store,
        _ev("a", "enrichments", "2"),
        _ev("b", "enrichments", "2"),  # 2 + 2 > 3
        _ev("c", "enrichments", "1"),
    )

    assert decided == [
        (ACCEPTED, None),
        (DENIED, UsageDecisionCode.LIMIT_REACHED),
        (ACCEPTED, None),
    ]
    monthly = CreditPoolKind.MONTHLY
    assert await _rows(sessions) == {
        "events": [("a", Decimal(2), Decimal(2)), ("c", Decimal(1), Decimal(1))],
        "draws": [("a", monthly, Decimal(2)), ("c", monthly, Decimal(1))],
        "hourly": _rollup("enrichments", 3, 2),
        "cycle": _rollup("enrichments", 3, 2),
        "spend": [("", Decimal(3))],
    }
    assert await _claimed(store) == []
    await _counters_equal_sql(sessions, store, "enrichments")


async def test_a_credits_denial_between_accepted_events_writes_only_the_accepted(
    sessions: SessionFactory, store: CounterStore | None
) -> None:
    await _given(sessions)

    decided = await _record(
        sessions,
        store,
        _ev("a", "api_calls", "6"),
        _ev("b", "api_calls", "5"),  # 6 + 5 credits > 10
        _ev("c", "api_calls", "4"),
    )

    assert decided == [
        (ACCEPTED, None),
        (DENIED, UsageDecisionCode.CREDITS_EXHAUSTED),
        (ACCEPTED, None),
    ]
    monthly = CreditPoolKind.MONTHLY
    assert await _rows(sessions) == {
        "events": [("a", Decimal(6), Decimal(6)), ("c", Decimal(4), Decimal(4))],
        "draws": [("a", monthly, Decimal(6)), ("c", monthly, Decimal(4))],
        "hourly": _rollup("api_calls", 10, 2),
        "cycle": _rollup("api_calls", 10, 2),
        "spend": [("", Decimal(10))],
    }
    assert await _claimed(store) == []
    await _counters_equal_sql(sessions, store, "api_calls")


async def test_a_denied_key_resent_once_the_limit_is_raised_is_accepted(
    sessions: SessionFactory, store: CounterStore | None
) -> None:
    await _given(sessions)
    first = await _record(
        sessions,
        store,
        _ev("a", "enrichments", "2"),
        _ev("b", "enrichments", "2"),
        _ev("c", "enrichments", "1"),
    )
    async with sessions() as session:
        await session.execute(
            update(PlanLimit)
            .where(PlanLimit.plan_key == "pro", PlanLimit.meter_key == "enrichments")
            .values(limit=Decimal(10))
        )
        await session.commit()

    again = await _record(
        sessions,
        store,
        _ev("a", "enrichments", "2"),
        _ev("b", "enrichments", "2"),
        _ev("c", "enrichments", "1"),
    )

    assert [status for status, _ in first] == [ACCEPTED, DENIED, ACCEPTED]
    assert again == [(DUPLICATE, None), (ACCEPTED, None), (DUPLICATE, None)]
    rows = await _rows(sessions)
    assert [key for key, _, _ in rows["events"]] == ["a", "c", "b"]
    assert rows["spend"] == [("", Decimal(5))]
    await _counters_equal_sql(sessions, store, "enrichments")


async def test_a_key_denied_for_credits_resent_after_a_grant_is_accepted(
    sessions: SessionFactory, store: CounterStore | None
) -> None:
    await _given(sessions)
    first = await _record(
        sessions,
        store,
        _ev("a", "api_calls", "6"),
        _ev("b", "api_calls", "5"),
        _ev("c", "api_calls", "4"),
    )
    async with sessions() as session:
        await f.add_all(
            session,
            CreditGrant(
                id="bonus",
                organization_id="org_a",
                kind=CreditPoolKind.BONUS,
                amount=Decimal(5),
                spent=Decimal(0),
                granted_at=NOW,
                expires_at=None,
            ),
        )

    [resent] = await _record(sessions, store, _ev("b", "api_calls", "5"))

    assert [status for status, _ in first] == [ACCEPTED, DENIED, ACCEPTED]
    assert resent == (ACCEPTED, None)
    rows = await _rows(sessions)
    assert rows["draws"][-1] == ("b", CreditPoolKind.BONUS, Decimal(5))
    assert rows["spend"] == [("", Decimal(10)), ("bonus", Decimal(5))]
