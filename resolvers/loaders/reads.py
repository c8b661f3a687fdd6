"""Where a request's loaders read: one session per request, or one per batch.

An HTTP request reads through `RequestSession`: one pooled connection and one
read-only transaction for all its DataLoaders, opened on the first read and closed
when the request ends. Every statement of a page then sees one consistent snapshot
(REPEATABLE READ on PostgreSQL), and a page costs one pool checkout instead of one
per loader batch (at 32 connections the per-batch checkouts exhausted the pool).

Loaders of one request dispatch their batches in the same event-loop tick, but one
connection runs one statement at a time and an AsyncSession is not safe across
tasks, so batches take turns (`asyncio.Lock`); each batch is a single statement or
two, so the turns cost no more than the round trips themselves.

A websocket lives for hours: it reads through `SessionPerBatch` (a session per
batch, returned at once) so that it never holds a connection between messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.loaders.shared import run_to_end
from store.db import SessionFactory, begin_snapshot

T = TypeVar("T")

Work = Callable[[AsyncSession], Awaitable[T]]


class Reads(Protocol):
    """What loaders read through."""

    async def run(self, work: Work[T]) -> T:
        """`work` with a session; its statements run alone on that session."""
        ...

    def renew(self) -> None:
        """Later reads start a new snapshot (after this request wrote)."""
        ...

    async def release(self) -> None:
        """Give the connection back now; a later read takes one again."""
        ...


class SessionPerBatch:
    """A new session for every batch, closed when the batch is done."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def run(self, work: Work[T]) -> T:
        async with self.sessions() as session:
            return await work(session)

    def renew(self) -> None:
        """Each batch reads the database as it is then: nothing to renew."""

    async def release(self) -> None:
        """Nothing is held between batches."""


class RequestSession:
    """One session, connection and read-only transaction for a request's reads."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self._session: AsyncSession | None = None
        self._stale = False
        self._turn = asyncio.Lock()

    async def run(self, work: Work[T]) -> T:
        """`work` runs to its end even when its caller is cancelled (graphql-core
        cancels a failed object's other fields): a statement interrupted half-way
        would leave the transaction unusable for the request's later reads."""
        return await run_to_end(self._take_turn(work))

    async def _take_turn(self, work: Work[T]) -> T:
        async with self._turn:
            if self._stale:
                await self._close()
            if self._session is None:
                self._session = await _begin_snapshot(self.sessions)
            return await work(self._session)

    def renew(self) -> None:
        """The request wrote: the snapshot it reads was taken before. The next read
        closes it (under the lock: a batch in flight finishes first) and opens a
        new one."""
        self._stale = True

    async def release(self) -> None:
        """Before the request writes through a session of its own: a request never
        holds one connection while waiting for another (at full concurrency that
        waits for ever on the pool)."""
        async with self._turn:
            await self._close()

    async def _close(self) -> None:
        session, self._session, self._stale = self._session, None, False
        if session is not None:
            await session.close()


async def _begin_snapshot(sessions: SessionFactory) -> AsyncSession:
    """A session whose reads all see one snapshot (`store.db.begin_snapshot`)."""
    session = sessions()
    try:
        await begin_snapshot(session)
    except BaseException:
        await session.close()
        raise
    return session
