"""A once-a-second sample of what the process is short of: event-loop lag,
database connections in use, whether usage is decided from SQL (Redis lost), and
every ten seconds whether the database answers, for `/metrics`.

Lag is how late a timer fires: a loop busy rendering pages delays every other
request by that much, which no per-request timing shows on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.counters import CounterStore
from store.metrics import (
    DATABASE_UP,
    DB_POOL_IN_USE,
    EVENT_LOOP_LAG,
    SQL_FALLBACK,
)

INTERVAL = 1.0
DATABASE_EVERY = 10


async def database_answers(engine: AsyncEngine) -> bool:
    """One `SELECT 1`; the answer also sets the `database_up` gauge."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        DATABASE_UP.set(0)
        return False
    DATABASE_UP.set(1)
    return True


async def _sample(engine: AsyncEngine, counters: CounterStore) -> None:
    pool = engine.sync_engine.pool
    checked_out = getattr(pool, "checkedout", None)
    for tick in itertools.count(1):
        expected = time.perf_counter() + INTERVAL
        await asyncio.sleep(INTERVAL)
        EVENT_LOOP_LAG.set(max(0.0, time.perf_counter() - expected))
        if checked_out is not None:
            DB_POOL_IN_USE.set(checked_out())
        SQL_FALLBACK.set(1 if counters.mode == "sql-fallback" else 0)
        if tick % DATABASE_EVERY == 0:
            await database_answers(engine)


@asynccontextmanager
async def sampling(engine: AsyncEngine, counters: CounterStore) -> AsyncIterator[None]:
    """Samples while the app runs (its lifespan). The first database probe is made
    before the app serves, so it never lands inside a request's statements."""
    await database_answers(engine)
    task = asyncio.create_task(_sample(engine, counters), name="resource-sampler")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
