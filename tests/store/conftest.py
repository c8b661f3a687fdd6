"""The ways the gateway decides usage, for tests that run once per way.

- `sqlite`, `postgres`: from SQL alone, as every decision is taken while Redis is
  unreachable (a throw-away in-process store loaded from SQL each call);
- `sqlite+in-process`: the embedded default, counters in this process;
- `postgres+redis`: production, counters in Redis (keys under a prefix of the test's
  own, deleted afterwards).

A module opts in by overriding `database_url` with `way_url`, passing `counters` to
the write path and closing it with `close_counters`.
"""

from __future__ import annotations

import uuid

import pytest

from store.counters import CounterStore
from store.counters.memory import MemoryCounterStore
from store.counters.redis import RedisCounterStore

WAYS = {
    "sqlite": ("sqlite", None),
    "sqlite+in-process": ("sqlite", "in-process"),
    "postgres": ("postgres", None),
    "postgres+redis": ("postgres", "redis"),
}


@pytest.fixture(params=list(WAYS))
def way(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    return WAYS[request.param]


@pytest.fixture
def way_url(way: tuple[str, str | None], request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{way[0]}_url")
    return url


@pytest.fixture
def counters(
    way: tuple[str, str | None], request: pytest.FixtureRequest
) -> CounterStore | None:
    """The way's counter store; a module using it closes it with `close_counters`."""
    if way[1] is None:
        return None
    if way[1] == "in-process":
        return MemoryCounterStore()
    return redis_store(request.getfixturevalue("redis_url"))


def redis_store(url: str) -> RedisCounterStore:
    """A Redis counter store whose keys no other test shares."""
    return RedisCounterStore(url, prefix=f"test-{uuid.uuid4().hex[:12]}")


async def close_counters(store: CounterStore | None) -> None:
    """Delete a Redis store's keys, and close it."""
    if isinstance(store, RedisCounterStore):
        async for key in store.redis.scan_iter(match=f"{store.prefix}:*"):
            await store.redis.delete(key)
    if store is not None:
        await store.aclose()
