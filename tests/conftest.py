"""Real servers, never mocks: fixtures for SQLite, PostgreSQL and Redis.

A test that needs PostgreSQL or Redis skips with the reason when the server is
unreachable, except under CI=true, where it fails instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from store.db import SessionFactory, create_engine, session_factory
from store.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "USAGE_GATEWAY_TEST_POSTGRES_URL",
    "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
)
REDIS_URL = os.environ.get("USAGE_GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEMPLATE = f"usage_gateway_tpl_{os.getpid()}"


def unavailable(what: str, error: BaseException) -> None:
    """Skip locally, fail under CI: CI must never pass by skipping real servers."""
    message = f"{what} is unreachable ({type(error).__name__}: {error})"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI=true needs it", pytrace=False)
    pytest.skip(message)


def _dsn(database: str) -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


def _async_url(database: str) -> str:
    return (
        make_url(POSTGRES_URL)
        .set(database=database)
        .render_as_string(hide_password=False)
    )


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(
        _dsn(make_url(POSTGRES_URL).database or "postgres")
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _build_template() -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{TEMPLATE}"')
    engine = create_engine(_async_url(TEMPLATE), poolclass=_null_pool())
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _null_pool() -> type:
    from sqlalchemy.pool import NullPool

    return NullPool


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | BaseException]:
    """A migrated template database; each test copies it (fast, and fully isolated)."""
    try:
        asyncio.run(_build_template())
    except (OSError, asyncpg.PostgresError) as error:
        yield error
        return
    yield TEMPLATE
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))


@pytest.fixture
async def postgres_url(postgres_template: str | BaseException) -> AsyncIterator[str]:
    if isinstance(postgres_template, BaseException):
        unavailable("PostgreSQL", postgres_template)
    name = f"ug_test_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    try:
        yield _async_url(name)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Every store test runs on both databases."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


@pytest.fixture
async def redis_url() -> str:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except Exception as error:
        unavailable("Redis", error)
    finally:
        await client.aclose()
    return REDIS_URL


class RedisServer:
    """A throw-away `redis-server` on a free port, without persistence: a test may
    flush it, stop it and start it again (empty, as after a restart)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(self.folder),
                "--pidfile",
                str(self.folder / "redis.pid"),
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            check=True,
            capture_output=True,
        )
        self._wait(up=True)

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
            check=False,
            capture_output=True,
        )
        self._wait(up=False)

    def flush(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "flushall"],
            check=True,
            capture_output=True,
        )

    def _wait(self, *, up: bool) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    reachable = True
            except OSError:
                reachable = False
            if reachable == up:
                return
            time.sleep(0.05)
        raise RuntimeError(
            f"redis-server on {self.port} did not go {'up' if up else 'down'}"
        )


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of the test's own (skipped locally without redis-server)."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        unavailable("redis-server", FileNotFoundError("redis-server is not installed"))
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
