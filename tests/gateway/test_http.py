"""The HTTP surface: health, readiness, GraphiQL, and who may ask."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.tokens import issue_jwt
from gateway.app import create_app
from gateway.settings import load_settings
from rules.enums import ApiKeyKind
from store.api_keys import KeyRecord, create_api_key, hash_api_key, revoke_api_key
from store.db import create_engine, session_factory
from store.models import ApiKey
from tests import factories
from tests.gateway_client import error_codes, gateway, user_token

NOW = datetime.now(UTC)

VIEWER = "query { viewer { id kind } }"


async def _get(database_url: str, path: str, **settings: object) -> httpx.Response:
    app = create_app(load_settings(database_url=database_url, **settings))
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        app.router.lifespan_context(app),
    ):
        return await client.get(path, headers={"Accept": "text/html"})


async def test_healthz_answers_while_the_process_is_up(sqlite_url: str) -> None:
    response = await _get(sqlite_url, "/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_with_database_and_no_redis_configured(
    sqlite_url: str,
) -> None:
    response = await _get(sqlite_url, "/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "redis": "not configured",
        "counters": "in-process",
    }


async def test_readyz_reports_reachable_redis(sqlite_url: str, redis_url: str) -> None:
    response = await _get(sqlite_url, "/readyz", redis_url=redis_url)

    assert response.status_code == 200
    assert response.json()["redis"] == "ok"


async def test_readyz_stays_ready_but_degraded_while_redis_is_unreachable(
    sqlite_url: str,
) -> None:
    """Requests are still answered exactly from SQL: the process keeps its traffic."""
    response = await _get(sqlite_url, "/readyz", redis_url="redis://127.0.0.1:1/0")

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "unreachable",
        "counters": "sql-fallback",
    }


async def test_readyz_is_not_ready_when_the_database_is_unreachable(
    tmp_path: object,
) -> None:
    response = await _get("postgresql+asyncpg://postgres@127.0.0.1:1/none", "/readyz")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_graphiql_is_served_at_graphql(sqlite_url: str) -> None:
    response = await _get(sqlite_url, "/graphql")

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_no_token_is_unauthenticated(sqlite_url: str) -> None:
    async with gateway(sqlite_url) as api:
        body = await api.execute(VIEWER)

    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_expired_token_is_unauthenticated(sqlite_url: str) -> None:
    async with gateway(sqlite_url) as api:
        body = await api.execute(VIEWER, token=user_token("u1", timedelta(seconds=-1)))

    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == "the token has expired"


async def test_unknown_api_key_is_unauthenticated(sqlite_url: str) -> None:
    async with gateway(sqlite_url) as api:
        body = await api.execute(VIEWER, token="ugk_not-a-key")

    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_signed_in_user_is_the_viewer(sqlite_url: str) -> None:
    async with gateway(sqlite_url) as api:
        body = await api.execute(VIEWER, token=user_token("u1"))

    assert body == {"data": {"viewer": {"id": "u1", "kind": "USER"}}}


async def test_public_introspection_needs_no_token_so_graphiql_can_document(
    sqlite_url: str,
) -> None:
    async with gateway(sqlite_url, introspection="public") as api:
        body = await api.execute("{ __schema { queryType { name } } }")

    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_syntax_errors_say_bad_user_input(sqlite_url: str) -> None:
    async with gateway(sqlite_url) as api:
        body = await api.execute("query { viewer { id }", token=user_token("u1"))

    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_unknown_fields_say_bad_user_input(sqlite_url: str) -> None:
    async with gateway(sqlite_url) as api:
        body = await api.execute("query { nope }", token=user_token("u1"))

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "nope" in body["errors"][0]["message"]


async def test_malformed_token_is_unauthenticated(sqlite_url: str) -> None:
    async with gateway(sqlite_url) as api:
        body = await api.execute(VIEWER, token="not-a-jwt")

    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == (
        "the token is malformed or its signature is wrong"
    )


async def test_token_signed_with_another_secret_is_unauthenticated(
    sqlite_url: str,
) -> None:
    forged = issue_jwt(
        "u1", "some-other-secret-of-enough-length", NOW + timedelta(hours=1)
    )
    async with gateway(sqlite_url) as api:
        body = await api.execute(VIEWER, token=forged)

    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_revoked_api_key_is_unauthenticated(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    async with session_factory(engine)() as session:
        record, secret = await _service_key(session)
    async with gateway(sqlite_url) as api:
        before = await api.execute(VIEWER, token=secret)
        async with session_factory(engine)() as session:
            await revoke_api_key(session, record.id, NOW)
            await session.commit()
        after = await api.execute(VIEWER, token=secret)
    await engine.dispose()

    assert before["data"] == {"viewer": {"id": record.id, "kind": "SERVICE"}}
    assert error_codes(after) == ["UNAUTHENTICATED"]
    assert after["errors"][0]["message"] == "the API key is unknown or revoked"


async def _service_key(session: AsyncSession) -> tuple[KeyRecord, str]:
    session.add(factories.organization("org_a"))
    await session.flush()
    created = await create_api_key(session, ApiKeyKind.SERVICE, "svc", ("org_a",), NOW)
    await session.commit()
    return created


async def test_api_keys_are_stored_only_as_hashes(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    async with session_factory(engine)() as session:
        _, secret = await _service_key(session)
        stored = (await session.execute(select(ApiKey.secret_hash))).scalars().all()
    await engine.dispose()

    assert stored == [hash_api_key(secret)]
    assert secret not in stored


async def test_internal_errors_carry_no_stack_trace_sql_or_secret(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(sqlite_url)
    async with session_factory(engine)() as session:
        record, secret = await _service_key(session)
        session.add(factories.plan("pro"))
        await session.flush()
        session.add(factories.subscription("org_a", "pro"))
        await session.commit()
        # Rollups whose sum no 64-bit integer holds: the read fails inside SQLite.
        for hour in (1, 2):
            await session.execute(
                text(
                    "INSERT INTO usage_rollups VALUES ('org_a', 'api_calls', 'total', "
                    f"'', '2026-06-0{hour} 00:00:00.000000', 9000000000000000000, "
                    "0, 0, 0, 1, 0)"
                )
            )
        await session.commit()
    await engine.dispose()
    query = (
        '{ organization(id: "org_a", at: "2026-06-10T00:00:00Z") { meters { used } } }'
    )
    async with gateway(sqlite_url) as api:
        body = await api.execute(query, token=secret)

    assert error_codes(body) == ["INTERNAL"]
    message = json.dumps(body)
    assert body["errors"][0]["message"] == "Internal error."
    for leak in ("Traceback", "SELECT", "sqlite", "overflow", secret, record.id):
        assert leak not in message
    assert "unexpected error" in caplog.text
    assert secret not in caplog.text


async def test_logs_never_print_token_values(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good, bad = user_token("u1"), "eyJhbGciOiJIUzI1NiJ9.e30.forged-signature"
    async with gateway(sqlite_url) as api:
        await api.execute(VIEWER, token=good)
        await api.execute(VIEWER, token=bad)
        await api.execute('{ organization(id: "x") { id } }', token=good)

    assert good not in caplog.text
    assert bad not in caplog.text


async def test_api_key_use_is_stamped_at_most_once_a_minute(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    async with session_factory(engine)() as session:
        record, secret = await _service_key(session)
    async with gateway(sqlite_url) as api:
        await api.execute(VIEWER, token=secret)
        await api.execute(VIEWER, token=secret)
    async with session_factory(engine)() as session:
        used = await session.scalar(
            select(ApiKey.last_used_at).where(ApiKey.id == record.id)
        )
    await engine.dispose()

    assert used is not None
    assert datetime.now(UTC) - used < timedelta(minutes=1)


def test_usage_events_have_no_field_for_content_or_secrets() -> None:
    from graphql import GraphQLInputObjectType

    from schema import schema

    event = schema._schema.type_map["UsageEventInput"]
    assert isinstance(event, GraphQLInputObjectType)
    names = set(event.fields)

    assert names == {
        "idempotencyKey",
        "organizationId",
        "meter",
        "quantity",
        "occurredAt",
        "userId",
        "workspaceId",
        "source",
        "feature",
        "model",
        "tokens",
        "costUsd",
        "definitionId",
        "definitionName",
    }
