"""Abuse limits: each refused before execution, each with a clear code."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import load_settings
from rules.enums import ApiKeyKind
from schema.limits import MAX_ALIASES, MAX_COST, MAX_DEPTH
from store.api_keys import create_api_key
from store.db import create_engine, session_factory
from tests import factories
from tests.gateway_client import (
    JWT_SECRET,
    Gateway,
    error_codes,
    gateway,
    operation,
    user_token,
)

TOKEN = user_token("u1")


async def test_every_response_reports_its_query_cost(sqlite_url: str) -> None:
    async with gateway(sqlite_url) as api:
        await api.execute("{ viewer { id } }", token=TOKEN)
        extensions = api.extensions

    assert extensions["cost"] == {
        "requestedQueryCost": 2,
        "maximumAvailable": MAX_COST,
    }


async def test_the_usage_page_fits_within_the_cost_limit(sqlite_url: str) -> None:
    async with gateway(sqlite_url) as api:
        body = await api.execute(operation("usage_page"), {"org": "x"}, token=TOKEN)
        cost = api.extensions["cost"]["requestedQueryCost"]

    assert 0 < cost <= MAX_COST
    assert error_codes(body) == ["NOT_FOUND"]


async def test_list_sizes_multiply_the_cost(sqlite_url: str) -> None:
    query = "query ($ids: [ID!]!) { organizations(ids: $ids) { id name } }"
    async with gateway(sqlite_url) as api:
        await api.execute(query, {"ids": ["a"]}, token=TOKEN)
        one = api.extensions["cost"]["requestedQueryCost"]
        await api.execute(query, {"ids": [str(n) for n in range(100)]}, token=TOKEN)
        hundred = api.extensions["cost"]["requestedQueryCost"]

    assert one == 1 + 2
    assert hundred == 1 + 100 * 2


async def test_a_query_costing_too_much_is_refused(sqlite_url: str) -> None:
    query = """query ($ids: [ID!]!) { organizations(ids: $ids) {
        members(first: 100) { edges { node { userId email name role teams } } } } }"""
    async with gateway(sqlite_url) as api:
        body = await api.execute(
            query, {"ids": [str(n) for n in range(100)]}, token=TOKEN
        )

    assert body["data"] is None
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert "points" in body["errors"][0]["message"]


async def test_a_query_too_deep_is_refused(sqlite_url: str) -> None:
    # Our own types nest 7 deep at most; introspection types recurse through ofType.
    nested = '__type(name: "Query") { ' + "ofType { " * MAX_DEPTH + "name"
    async with gateway(sqlite_url) as api:
        body = await api.execute("{ " + nested + " }" * (MAX_DEPTH + 2), token=TOKEN)

    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert f"at most {MAX_DEPTH}" in body["errors"][0]["message"]


async def test_too_many_aliases_are_refused(sqlite_url: str) -> None:
    aliases = " ".join(f"a{n}: viewer {{ id }}" for n in range(MAX_ALIASES + 1))
    async with gateway(sqlite_url) as api:
        body = await api.execute("{ " + aliases + " }", token=TOKEN)

    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_too_many_tokens_are_refused(sqlite_url: str) -> None:
    fields = " ".join("id" for _ in range(5000))
    async with gateway(sqlite_url) as api:
        body = await api.execute("{ viewer { " + fields + " } }", token=TOKEN)

    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]


async def _operator_with_org(url: str) -> str:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        await factories.add_all(session, factories.organization("org_a"))
        _, secret = await create_api_key(
            session, ApiKeyKind.OPERATOR, "ops", (), datetime.now(UTC)
        )
        await session.commit()
    await engine.dispose()
    return secret


@pytest.mark.parametrize(
    "field", ["members", "topWorkspaces", "topWorkspaceGroups", "topUsers"]
)
async def test_page_sizes_are_capped_at_100(sqlite_url: str, field: str) -> None:
    operator = await _operator_with_org(sqlite_url)
    query = '{ organization(id: "org_a") { %s(first: %d) { totalCount } } }'
    async with gateway(sqlite_url) as api:
        allowed = await api.execute(query % (field, 100), token=operator)
        refused = await api.execute(query % (field, 101), token=operator)

    assert error_codes(allowed) == []
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert "between 0 and 100" in refused["errors"][0]["message"]


async def test_record_usage_takes_at_most_1000_events(sqlite_url: str) -> None:
    operator = await _operator_with_org(sqlite_url)
    mutation = (
        "mutation ($events: [UsageEventInput!]!) "
        "{ recordUsage(events: $events) { accepted } }"
    )
    events = [
        {
            "idempotencyKey": f"k{n}",
            "organizationId": "org_a",
            "meter": "api_calls",
            "quantity": "1",
        }
        for n in range(1001)
    ]
    async with gateway(sqlite_url) as api:
        body = await api.execute(mutation, {"events": events}, token=operator)

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None


async def test_a_body_over_the_limit_is_refused_with_413(sqlite_url: str) -> None:
    app = create_app(
        load_settings(
            database_url=sqlite_url, jwt_secret=JWT_SECRET, max_body_bytes=2048
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        app.router.lifespan_context(app),
    ):
        response = await client.post(
            "/graphql", json={"query": "{ viewer { id } }", "padding": "x" * 4096}
        )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def _viewer(api: Gateway, token: str) -> httpx.Response:
    """Over HTTP as it is (a rate-limited request answers 429, not 200)."""
    return await api.client.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_a_caller_past_its_bucket_is_rate_limited_with_a_retry_hint(
    sqlite_url: str,
) -> None:
    async with gateway(
        sqlite_url, rate_limit_burst=3, rate_limit_per_second=0.5
    ) as api:
        responses = [await _viewer(api, TOKEN) for _ in range(4)]
        other = await _viewer(api, user_token("u2"))

    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    bodies = [response.json() for response in responses]
    assert [error_codes(body) for body in bodies] == [[], [], [], ["RATE_LIMITED"]]
    assert bodies[3]["errors"][0]["extensions"]["retryAfter"] == 2
    assert responses[3].headers["retry-after"] == "2"
    assert error_codes(other.json()) == []


async def test_a_service_key_has_a_bucket_policy_of_its_own(
    sqlite_url: str,
) -> None:
    """A metering service checks before every call: a person's limit is not its."""
    async with gateway(
        sqlite_url,
        rate_limit_burst=2,
        rate_limit_per_second=0.5,
        rate_limit_service_burst=5,
        rate_limit_service_per_second=0.5,
    ) as api:
        engine = create_engine(sqlite_url)
        try:
            async with session_factory(engine)() as session:
                await factories.add_all(session, factories.organization("org_a"))
                _, service = await create_api_key(
                    session,
                    ApiKeyKind.SERVICE,
                    "metering",
                    ("org_a",),
                    datetime.now(UTC),
                )
                await session.commit()
        finally:
            await engine.dispose()
        users = [await _viewer(api, TOKEN) for _ in range(3)]
        services = [await _viewer(api, service) for _ in range(6)]

    assert [r.status_code for r in users] == [200, 200, 429]
    assert [r.status_code for r in services] == [200] * 5 + [429]
    assert services[0].headers["ratelimit-policy"] == '"caller";q=5;w=10'


