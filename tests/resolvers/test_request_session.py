"""One read session per HTTP request: one pooled connection, one transaction.

Every loader of a UsagePage reads through the request's one session, so the page
costs one pool checkout and all its statements see one snapshot; the connection is
back in the pool when the response is sent. Counted on PostgreSQL with the pool's and
the engine's own events around real HTTP requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.gateway_client import gateway, operation, user_token
from tests.resolvers.small_organization import ADMIN, AT, small_organization, store


@dataclass
class Seen:
    checkouts: int = 0
    connections: set[int] = field(default_factory=set)
    transactions: set[int] = field(default_factory=set)
    isolation_levels: set[str] = field(default_factory=set)
    statements: int = 0


@contextmanager
def watching(engine: AsyncEngine) -> Iterator[Seen]:
    """Pool checkouts, and the DBAPI connection and transaction of each statement."""
    seen = Seen()
    sync_engine = engine.sync_engine

    def checkout(*_: Any) -> None:
        seen.checkouts += 1

    def statement(connection: Any, *_: Any) -> None:
        seen.statements += 1
        seen.connections.add(id(connection.connection.dbapi_connection))
        seen.transactions.add(id(connection.get_transaction()))
        seen.isolation_levels.add(connection.get_isolation_level())

    event.listen(sync_engine.pool, "checkout", checkout)
    event.listen(sync_engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(sync_engine, "before_cursor_execute", statement)
        event.remove(sync_engine.pool, "checkout", checkout)


async def test_a_usage_page_reads_through_one_connection_and_one_transaction(
    postgres_url: str,
) -> None:
    async with store(postgres_url) as sessions:
        await small_organization(sessions)
    token = user_token(ADMIN)
    page = operation("usage_page")
    variables = {"org": "org_small", "at": AT.isoformat()}

    async with gateway(postgres_url) as api:
        assert api.app is not None
        engine = api.app.state.engine
        for asked in (variables, {"org": "org_small"}):
            # Warm-up: the process's catalog loaded, the live page's counters built
            # (loading them takes a connection of its own, under a row lock).
            await api.execute(page, asked, token=token)
            with watching(engine) as seen:
                body = await api.execute(page, asked, token=token)
            assert "errors" not in body, body["errors"]
            assert body["data"]["organization"]["members"]["totalCount"] == 1
            assert seen.statements > 5
            assert seen.checkouts == 1
            assert len(seen.connections) == 1
            assert len(seen.transactions) == 1
            assert seen.isolation_levels == {"REPEATABLE READ"}
            # Returned when the response is sent.
            assert engine.sync_engine.pool.checkedout() == 0


async def test_a_mutation_reads_its_own_writes_after_writing(
    postgres_url: str,
) -> None:
    """The seat mutation reads the organization (permission), writes on a session
    of its own, then answers the seats as written: a new snapshot after the write,
    and no connection held while the write waits for one."""
    async with store(postgres_url) as sessions:
        await small_organization(sessions)
    token = user_token(ADMIN)
    allocate = """
        mutation($org: ID!, $user: ID!) {
          allocateSeat(organizationId: $org, userId: $user, seatType: COLLABORATOR) {
            seats { allocated byType { seatType allocated } }
            userErrors { code }
          }
        }
    """
    async with gateway(postgres_url) as api:
        assert api.app is not None
        engine = api.app.state.engine
        before = await api.execute(
            "query($org: ID!) { organization(id: $org) { seats { allocated } } }",
            {"org": "org_small"},
            token=token,
        )
        assert "errors" not in before, before["errors"]
        with watching(engine) as seen:
            body = await api.execute(
                allocate, {"org": "org_small", "user": ADMIN}, token=token
            )
        assert "errors" not in body, body["errors"]
        payload = body["data"]["allocateSeat"]
        assert payload["userErrors"] == []
        assert (
            payload["seats"]["allocated"]
            == before["data"]["organization"]["seats"]["allocated"] + 1
        )
        collaborators = {
            row["seatType"]: row["allocated"] for row in payload["seats"]["byType"]
        }
        assert collaborators["COLLABORATOR"] >= 1
        # Reads before the write, the write, reads after it: three checkouts, one at
        # a time.
        assert seen.checkouts == 3
        assert engine.sync_engine.pool.checkedout() == 0
