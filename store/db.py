"""Engines and sessions. One engine per process, shared by every request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a patient busy timeout."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # asyncpg prepares every statement; after five runs PostgreSQL may switch to a
    # generic plan that ignores the organization's selectivity (seen: a unique-key
    # probe turning into a table scan). Usage queries are cheap to plan.
    kwargs.setdefault(
        "connect_args", {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
    )
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def snapshot(sessions: SessionFactory) -> AsyncIterator[SessionFactory]:
    """Sessions that all read one consistent snapshot of the database, read-only.

    PostgreSQL: one REPEATABLE READ transaction; SQLite: one deferred transaction,
    whose snapshot starts at its first read. The sessions share one connection: use
    them one at a time.
    """
    async with sessions() as outer:
        dialect = outer.get_bind().dialect.name
        options: dict[str, Any] = {}
        if dialect == "postgresql":
            options = {
                "isolation_level": "REPEATABLE READ",
                "postgresql_readonly": True,
            }
        connection = await outer.connection(execution_options=options)
        if dialect == "sqlite":
            await connection.exec_driver_sql("BEGIN")
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
