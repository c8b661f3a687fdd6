"""API keys a gateway has looked up are trusted while the global write generation
stays (`store.api_keys.ActiveKeys`): no statement per request, yet a key revoked
through any gateway is refused at once, and one revoked by hand in SQL within a
minute. Without Redis every request looks its key up.

PostgreSQL and a Redis of the test's own; two gateways stand for two processes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update

from gateway.app import create_app
from gateway.settings import load_settings
from rules.enums import ApiKeyKind
from store.api_keys import create_api_key
from store.db import StatementCounter, create_engine, session_factory
from store.models import ApiKey
from tests import factories as f
from tests.conftest import RedisServer
from tests.gateway_client import JWT_SECRET, Gateway, error_codes, gateway

NOW = datetime.now(UTC)
VIEWER = "{ viewer { id kind } }"


async def _keys(url: str) -> tuple[str, str, str]:
    """A SERVICE key of org_a (its id and secret) and an operator key's secret."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await f.add_all(session, f.organization("org_a"))
            service, secret = await create_api_key(
                session, ApiKeyKind.SERVICE, "metering", ("org_a",), NOW
            )
            _, operator = await create_api_key(
                session, ApiKeyKind.OPERATOR, "ops", (), NOW
            )
            await session.commit()
    finally:
        await engine.dispose()
    return service.id, secret, operator


async def _viewer(api: Gateway, secret: str) -> tuple[dict[str, object], int]:
    assert api.app is not None
    with StatementCounter(api.app.state.engine) as counter:
        body = await api.execute(VIEWER, token=secret)
    return body, counter.count


async def test_a_known_key_costs_no_statement(
    postgres_url: str, redis_server: RedisServer
) -> None:
    _, secret, _ = await _keys(postgres_url)
    async with gateway(postgres_url, redis_url=redis_server.url) as api:
        first, looked_up = await _viewer(api, secret)
        again, known = await _viewer(api, secret)

    assert first == again
    assert "errors" not in again
    assert looked_up == 2  # the key, then its first last-used time
    assert known == 0


async def test_a_key_revoked_through_another_gateway_is_refused_at_once(
    postgres_url: str, redis_server: RedisServer
) -> None:
    key_id, secret, operator = await _keys(postgres_url)
    revoke = "mutation($id: ID!) { revokeApiKey(id: $id) { userErrors { code } } }"
    async with (
        gateway(postgres_url, redis_url=redis_server.url) as reader,
        gateway(postgres_url, redis_url=redis_server.url) as writer,
    ):
        before, _ = await _viewer(reader, secret)
        revoked = await writer.execute(revoke, {"id": key_id}, token=operator)
        after, _ = await _viewer(reader, secret)

    assert "errors" not in before
    assert revoked["data"]["revokeApiKey"]["userErrors"] == []
    assert error_codes(after) == ["UNAUTHENTICATED"]


async def test_without_redis_every_request_looks_its_key_up(
    postgres_url: str,
) -> None:
    _, secret, _ = await _keys(postgres_url)
    async with gateway(postgres_url) as api:
        counts = [(await _viewer(api, secret))[1] for _ in range(2)]

    assert counts == [2, 1]  # the key (and its first last-used time), the key


@asynccontextmanager
async def _clocked(
    url: str, redis_url: str, clock: Callable[[], datetime]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        load_settings(
            database_url=url,
            redis_url=redis_url,
            jwt_secret=JWT_SECRET,
            response_cache_seconds=0,
        ),
        clock=clock,
    )
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client,
        app.router.lifespan_context(app),
    ):
        yield client


async def test_a_key_revoked_by_hand_in_sql_is_refused_within_a_minute(
    postgres_url: str, redis_server: RedisServer
) -> None:
    key_id, secret, _ = await _keys(postgres_url)
    now = [NOW]
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"query": VIEWER}
    async with _clocked(postgres_url, redis_server.url, lambda: now[0]) as client:
        await client.post("/graphql", json=body, headers=headers)
        engine = create_engine(postgres_url)
        try:
            async with session_factory(engine)() as session:
                await session.execute(
                    update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=NOW)
                )
                await session.commit()
        finally:
            await engine.dispose()
        still = (await client.post("/graphql", json=body, headers=headers)).json()
        now[0] = NOW + timedelta(minutes=1)
        refused = (await client.post("/graphql", json=body, headers=headers)).json()

    # No generation moved: the gateway could not know until it looked again.
    assert "errors" not in still
    assert error_codes(refused) == ["UNAUTHENTICATED"]