async def test_rate_limit_buckets_are_shared_through_redis(
    sqlite_url: str, redis_url: str
) -> None:
    import uuid

    caller = user_token(f"u-{uuid.uuid4().hex}")
    settings = {
        "rate_limit_burst": 2,
        "rate_limit_per_second": 0.1,
        "redis_url": redis_url,
    }
    async with (
        gateway(sqlite_url, **settings) as first,
        gateway(sqlite_url, **settings) as second,
    ):
        a = await _viewer(first, caller)
        b = await _viewer(second, caller)
        c = await _viewer(first, caller)

    assert [response.status_code for response in (a, b, c)] == [200, 200, 429]
    assert [error_codes(r.json()) for r in (a, b, c)] == [[], [], ["RATE_LIMITED"]]


async def test_graphiqls_introspection_query_is_within_the_limits(
    sqlite_url: str,
) -> None:
    from graphql import get_introspection_query

    async with gateway(sqlite_url) as api:
        body = await api.execute(
            get_introspection_query(descriptions=True), token=TOKEN
        )

    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize(
    "name",
    [
        "usage_page",
        "mobile_summary",
        "members",
        "usage_chart",
        "partner_billing_state",
        "meters",
        "analytics",
        "usage_check",
        "record_usage",
        "provisioning",
    ],
)
def test_every_contract_operation_fits_the_limits(name: str) -> None:
    from graphql import parse

    from schema.limits import MAX_DEPTH, measure

    variables = {"ids": [str(n) for n in range(100)], "first": 100}
    found = measure(parse(operation(name)), variables, None)

    assert found.cost <= MAX_COST
    assert found.depth <= MAX_DEPTH
    assert found.aliases <= MAX_ALIASES
