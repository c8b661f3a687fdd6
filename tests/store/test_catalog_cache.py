"""The per-process catalog: reused while current, reloaded once anything changed it."""

from __future__ import annotations

from decimal import Decimal

from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from rules.enums import ModelTier, PlanTier
from store import provisioning as p
from store.catalog_cache import CatalogCache, announce_change
from store.db import SessionFactory, StatementCounter
from store.models import PlanLimit
from tests import factories as f


async def _plan(sessions: SessionFactory, limit: str) -> None:
    async with sessions() as session:
        await f.add_all(session, f.plan("pro"), f.limit("pro", "enrichments", limit))


async def _limit(cache: CatalogCache, sessions: SessionFactory) -> Decimal | None:
    catalog = await cache.catalog(sessions)
    [row] = catalog.limits["pro"]
    return row.limit


async def _edit_behind_the_gateways_back(sessions: SessionFactory, limit: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(PlanLimit).values(limit=Decimal(limit)))


async def test_catalog_is_read_once_while_nothing_changes(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    await _plan(sessions, "50")
    cache = CatalogCache(None)
    await cache.catalog(sessions)
    with StatementCounter(engine) as counter:
        assert await _limit(cache, sessions) == Decimal(50)
    assert counter.count == 0


async def test_provisioning_a_plan_reloads_the_catalog(
    sessions: SessionFactory,
) -> None:
    await _plan(sessions, "50")
    cache = CatalogCache(None)
    assert await _limit(cache, sessions) == Decimal(50)
    async with sessions() as session, session.begin():
        await p.upsert_plan(
            session,
            p.PlanSpec(
                key="pro",
                name="Pro",
                tier=PlanTier.PRO,
                limits=(p.PlanLimitSpec(meter="enrichments", limit=Decimal(60)),),
            ),
        )
    assert await _limit(cache, sessions) == Decimal(60)


async def test_a_rolled_back_change_keeps_the_cached_catalog(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    await _plan(sessions, "50")
    cache = CatalogCache(None)
    await cache.catalog(sessions)
    async with sessions() as session:
        await p.set_model_price(
            session,
            p.ModelPriceSpec(
                model="m",
                tier=ModelTier.STANDARD,
                input_per_million_usd=Decimal(1),
                output_per_million_usd=Decimal(2),
            ),
        )
        await session.rollback()
    with StatementCounter(engine) as counter:
        await cache.catalog(sessions)
    assert counter.count == 0


async def test_another_process_announcing_a_change_reloads_the_catalog(
    redis_url: str, sessions: SessionFactory
) -> None:
    await _plan(sessions, "50")
    redis = Redis.from_url(redis_url)
    try:
        cache = CatalogCache(redis)
        assert await _limit(cache, sessions) == Decimal(50)
        await _edit_behind_the_gateways_back(sessions, "70")
        # Not announced: this process cannot know yet.
        assert await _limit(cache, sessions) == Decimal(50)
        await announce_change(redis)
        assert await _limit(cache, sessions) == Decimal(70)
    finally:
        await redis.aclose()


async def test_a_lost_announcement_is_caught_by_the_time_limit(
    sessions: SessionFactory,
) -> None:
    await _plan(sessions, "50")
    cache = CatalogCache(None, ttl_seconds=0)
    assert await _limit(cache, sessions) == Decimal(50)
    await _edit_behind_the_gateways_back(sessions, "80")
    assert await _limit(cache, sessions) == Decimal(80)


async def test_nothing_is_cached_while_redis_is_unreachable(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    await _plan(sessions, "50")
    redis = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)
    try:
        cache = CatalogCache(redis)
        await cache.catalog(sessions)
        with StatementCounter(engine) as counter:
            assert await _limit(cache, sessions) == Decimal(50)
        assert counter.count == 5
    finally:
        await redis.aclose()
