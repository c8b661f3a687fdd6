"""Reservations in flight are held under leases their owner renews.

A store that stops renewing (its process died between reserving and settling) leaves
its reservation counted only until the lease lapses: then every decision and read
of the organization answers `Stale`, so the counters are rebuilt from SQL (and its
claims dropped: SQL says which of its events committed). A live
owner's reservation keeps counting, however long its write takes, until it settles
or releases it, which removes it. Short leases (a fraction of a second) keep the
tests short; the gateway's are 5 s, renewed every second.

Redis (`redis_url`), keys under a prefix of the test's own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest

from store.counters import Batch, EventPlan, Missing, Reserved, Stale
from store.counters.redis import RedisCounterStore
from tests.store.conftest import close_counters

USED = "t|0|enrichments"
LEASE = timedelta(milliseconds=500)
RENEW = timedelta(milliseconds=50)
HELD_FOR = 2.0
"""Four leases: a reservation this old counts only if it was renewed."""
LAPSES_WITHIN = 30.0


@pytest.fixture
async def stores(redis_url: str) -> AsyncIterator[tuple[RedisCounterStore, ...]]:
    """Two processes' stores on the same keys: the owner and an onlooker."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    owner, other = (
        RedisCounterStore(redis_url, prefix=prefix, lease=LEASE, renew_every=RENEW)
        for _ in range(2)
    )
    await owner.rebuild("org_a", 1)
    yield owner, other
    await owner.aclose()
    await close_counters(other)


def _batch(key: str = "k1", amount: str = "5") -> Batch:
    plan = EventPlan(key, adds=((USED, Decimal(amount)),))
    return Batch("org_a", 1, [plan], {USED: Decimal(0)})


async def _seen(store: RedisCounterStore) -> Reserved | Missing | Stale:
    outcome = await store.check(Batch("org_a", 1, (), watch=[USED]))
    assert isinstance(outcome, Reserved | Missing | Stale)
    return outcome


async def test_a_reservation_nobody_renews_makes_the_counters_stale_once_it_lapses(
    stores: tuple[RedisCounterStore, RedisCounterStore],
) -> None:
    owner, other = stores
    [reserved] = await owner.reserve([_batch()])
    assert isinstance(reserved, Reserved)
    assert reserved.reservation.lease is not None
    # The owner dies: it never settles, nor renews.
    await owner.aclose()

    seen = await _seen(other)
    deadline = time.monotonic() + LAPSES_WITHIN
    while isinstance(seen, Reserved):
        assert seen.values == {USED: Decimal(5)}  # counted while the lease holds
        assert time.monotonic() < deadline, "the dead reservation kept counting"
        await asyncio.sleep(0.05)
        seen = await _seen(other)
    assert isinstance(seen, Stale)
    [decided] = await other.reserve([_batch("k2")])
    assert isinstance(decided, Stale)

    # Rebuilt (as the gateway does, under the exclusive row lock): loaded from SQL.
    await other.rebuild("org_a", 1)
    assert await other.redis.exists(other.inflight_key("org_a")) == 0
    assert await other.redis.exists(other.claims_key("org_a")) == 0
    assert await _seen(other) == Missing(frozenset({USED}))
    # The dead owner's key is free again: SQL, not a claim, says whether it counted.
    [again] = await other.reserve([_batch("k1", "3")])
    assert isinstance(again, Reserved)
    assert await other.values("org_a", [USED]) == {USED: Decimal(3)}


async def test_a_live_owners_reservation_counts_until_settled_however_long_it_takes(
    stores: tuple[RedisCounterStore, RedisCounterStore],
) -> None:
    owner, other = stores
    [reserved] = await owner.reserve([_batch()])
    assert isinstance(reserved, Reserved)
    await asyncio.sleep(HELD_FOR)  # a slow commit: the owner renews meanwhile

    held = await _seen(other)
    await owner.settle([reserved.reservation])
    listed = await other.redis.zcard(other.inflight_key("org_a"))
    await asyncio.sleep(LEASE.total_seconds() * 2)
    settled = await _seen(other)

    assert isinstance(held, Reserved)
    assert held.values == {USED: Decimal(5)}
    assert listed == 0
    assert isinstance(settled, Reserved)
    assert settled.values == {USED: Decimal(5)}


async def test_a_released_reservation_is_taken_back_and_no_longer_listed(
    stores: tuple[RedisCounterStore, RedisCounterStore],
) -> None:
    owner, other = stores
    [reserved] = await owner.reserve([_batch()])
    assert isinstance(reserved, Reserved)
    listed = await other.redis.zcard(other.inflight_key("org_a"))
    await owner.release([reserved.reservation])

    assert listed == 1
    assert await other.redis.exists(other.inflight_key("org_a")) == 0
    assert await other.values("org_a", [USED]) == {USED: Decimal(0)}
    await asyncio.sleep(LEASE.total_seconds() * 2)
    seen = await _seen(other)
    assert isinstance(seen, Reserved)
    assert seen.values == {USED: Decimal(0)}


async def test_a_batch_that_accepts_nothing_holds_no_reservation(
    stores: tuple[RedisCounterStore, RedisCounterStore],
) -> None:
    owner, other = stores
    loads = Batch("org_a", 1, (), loads={USED: Decimal(2)}, watch=[USED])
    [loaded] = await owner.reserve([loads])

    assert isinstance(loaded, Reserved)
    assert loaded.reservation.lease is None
    assert await other.redis.exists(other.inflight_key("org_a")) == 0
