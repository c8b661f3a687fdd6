"""Each event draws its credits in the contract's order: MONTHLY, then BONUS by
earliest expiry, then PURCHASED; never from a later pool while an earlier one still
had a balance when the event was decided.

Checked per event, not only in the totals: sequential events (one call each, or one
call of several) have one exact set of draws each, worked by hand. Racing events,
whose decision order is not observable, must each be paid in full from pools
consecutive in draw order, and sorted by their pools they must hand over from one
pool to the next with no pool left out, every pool before the last one drawn ending
empty.

Pools: MONTHLY 10, BONUS "soon" 5 (expires 2026-03-20), BONUS "late" 5 (expires
2026-04-30), BONUS "gone" 100 (expired 2026-03-05: never drawn), PURCHASED "bought"
50. Every test runs once per way of deciding (tests/store/conftest.py).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import select

from rules.cycles import cycle_for
from rules.enums import CreditPoolKind, UsageStatus
from store.counters import CounterStore, grant_field, monthly_field
from store.db import SessionFactory, create_engine, session_factory
from store.models import CreditDraw, CreditGrant, UsageEvent
from store.recording import UsageEventSpec, record_usage
from store.usage_loads import FieldSource, load_fields
from tests import factories as f
from tests.store.conftest import close_counters

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
MARCH = cycle_for(f.EPOCH, NOW)
MONTHLY, BONUS, PURCHASED = (
    CreditPoolKind.MONTHLY,
    CreditPoolKind.BONUS,
    CreditPoolKind.PURCHASED,
)
ORDER: list[str | None] = [None, "soon", "late", "bought"]
"""The draw order: the MONTHLY pool (no grant), then the grants."""
GRANTED = {None: Decimal(10), "soon": Decimal(5), "late": Decimal(5)}


@pytest.fixture
def database_url(way_url: str) -> str:
    return way_url


@pytest.fixture
async def store(counters: CounterStore | None) -> AsyncIterator[CounterStore | None]:
    yield counters
    await close_counters(counters)


def _grant(
    grant_id: str, kind: CreditPoolKind, amount: str, expires_at: datetime | None
) -> CreditGrant:
    return CreditGrant(
        id=grant_id,
        organization_id="org_a",
        kind=kind,
        amount=Decimal(amount),
        spent=Decimal(0),
        granted_at=f.EPOCH,
        expires_at=expires_at,
    )


async def _given(sessions: SessionFactory) -> None:
    async with sessions() as session:
        await f.add_all(
            session,
            f.organization("org_a"),
            f.plan("pro", monthly_credits=Decimal(10)),
            f.limit("pro", "api_calls", None, credits_per_unit=Decimal(1)),
            f.subscription("org_a", "pro"),
            # Created in an order that is not the draw order.
            _grant("bought", PURCHASED, "50", None),
            _grant("late", BONUS, "5", datetime(2026, 4, 30, tzinfo=UTC)),
            _grant("gone", BONUS, "100", datetime(2026, 3, 5, tzinfo=UTC)),
            _grant("soon", BONUS, "5", datetime(2026, 3, 20, tzinfo=UTC)),
        )


def _ev(key: str, credits: str) -> UsageEventSpec:
    return UsageEventSpec(key, "org_a", "api_calls", Decimal(credits))


async def _draws(
    sessions: SessionFactory,
) -> dict[str, list[tuple[str | None, Decimal]]]:
    """Per event key, its draws (grant id, None for MONTHLY, and amount) in the
    order they were stored."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    UsageEvent.idempotency_key,
                    CreditDraw.kind,
                    CreditDraw.grant_id,
                    CreditDraw.amount,
                )
                .join(UsageEvent, UsageEvent.id == CreditDraw.event_id)
                .order_by(CreditDraw.id)
            )
        ).all()
    found: dict[str, list[tuple[str | None, Decimal]]] = defaultdict(list)
    for key, kind, grant, amount in rows:
        assert (kind is MONTHLY) == (grant is None)
        found[key].append((grant, amount))
    return dict(found)


