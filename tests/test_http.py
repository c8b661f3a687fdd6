"""The HTTP surface: health, readiness, GraphiQL, and who may ask."""

from __future__ import annotations

from datetime import timedelta

import httpx

from gateway.app import create_app
from gateway.settings import load_settings
from tests.gateway_client import error_codes, gateway, user_token

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
    }


async def test_readyz_reports_reachable_redis(sqlite_url: str, redis_url: str) -> None:
    response = await _get(sqlite_url, "/readyz", redis_url=redis_url)

    assert response.status_code == 200
    assert response.json()["redis"] == "ok"


async def test_readyz_is_not_ready_when_redis_is_unreachable(sqlite_url: str) -> None:
    response = await _get(sqlite_url, "/readyz", redis_url="redis://127.0.0.1:1/0")

    assert response.status_code == 503
    assert response.json()["redis"] == "unreachable"


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


async def test_introspection_needs_no_token_so_graphiql_can_document(
    sqlite_url: str,
) -> None:
    async with gateway(sqlite_url) as api:
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
