"""Engines and sessions. One engine per process, shared by every request."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store.metrics import DB_POOL_WAIT_SECONDS

SessionFactory = async_sessionmaker[AsyncSession]


PLAN_SETTINGS = {
    # asyncpg prepares every statement; after five runs PostgreSQL may switch to a
    # generic plan that ignores the organization's selectivity (seen: a unique-key
    # probe turning into a table scan). Usage queries are cheap to plan.
    "plan_cache_mode": "force_custom_plan",
}
"""What every PostgreSQL connection sets for its session."""

NO_PARALLEL_SCANS = {
    # A request's statements read a few dozen rows by index. Where the planner
    # overestimates them it may start parallel workers, whose start-up alone took
    # ~4 ms for 0.2 ms of work (the trend cycles' sums on 1M events made UsagePage
    # 8 ms slower than on 10k events).
    "max_parallel_workers_per_gather": "0",
}
"""What the connections serving requests set besides (`parallel_scans` False)."""


SQLITE_POOL_SIZE = 16
SQLITE_MAX_OVERFLOW = 48
"""SQLite's pool, sized for readers: WAL readers never wait for the writer or for
each other, so every concurrent request may hold a connection (a file handle and
an aiosqlite thread each). Writers hold one at a time (`store.write_queue`): they
wait for their turn without one. Past 64 at once, requests wait for a connection
(`pool_timeout`, 30 s)."""


def _in_memory(url: str) -> bool:
    database = make_url(url).database
    return database in (None, "", ":memory:") or "mode=memory" in url


def create_engine(
    url: str, *, parallel_scans: bool = False, **kwargs: Any
) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a patient busy timeout.

    `parallel_scans`: let PostgreSQL scan with parallel workers, for callers that
    read many raw events at once (the allowance worker); requests never do."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        if "poolclass" not in kwargs and not _in_memory(url):
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", SQLITE_MAX_OVERFLOW)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    settings = PLAN_SETTINGS if parallel_scans else PLAN_SETTINGS | NO_PARALLEL_SCANS
    kwargs.setdefault("connect_args", {"server_settings": dict(settings)})
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
    ping_idle = kwargs.pop("pool_pre_ping", None) is not False
    engine = create_async_engine(url, **kwargs)
    if ping_idle:
        event.listen(engine.sync_engine.pool, "checkin", _checked_in)
        event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


PING_AFTER_IDLE = 5.0
"""Seconds a pooled PostgreSQL connection may rest before it is pinged on checkout.

SQLAlchemy's `pool_pre_ping` pings on every checkout, which with asyncpg is three
round trips (BEGIN, `;`, ROLLBACK): more than a usage check's own work. A connection
used moments ago was alive then; one that rested (a database restart, an idle
timeout) is pinged and replaced when dead, as before. A connection that dies within
the window fails its next statement once and the pool drops it (disconnects are
detected and invalidate the pool)."""


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    record.info["rested_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    rested = record.info.get("rested_since")
    if rested is not None and time.monotonic() - rested < PING_AFTER_IDLE:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:  # the pool retries with a new connection
        raise exc.DisconnectionError(str(error)) from error


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


async def begin_snapshot(session: AsyncSession) -> AsyncConnection:
    """Start `session`'s transaction as one consistent, read-only snapshot:
    REPEATABLE READ on PostgreSQL; on SQLite a deferred transaction, whose snapshot
    starts at its first read."""
    dialect = session.get_bind().dialect.name
    options: dict[str, Any] = {}
    if dialect == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    waiting = time.perf_counter()
    connection = await session.connection(execution_options=options)
    DB_POOL_WAIT_SECONDS.observe(time.perf_counter() - waiting)
    if dialect == "sqlite":
        await connection.exec_driver_sql("BEGIN")
    return connection


async def read_without_transaction(session: AsyncSession) -> None:
    """A session whose statements run in autocommit on PostgreSQL: one small read
    (an API key, a usage check) is one snapshot by itself, and BEGIN and ROLLBACK
    around it would be two more round trips than its answer needs. A write it makes
    commits at once. SQLite keeps its transactions (no round trips to save)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@asynccontextmanager
async def snapshot(sessions: SessionFactory) -> AsyncIterator[SessionFactory]:
    """Sessions that all read one consistent snapshot of the database, read-only
    (`begin_snapshot`). The sessions share one connection: use them one at a time.
    """
    async with sessions() as outer:
        connection = await begin_snapshot(outer)
        yield async_sessionmaker(connection, expire_on_commit=False)


class StatementCounter:
    """Counts SQL statements an engine runs: the N+1 guard in tests and benchmarks."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, *args: Any) -> None:
        self.statements.append(str(args[2]))

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)