async def _counters_equal_sql(
    sessions: SessionFactory, store: CounterStore | None
) -> None:
    if store is None:
        return
    sources: dict[str, FieldSource] = {
        monthly_field(MARCH.start): FieldSource(monthly=MARCH)
    }
    for grant in ("soon", "late", "bought", "gone"):
        sources[grant_field(grant)] = FieldSource(grant=grant)
    async with sessions() as session:
        truth = (await load_fields(session, {"org_a": sources}))["org_a"]
    assert await store.values("org_a", list(sources)) == truth


# Sequential spends of 4 credits, then 1: what each one draws, worked by hand.
SPENDS = ["4", "4", "4", "4", "4", "4", "1"]
EXPECTED: dict[str, list[tuple[str | None, Decimal]]] = {
    "e0": [(None, Decimal(4))],  # MONTHLY 10 -> 6
    "e1": [(None, Decimal(4))],  # MONTHLY 6 -> 2
    "e2": [(None, Decimal(2)), ("soon", Decimal(2))],  # MONTHLY empty, soon 3
    "e3": [("soon", Decimal(3)), ("late", Decimal(1))],  # soon empty, late 4
    "e4": [("late", Decimal(4))],  # late empty
    "e5": [("bought", Decimal(4))],  # PURCHASED 50 -> 46
    "e6": [("bought", Decimal(1))],
}


async def test_each_sequential_event_draws_monthly_then_bonus_by_expiry_then_purchased(
    sessions: SessionFactory, store: CounterStore | None
) -> None:
    await _given(sessions)

    for n, credits in enumerate(SPENDS):
        [outcome] = await record_usage(sessions, [_ev(f"e{n}", credits)], NOW, store)
        assert outcome.status is UsageStatus.ACCEPTED

    assert await _draws(sessions) == EXPECTED
    await _counters_equal_sql(sessions, store)


async def test_each_event_of_one_call_draws_after_the_events_before_it(
    sessions: SessionFactory, store: CounterStore | None
) -> None:
    await _given(sessions)

    outcomes = await record_usage(
        sessions, [_ev(f"e{n}", c) for n, c in enumerate(SPENDS)], NOW, store
    )

    assert {outcome.status for outcome in outcomes} == {UsageStatus.ACCEPTED}
    assert await _draws(sessions) == EXPECTED
    await _counters_equal_sql(sessions, store)


def _pool(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {}
    return {"pool_size": 40, "max_overflow": 10, "pool_timeout": 60}


async def test_racing_spends_each_draw_the_pools_in_order_without_skipping_one(
    database_url: str, store: CounterStore | None
) -> None:
    engine = create_engine(database_url, **_pool(database_url))
    sessions = session_factory(engine)
    try:
        await _given(sessions)
        # 25 credits: MONTHLY's 10, soon's 5, late's 5, then 5 of the purchased 50.
        spends = ["1.5", "0.5"] * 10 + ["1"] * 5

        results = await asyncio.gather(
            *(
                record_usage(sessions, [_ev(f"r{n}", credits)], NOW, store)
                for n, credits in enumerate(spends)
            )
        )

        assert {outcome.status for [outcome] in results} == {UsageStatus.ACCEPTED}
        draws = await _draws(sessions)
        await _counters_equal_sql(sessions, store)
    finally:
        await engine.dispose()

    assert len(draws) == len(spends)
    # Each event: its credits in full, from pools consecutive in draw order.
    ranges = []
    for n, credits in enumerate(spends):
        mine = draws[f"r{n}"]
        ranks = [ORDER.index(grant) for grant, _ in mine]
        assert ranks == list(range(ranks[0], ranks[0] + len(ranks))), mine
        assert sum(amount for _, amount in mine) == Decimal(credits)
        ranges.append((ranks[0], ranks[-1]))
    # Events in their pools' order hand over from one pool to the next: an event
    # starts in the pool the one before it ended in (or the next, when that one
    # emptied exactly); no pool is left out while a later one is drawn.
    ranges.sort()
    assert ranges[0][0] == 0
    for (_, last), (first, _) in pairwise(ranges):
        assert first in (last, last + 1), ranges
    spent: dict[str | None, Decimal] = defaultdict(Decimal)
    for mine in draws.values():
        for grant, amount in mine:
            spent[grant] += amount
    assert dict(spent) == {**GRANTED, "bought": Decimal(5)}
