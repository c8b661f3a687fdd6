"""The embedded default's one writer: SQLite usage writes queue in the process.

SQLite lets one connection write at a time (`BEGIN IMMEDIATE` in `store.recording`).
Left to SQLite, concurrent writers wait in its busy handler, each holding a pooled
connection: at 32 writers and 32 readers they took the whole pool (5 + 10), readers
waited 30 s for a connection and both failed with INTERNAL. Here `record_usage`
calls on one SQLite database join a queue instead, holding no connection, and one
task of the process records them: every call waiting when the previous write ends
is recorded together with the others in one `store.recording.record_usage` call
(at most `MAX_EVENTS_PER_CALL` events, calls kept whole and in arrival order), one
transaction, one connection. Each caller gets its own events' outcomes, exactly
as if it had been recorded alone right after the calls before it: events are
decided one after another, and an event without `occurred_at` keeps its own
call's time. Readers read WAL snapshots beside the writer and never wait for it
(`store.db` sizes the pool for them).

Back-pressure: at most `WRITE_QUEUE_LIMIT` calls wait at once; one more is refused
before anything of it is decided, with `WriteQueueFull` (clients get RATE_LIMITED:
retry later). A caller that goes away (cancelled) while its call waits takes the
call out of the queue; once its group is being recorded, it is recorded. If a
group's recording fails, every call in it fails (nothing of an uncommitted group
is stored; idempotency keys make the retry safe).

PostgreSQL has no queue: its writers lock rows, not the database.

The counters of this process (`store.counters.memory`) must not be rebuilt while a
write has reserved in them but not yet committed: readers that find counters to
fill or rebuild do so only while no write is queued or recorded, holding the
writer's turn meanwhile (`turn_if_free`), and read SQL otherwise.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from rules.errors import RateLimited
from store import recording
from store.counters import CounterStore
from store.db import SessionFactory
from store.decisions.events import (
    MAX_EVENTS_PER_CALL,
    EventOutcome,
    UsageEventSpec,
)

WRITE_QUEUE_LIMIT = 256
"""recordUsage calls that may wait for the SQLite writer at once; one more is
refused (RATE_LIMITED)."""


class WriteQueueFull(RateLimited):
    """The writer queue is full: nothing was decided or written, retry in a second
    (RATE_LIMITED with `retryAfter`: 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retry_after_seconds=1)


@dataclass(eq=False)
class _Call:
    sessions: SessionFactory
    counters: CounterStore | None
    specs: list[UsageEventSpec]
    now: datetime
    done: asyncio.Future[list[EventOutcome]]


