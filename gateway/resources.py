"""A once-a-second sample of what the process is short of: event-loop lag and
database connections in use, for `/metrics`.

Lag is how late a timer fires: a loop busy rendering pages delays every other
request by that much, which no per-request timing shows on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from store.metrics import DB_POOL_IN_USE, EVENT_LOOP_LAG

INTERVAL = 1.0


async def _sample(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool
    while True:
        expected = time.perf_counter() + INTERVAL
        await asyncio.sleep(INTERVAL)
        EVENT_LOOP_LAG.set(max(0.0, time.perf_counter() - expected))
        checked_out = getattr(pool, "checkedout", None)
        if checked_out is not None:
            DB_POOL_IN_USE.set(checked_out())


@asynccontextmanager
async def sampling(engine: AsyncEngine) -> AsyncIterator[None]:
    """Samples while the app runs (its lifespan)."""
    task = asyncio.create_task(_sample(engine), name="resource-sampler")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
