"""A cancelled field never leaves the request's read session half-way through a
statement: the reads after it, on the same session, still answer.

graphql-core cancels an object's pending fields when a non-null sibling fails. A
resolver that reads through the request's session directly (the member directory,
the live snapshot) was then cancelled mid-statement, which left the session's
transaction unusable for every later read of the request (PendingRollbackError, or
asyncpg's "another operation is in progress").
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.loaders.reads import RequestSession
from store.db import create_engine, session_factory


async def _slow(session: AsyncSession) -> int:
    found = await session.execute(text("SELECT 7 FROM pg_sleep(0.3)"))
    return int(found.scalar_one())


async def _quick(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT 1"))).scalar_one())


async def test_a_read_cancelled_mid_statement_leaves_the_session_usable(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    reads = RequestSession(session_factory(engine))
    try:
        cancelled = asyncio.ensure_future(reads.run(_slow))
        await asyncio.sleep(0.1)  # the statement is on the server now
        cancelled.cancel()
        await asyncio.gather(cancelled, return_exceptions=True)

        assert cancelled.cancelled()
        assert await reads.run(_quick) == 1
    finally:
        await reads.release()
        await engine.dispose()
