"""Redis comes back with stale counters: they are never trusted.

Counters in Redis are warm; Redis goes away *keeping its data* (`SHUTDOWN SAVE`: the
dump is written, and the same server loads it when started again, as a Redis with
persistence does after a restart or a network partition heals); events are decided
from SQL meanwhile, which moves the organization's `counters_version`; Redis returns
holding the old counters, now behind SQL. The next decision must not pass the limit,
and afterwards the counters equal the SQL totals.

PostgreSQL and a Redis of the test's own (`redis_server`).
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select, text

from rules.cycles import cycle_for
from rules.enums import ApiKeyKind, UsageDecisionCode, UsageStatus
from store.api_keys import create_api_key
from store.counters import monthly_field, usage_field
from store.counters.redis import RedisCounterStore
from store.db import SessionFactory, create_engine, session_factory
from store.models import Organization
from store.recording import UsageEventSpec, check_usage, record_usage
from store.usage_loads import FieldSource, load_fields
from tests import factories as f
from tests.conftest import RedisServer
from tests.gateway_client import gateway

NOW = datetime.now(UTC)
ANCHOR = NOW - timedelta(days=3)
CYCLE = cycle_for(ANCHOR, NOW)
USED = usage_field("enrichments", CYCLE.start)
SPENT = monthly_field(CYCLE.start)
LIMIT = 10
CHECKERS = 8


@pytest.fixture
async def sessions(postgres_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(postgres_url)
    sessions = session_factory(engine)
    async with sessions() as session:
        await f.add_all(
            session,
            f.organization("org_a"),
            f.plan("pro", monthly_credits=Decimal(100)),
            f.limit("pro", "enrichments", str(LIMIT), credits_per_unit=Decimal(1)),
            f.subscription("org_a", "pro", anchor=ANCHOR),
        )
    yield sessions
    await engine.dispose()


def _stop_keeping_data(server: RedisServer) -> None:
    """Stop the server after writing its data to disk: started again (same folder),
    it loads that dump, so it comes back with the counters it had."""
    subprocess.run(
        ["redis-cli", "-p", str(server.port), "shutdown", "save"],
        check=False,
        capture_output=True,
    )
    server._wait(up=False)


def _event(key: str, quantity: str = "1") -> UsageEventSpec:
    return UsageEventSpec(key, "org_a", "enrichments", Decimal(quantity))


async def _sql_truth(sessions: SessionFactory) -> dict[str, Decimal]:
    sources = {
        USED: FieldSource(meter="enrichments", cycle=CYCLE),
        SPENT: FieldSource(monthly=CYCLE),
    }
    async with sessions() as session:
        return (await load_fields(session, {"org_a": sources}))["org_a"]


async def _version(sessions: SessionFactory) -> int:
    async with sessions() as session:
        version = await session.scalar(
            select(Organization.counters_version).where(Organization.id == "org_a")
        )
    assert version is not None
    return int(version)


async def _held(url: str, store: RedisCounterStore) -> dict[str, Any]:
    """What Redis holds for `org_a`, read without the store."""
    client = Redis.from_url(url)
    try:
        raw = await client.hmget(store.counters_key("org_a"), ["v", USED, SPENT])
    finally:
        await client.aclose()
    version, used, spent = (
        value.decode() if isinstance(value, bytes) else value for value in raw
    )
    return {"v": version, USED: used, SPENT: spent}


async def _record_each(
    sessions: SessionFactory, store: RedisCounterStore, keys: list[str]
) -> list[tuple[UsageStatus, UsageDecisionCode | None]]:
    found = []
    for key in keys:
        [outcome] = await record_usage(sessions, [_event(key)], NOW, store)
        found.append((outcome.status, outcome.code))
    return found


async def _stale_redis(
    sessions: SessionFactory, server: RedisServer, store: RedisCounterStore
) -> dict[str, Any]:
    """5 units decided in Redis, then 4 from SQL while Redis is away, then Redis
    back with its counters of 5. Returns what Redis holds once back."""
    warm = await _record_each(sessions, store, [f"warm-{n}" for n in range(5)])
    assert warm == [(UsageStatus.ACCEPTED, None)] * 5
    assert store.mode == "redis"
    before = await _held(server.url, store)
    _stop_keeping_data(server)
    away = await _record_each(sessions, store, [f"away-{n}" for n in range(4)])
    assert away == [(UsageStatus.ACCEPTED, None)] * 4
    assert store.mode == "sql-fallback"
    server.start()
    back = await _held(server.url, store)
    # Redis really is back with its old counters: 5 units at the old version.
    assert back == before
    assert back[USED] == str(5 * 1_000_000)
    assert int(back["v"]) < await _version(sessions)
    await asyncio.sleep(0.1)  # past the store's retry_after
    return back


def _store(server: RedisServer) -> RedisCounterStore:
    return RedisCounterStore(server.url, retry_after=0.05, timeout=1.0)


async def test_redis_back_with_stale_counters_never_lets_usage_pass_the_limit(
    sessions: SessionFactory, redis_server: RedisServer
) -> None:
    store = _store(redis_server)
    try:
        await _stale_redis(sessions, redis_server, store)
        # SQL holds 9 of 10; the stale counters say 5 (room for 5).
        after = await _record_each(sessions, store, [f"back-{n}" for n in range(3)])
        mode = store.mode
        held = await store.values("org_a", [USED, SPENT])
    finally:
        await store.aclose()

    assert after == [
        (UsageStatus.ACCEPTED, None),
        (UsageStatus.DENIED, UsageDecisionCode.LIMIT_REACHED),
        (UsageStatus.DENIED, UsageDecisionCode.LIMIT_REACHED),
    ]
    assert mode == "redis"
    truth = await _sql_truth(sessions)
    assert truth == {USED: Decimal(LIMIT), SPENT: Decimal(LIMIT)}
    assert held == truth


async def test_redis_back_with_stale_counters_a_batch_takes_only_the_room_sql_has(
    sessions: SessionFactory, redis_server: RedisServer
) -> None:
    store = _store(redis_server)
    try:
        await _stale_redis(sessions, redis_server, store)
        # One call of five: SQL has room for one unit; the stale counters for five.
        outcomes = await record_usage(
            sessions, [_event(f"batch-{n}") for n in range(5)], NOW, store
        )
        held = await store.values("org_a", [USED, SPENT])
    finally:
        await store.aclose()

    assert [(o.status, o.code) for o in outcomes] == [(UsageStatus.ACCEPTED, None)] + [
        (UsageStatus.DENIED, UsageDecisionCode.LIMIT_REACHED)
    ] * 4
    truth = await _sql_truth(sessions)
    assert truth[USED] == Decimal(LIMIT)
    assert held == truth


async def test_usage_check_ignores_stale_redis_counters(
    sessions: SessionFactory, redis_server: RedisServer
) -> None:
    store = _store(redis_server)
    try:
        await _stale_redis(sessions, redis_server, store)
        fits = await check_usage(
            sessions, "org_a", "enrichments", Decimal(1), None, NOW, store
        )
        too_much = await check_usage(
            sessions, "org_a", "enrichments", Decimal(2), None, NOW, store
        )
    finally:
        await store.aclose()

    assert (fits.allowed, fits.used, fits.remaining) == (True, Decimal(9), Decimal(1))
    assert (too_much.allowed, too_much.code) == (
        False,
        UsageDecisionCode.LIMIT_REACHED,
    )


async def test_live_page_ignores_stale_redis_counters(
    postgres_url: str, sessions: SessionFactory, redis_server: RedisServer
) -> None:
    store = _store(redis_server)
    try:
        await _stale_redis(sessions, redis_server, store)
    finally:
        await store.aclose()
    page = """
    query Page($org: ID!) {
      organization(id: $org) {
        meters(keys: ["enrichments"]) { used }
        credits { spent }
      }
    }
    """
    # A gateway process reading `org_a` live (no `at:`) through that same Redis.
    async with sessions() as session:
        _, secret = await create_api_key(
            session, ApiKeyKind.OPERATOR, "operator", (), NOW
        )
        await session.commit()
    async with gateway(postgres_url, redis_url=redis_server.url) as api:
        body = await api.execute(page, {"org": "org_a"}, token=secret)

    assert "errors" not in body, body["errors"]
    assert body["data"]["organization"] == {
        "meters": [{"used": "9"}],
        "credits": {"spent": "9"},
    }


async def _rebuilds(url: str) -> int:
    """How many times this Redis started a generation (a rebuild's PEXPIRE; checks
    and reads that count nothing claim no keys, so set no other expiry)."""
    client = Redis.from_url(url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return int(stats.get("cmdstat_pexpire", {}).get("calls", 0))


async def _waiting_for_locks(sessions: SessionFactory) -> int:
    async with sessions() as session:
        found = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return int(found or 0)


async def test_checks_queued_on_cold_counters_rebuild_them_once(
    sessions: SessionFactory, redis_server: RedisServer
) -> None:
    writer = _store(redis_server)
    try:
        await _record_each(sessions, writer, ["e1"])
    finally:
        await writer.aclose()
    client = Redis.from_url(redis_server.url)
    try:
        await client.flushall()
        await client.config_resetstat()
    finally:
        await client.aclose()
    store = _store(redis_server)
    # A writer in flight holds the organization's shared lock: every check finds the
    # counters gone and queues for the exclusive lock a rebuild takes.
    async with sessions() as holder:
        await holder.execute(
            text("SELECT id FROM organizations WHERE id = 'org_a' FOR SHARE")
        )
        checking = asyncio.gather(
            *(
                check_usage(
                    sessions, "org_a", "enrichments", Decimal(1), None, NOW, store
                )
                for _ in range(CHECKERS)
            )
        )
        for _ in range(200):
            if await _waiting_for_locks(sessions) >= CHECKERS:
                break
            await asyncio.sleep(0.02)
        assert await _waiting_for_locks(sessions) == CHECKERS
        await holder.rollback()
    try:
        checks = await checking
        held = await _held(redis_server.url, store)
    finally:
        await store.aclose()

    # The first to get the lock rebuilt; each of the others found the counters
    # rebuilt by then and only read them.
    assert await _rebuilds(redis_server.url) == 1
    assert [(c.allowed, c.used, c.remaining) for c in checks] == [
        (True, Decimal(1), Decimal(LIMIT - 1))
    ] * CHECKERS
    assert held[USED] == str(1_000_000)
