"""Redis flushed, stopped and back while writers race (and processes without Redis):
decisions stay exact, and the counters end equal to the SQL totals.

PostgreSQL and a Redis of the test's own (`redis_server`), so the test may flush it
and stop it. Twenty writers send 300 single-unit events against a hard limit of 200;
exactly 200 are accepted however Redis comes and goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from rules.cycles import cycle_for
from rules.enums import UsageDecisionCode, UsageStatus
from store.counters import (
    Batch,
    CounterStore,
    CountersUnavailable,
    EventPlan,
    Reserved,
    Stale,
    monthly_field,
    usage_field,
)
from store.counters.memory import MemoryCounterStore
from store.counters.redis import RedisCounterStore
from store.db import SessionFactory, create_engine, session_factory
from store.models import UsageEvent
from store.recording import (
    EventOutcome,
    UsageEventSpec,
    check_usage,
    record_usage,
)
from store.usage_loads import FieldSource, load_fields
from tests import factories as f
from tests.conftest import RedisServer

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
MARCH = cycle_for(f.EPOCH, NOW)
WRITERS, CALLS, LIMIT = 20, 15, 200
USED = usage_field("enrichments", MARCH.start)
SPENT = monthly_field(MARCH.start)


@pytest.fixture
async def sessions(postgres_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(postgres_url, pool_size=WRITERS + 5)
    sessions = session_factory(engine)
    async with sessions() as session:
        await f.add_all(
            session,
            f.organization("org_a"),
            f.plan("pro", monthly_credits=Decimal(1000)),
            f.limit("pro", "enrichments", str(LIMIT), credits_per_unit=Decimal("0.5")),
            f.subscription("org_a", "pro"),
        )
    yield sessions
    await engine.dispose()


def _store(server: RedisServer) -> RedisCounterStore:
    return RedisCounterStore(server.url, retry_after=0.05, timeout=1.0)


def _event(writer: int, call: int) -> UsageEventSpec:
    return UsageEventSpec(f"w{writer}-{call}", "org_a", "enrichments", Decimal(1))


async def _race(
    sessions: SessionFactory,
    store: CounterStore | Sequence[CounterStore],
    midway: list[tuple[int, Callable[[], None]]],
) -> tuple[list[EventOutcome], list[str]]:
    """Every writer's calls, one event each; each action runs once, after that many
    calls. Returns the outcomes and the store's mode after each call. With several
    stores, writers take turns (each store stands for a process of its own)."""
    stores = [store] if not isinstance(store, Sequence) else list(store)
    outcomes: list[EventOutcome] = []
    modes: list[str] = []
    actions = sorted(midway, key=lambda action: action[0])

    async def writer(number: int) -> None:
        mine = stores[number % len(stores)]
        for call in range(CALLS):
            [outcome] = await record_usage(sessions, [_event(number, call)], NOW, mine)
            outcomes.append(outcome)
            modes.append(mine.mode)
            while actions and len(outcomes) >= actions[0][0]:
                _, action = actions.pop(0)
                await asyncio.to_thread(action)

    await asyncio.gather(*(writer(number) for number in range(WRITERS)))
    return outcomes, modes


async def _sql_truth(sessions: SessionFactory) -> dict[str, Decimal]:
    sources = {
        USED: FieldSource(meter="enrichments", cycle=MARCH),
        SPENT: FieldSource(monthly=MARCH),
    }
    async with sessions() as session:
        return (await load_fields(session, {"org_a": sources}))["org_a"]


async def _exact(sessions: SessionFactory, outcomes: list[EventOutcome]) -> None:
    accepted = [o for o in outcomes if o.status is UsageStatus.ACCEPTED]
    assert len(accepted) == LIMIT
    assert {o.code for o in outcomes if o not in accepted} == {
        UsageDecisionCode.LIMIT_REACHED
    }
    assert await _sql_truth(sessions) == {USED: Decimal(LIMIT), SPENT: Decimal(100)}
    async with sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(UsageEvent))
    assert stored == LIMIT


async def _counters_equal_sql(sessions: SessionFactory, store: CounterStore) -> None:
    """After one more decision (which rebuilds lost counters), they equal SQL."""
    [late] = await record_usage(sessions, [_event(99, 0)], NOW, store)
    assert late.code is UsageDecisionCode.LIMIT_REACHED
    assert store.mode in ("redis", "in-process")
    assert await store.values("org_a", [USED, SPENT]) == await _sql_truth(sessions)


async def test_redis_flushed_mid_run(
    sessions: SessionFactory, redis_server: RedisServer
) -> None:
    store = _store(redis_server)
    try:
        outcomes, _ = await _race(
            sessions, store, [(60, redis_server.flush), (180, redis_server.flush)]
        )

        await _exact(sessions, outcomes)
        await _counters_equal_sql(sessions, store)
    finally:
        await store.aclose()


async def test_redis_stopped_mid_run_and_back(
    sessions: SessionFactory,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _store(redis_server)
    caplog.set_level(logging.WARNING, "usage_gateway.counters")
    try:
        outcomes, modes = await _race(
            sessions, store, [(80, redis_server.stop), (160, redis_server.start)]
        )

        await _exact(sessions, outcomes)
        assert "sql-fallback" in modes
        assert modes[-1] == "redis"
        await _counters_equal_sql(sessions, store)
    finally:
        await store.aclose()
    logged = [record.getMessage() for record in caplog.records]
    assert any("Redis is unreachable" in message for message in logged)
    assert any("Redis is reachable again" in message for message in logged)


async def test_without_redis_from_the_start_decisions_come_from_sql(
    sessions: SessionFactory, redis_server: RedisServer
) -> None:
    redis_server.stop()
    store = _store(redis_server)
    try:
        outcomes, modes = await _race(sessions, store, [])
        check = await check_usage(
            sessions, "org_a", "enrichments", Decimal(1), None, NOW, store
        )
    finally:
        await store.aclose()

    await _exact(sessions, outcomes)
    assert set(modes) == {"sql-fallback"}
    assert (check.allowed, check.used) == (False, Decimal(LIMIT))


async def test_two_processes_with_in_process_counters_stay_exact(
    sessions: SessionFactory,
) -> None:
    # Without Redis each process keeps its own counters: every write moves the
    # organization's version, so each rebuilds what the other wrote before deciding.
    first, second = MemoryCounterStore(), MemoryCounterStore()

    outcomes, _ = await _race(sessions, [first, second], [])

    await _exact(sessions, outcomes)
    await _counters_equal_sql(sessions, first)
    await _counters_equal_sql(sessions, second)


async def test_a_release_after_a_rebuild_changes_nothing(
    redis_server: RedisServer,
) -> None:
    store = _store(redis_server)
    plan = EventPlan("k1", adds=((USED, Decimal(5)),))
    try:
        await store.rebuild("org_a", 3)
        [first] = await store.reserve([Batch("org_a", 3, [plan], {USED: Decimal(1)})])
        assert isinstance(first, Reserved)
        redis_server.flush()
        [gone] = await store.reserve([Batch("org_a", 3, [plan])])
        await store.rebuild("org_a", 3)
        [again] = await store.reserve(
            [
                Batch(
                    "org_a",
                    3,
                    [EventPlan("k2", adds=((USED, Decimal(2)),))],
                    {USED: Decimal(1)},
                )
            ]
        )

        await store.release([first.reservation])  # of the flushed generation

        assert isinstance(gone, Stale)
        assert isinstance(again, Reserved)
        assert await store.values("org_a", [USED]) == {USED: Decimal(3)}
    finally:
        await store.aclose()


async def test_counters_a_timed_out_call_may_have_changed_are_rebuilt(
    redis_server: RedisServer,
) -> None:
    store = RedisCounterStore(redis_server.url, retry_after=0.05, timeout=0.3)
    other = Redis.from_url(redis_server.url)
    plan = EventPlan("k1", adds=((USED, Decimal(5)),))
    try:
        await store.rebuild("org_a", 3)
        await store.reserve([Batch("org_a", 3, [plan], {USED: Decimal(1)})])
        # Redis holds the next script past the store's timeout: whether it ran is
        # unknown to the store, so it must not trust these counters again.
        await other.client_pause(1000, all=False)
        with pytest.raises(CountersUnavailable):
            await store.reserve([Batch("org_a", 3, [EventPlan("k2", adds=plan.adds)])])
        await asyncio.sleep(1.2)
        counted = await other.hget(store.counters_key("org_a"), USED)

        [after] = await store.reserve([Batch("org_a", 3, [plan])])

        assert counted is not None
        assert isinstance(after, Stale)  # dropped: rebuilt from SQL before deciding
    finally:
        await other.aclose()
        await store.aclose()