class WriteQueue:
    """The queued usage writes of one SQLite database (see the module docstring)."""

    def __init__(self, limit: int = WRITE_QUEUE_LIMIT) -> None:
        self.limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: deque[_Call] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._turn = asyncio.Lock()

    @property
    def waiting(self) -> int:
        """Calls waiting for the writer (not those being recorded)."""
        return len(self._pending)

    def _here(self) -> None:
        # One engine may outlive an event loop (a test's app on a new loop): what
        # belonged to a finished loop can never run again; start afresh.
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._pending, self._writer = loop, deque(), None
            self._turn = asyncio.Lock()

    async def record_usage(
        self,
        sessions: SessionFactory,
        events: Sequence[UsageEventSpec],
        now: datetime,
        counters: CounterStore | None = None,
    ) -> list[EventOutcome]:
        """`store.recording.record_usage`, queued: the outcomes of `events`,
        committed before returning. Raises WriteQueueFull when `limit` calls
        wait already, ValueError as `record_usage` does."""
        if len(events) > MAX_EVENTS_PER_CALL:
            raise ValueError(
                f"at most {MAX_EVENTS_PER_CALL} events per call, got {len(events)}"
            )
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"`now` must be timezone-aware: {now!r}")
        if not events:
            return []
        self._here()
        if len(self._pending) >= self.limit:
            raise WriteQueueFull(
                f"{len(self._pending)} usage writes are waiting for the embedded"
                " database: retry later"
            )
        now = now.astimezone(UTC)
        # Recorded with later calls, an event keeps its own call's time.
        specs = [
            spec if spec.occurred_at is not None else replace(spec, occurred_at=now)
            for spec in events
        ]
        call = _Call(
            sessions, counters, specs, now, asyncio.get_running_loop().create_future()
        )
        self._pending.append(call)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(
                self._write(), name="sqlite-usage-writer"
            )
        try:
            return await asyncio.shield(call.done)
        except asyncio.CancelledError:
            if call in self._pending:  # not taken yet: never recorded
                self._pending.remove(call)
            else:  # being recorded: nobody reads the outcome
                call.done.add_done_callback(_forget)
            raise

    async def _write(self) -> None:
        try:
            while self._pending:
                async with self._turn:  # a reader filling counters finishes first
                    group = self._take()
                    if group:
                        await self._record(group)
        finally:
            self._writer = None

    def _take(self) -> list[_Call]:
        """The first waiting call and those after it that fit in one call."""
        if not self._pending:
            return []
        first = self._pending.popleft()
        group, events = [first], len(first.specs)
        while self._pending:
            call = self._pending[0]
            if (
                call.sessions is not first.sessions
                or call.counters is not first.counters
                or events + len(call.specs) > MAX_EVENTS_PER_CALL
            ):
                break
            group.append(self._pending.popleft())
            events += len(call.specs)
        return group

    async def _record(self, group: list[_Call]) -> None:
        first = group[0]
        specs = [spec for call in group for spec in call.specs]
        try:
            outcomes = await recording.record_usage(
                first.sessions, specs, max(call.now for call in group), first.counters
            )
        except asyncio.CancelledError:
            for call in group:
                call.done.set_exception(RuntimeError("the usage writer was stopped"))
            raise
        except Exception as error:
            for call in group:
                call.done.set_exception(error)
            return
        offset = 0
        for call in group:
            mine = outcomes[offset : offset + len(call.specs)]
            call.done.set_result(
                [replace(outcome, index=outcome.index - offset) for outcome in mine]
            )
            offset += len(call.specs)

    @asynccontextmanager
    async def turn_if_free(self) -> AsyncIterator[bool]:
        """The writer's turn at once, when no write is queued or being recorded
        (True; writes arriving meanwhile wait for it), else nothing (False): for
        readers, which never wait for writers."""
        self._here()
        if self._turn.locked() or self._pending or self._writer is not None:
            yield False
            return
        await self._turn.acquire()  # free: acquired without waiting
        try:
            yield True
        finally:
            self._turn.release()


def _forget(done: asyncio.Future[list[EventOutcome]]) -> None:
    if not done.cancelled():
        done.exception()  # retrieved: no "never retrieved" warning


_QUEUES: WeakKeyDictionary[Engine, WriteQueue] = WeakKeyDictionary()


def write_queue(sessions: SessionFactory) -> WriteQueue | None:
    """The writer queue of the SQLite database `sessions` open sessions on (one per
    engine, so one per process); None for PostgreSQL, and for sessions bound to a
    connection rather than an engine."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return None
    engine = bind.sync_engine
    queue = _QUEUES.get(engine)
    if queue is None:
        queue = _QUEUES[engine] = WriteQueue()
    return queue


async def record_usage(
    sessions: SessionFactory,
    events: Sequence[UsageEventSpec],
    now: datetime,
    counters: CounterStore | None = None,
) -> list[EventOutcome]:
    """`store.recording.record_usage` through the writer queue on SQLite (raises
    WriteQueueFull when it is full), directly on PostgreSQL."""
    queue = write_queue(sessions)
    if queue is None:
        return await recording.record_usage(sessions, events, now, counters)
    return await queue.record_usage(sessions, events, now, counters)
