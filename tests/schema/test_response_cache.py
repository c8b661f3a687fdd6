"""Cached answers (`schema.response_cache`): served again only while current.

A repeated query is answered without SQL while the write generations it was
computed at have not moved and it is younger than the maximum age. Once
`recordUsage` or any mutation has replied, in this gateway or another one sharing
the database and Redis, the next read shows it. Answers are never shared between
callers; errors and Redis outages are never served from the cache.

PostgreSQL and a Redis of the test's own; two gateways in one test stand for two
processes (each keeps its own answers; they share only the database and Redis).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from graphql import parse

from auth.identity import Identity
from gateway.worker import sync_all
from rules.enums import ApiKeyKind, Role, ViewerKind
from schema.response_cache import named_organizations
from store.api_keys import create_api_key
from store.db import StatementCounter, create_engine, session_factory
from store.generations import Generations
from tests import factories as f
from tests.conftest import RedisServer
from tests.gateway_client import Gateway, gateway, operation, user_token

NOW = datetime.now(UTC)
ANCHOR = NOW - timedelta(days=3)
ADMIN, MEMBER = "usr_admin", "usr_member"
PAGE = """
query Page($org: ID!) {
  organization(id: $org) {
    name
    meters { key used }
    aiBudget { spentUsd }
    dailyAllowance { message }
  }
}
"""
RECORD = """
mutation Record($events: [UsageEventInput!]!) {
  recordUsage(events: $events) { accepted }
}
"""


async def _seed(url: str) -> str:
    """`org_a` (enrichments limited to 50, the allowance panel on) with an ADMIN and
    a MEMBER; returns a SERVICE key of org_a."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await f.add_all(
                session,
                f.organization("org_a", name="Acme", allowance_ui_details=True),
                f.organization("org_b", name="Other"),
                f.plan("pro", monthly_credits=Decimal(100)),
                f.limit("pro", "enrichments", "50"),
                f.limit("pro", "ai_spend_usd", "100"),
                f.subscription("org_a", "pro", anchor=ANCHOR),
                f.subscription("org_b", "pro", anchor=ANCHOR),
                f.member("org_a", ADMIN, Role.ADMIN),
                f.member("org_a", MEMBER, Role.MEMBER),
            )
            _, service = await create_api_key(
                session, ApiKeyKind.SERVICE, "metering", ("org_a",), NOW
            )
            await session.commit()
    finally:
        await engine.dispose()
    return service


@asynccontextmanager
async def cached_gateway(
    postgres_url: str, redis: RedisServer, seconds: float = 60
) -> AsyncIterator[Gateway]:
    async with gateway(
        postgres_url, redis_url=redis.url, response_cache_seconds=seconds
    ) as api:
        yield api


async def _page(api: Gateway, user: str = ADMIN) -> tuple[dict[str, Any], int]:
    """The page's answer and how many SQL statements it cost."""
    assert api.app is not None
    with StatementCounter(api.app.state.engine) as counter:
        body = await api.execute(PAGE, {"org": "org_a"}, token=user_token(user))
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data, counter.count


def _used(page: dict[str, Any], meter: str) -> str | None:
    for row in page["organization"]["meters"]:
        if row["key"] == meter:
            used: str = row["used"]
            return used
    return None


async def _record(api: Gateway, service: str, key: str, quantity: str) -> None:
    event = {
        "idempotencyKey": key,
        "organizationId": "org_a",
        "meter": "enrichments",
        "quantity": quantity,
    }
    body = await api.execute(RECORD, {"events": [event]}, token=service)
    assert body["data"]["recordUsage"]["accepted"] == 1, body


async def test_a_repeated_page_is_answered_without_sql(
    postgres_url: str, redis_server: RedisServer
) -> None:
    await _seed(postgres_url)
    async with cached_gateway(postgres_url, redis_server) as api:
        first, first_statements = await _page(api)
        again, again_statements = await _page(api)

    assert first_statements > 3
    assert again_statements == 0
    assert again == first


async def test_concurrent_misses_share_one_computation(
    postgres_url: str, redis_server: RedisServer
) -> None:
    await _seed(postgres_url)
    async with cached_gateway(postgres_url, redis_server) as api:
        assert api.app is not None
        await _page(api)  # the process's catalog and counters loaded
        api.app.state.response_cache.clear()
        with StatementCounter(api.app.state.engine) as together:
            pages = await asyncio.gather(*(_page(api) for _ in range(8)))
        api.app.state.response_cache.clear()
        _, alone = await _page(api)

    assert together.count == alone
    assert all(page == pages[0][0] for page, _ in pages)


async def test_a_page_read_after_record_usage_replied_includes_its_events(
    postgres_url: str, redis_server: RedisServer
) -> None:
    service = await _seed(postgres_url)
    async with cached_gateway(postgres_url, redis_server) as api:
        await _record(api, service, "e1", "3")
        before, _ = await _page(api)
        await _record(api, service, "e2", "4")
        after, statements = await _page(api)

    assert _used(before, "enrichments") == "3"
    assert _used(after, "enrichments") == "7"
    assert statements > 0


async def test_usage_recorded_through_another_gateway_shows_at_once(
    postgres_url: str, redis_server: RedisServer
) -> None:
    service = await _seed(postgres_url)
    async with (
        cached_gateway(postgres_url, redis_server) as reader,
        cached_gateway(postgres_url, redis_server) as writer,
    ):
        before, _ = await _page(reader)
        await _page(reader)  # kept
        await _record(writer, service, "e1", "5")
        after, _ = await _page(reader)

    assert _used(before, "enrichments") == "0"
    assert _used(after, "enrichments") == "5"


async def test_a_mutation_through_another_gateway_shows_at_once(
    postgres_url: str, redis_server: RedisServer
) -> None:
    await _seed(postgres_url)
    engine = create_engine(postgres_url)
    try:
        async with session_factory(engine)() as session:
            _, operator = await create_api_key(
                session, ApiKeyKind.OPERATOR, "ops", (), NOW
            )
            await session.commit()
    finally:
        await engine.dispose()
    rename = """
        mutation { upsertOrganization(input: {id: "org_a", name: "Acme Two",
          billingState: PAID}) { userErrors { code } } }
    """
    async with (
        cached_gateway(postgres_url, redis_server) as reader,
        cached_gateway(postgres_url, redis_server) as writer,
    ):
        before, _ = await _page(reader)
        renamed = await writer.execute(rename, token=operator)
        after, _ = await _page(reader)

    assert renamed["data"]["upsertOrganization"]["userErrors"] == []
    assert before["organization"]["name"] == "Acme"
    assert after["organization"]["name"] == "Acme Two"


async def test_a_new_allowance_snapshot_from_the_worker_shows_at_once(
    postgres_url: str, redis_server: RedisServer
) -> None:
    await _seed(postgres_url)
    engine = create_engine(postgres_url)
    async with cached_gateway(postgres_url, redis_server) as api:
        before, _ = await _page(api)
        assert api.app is not None
        redis = api.app.state.redis
        try:
            created, failed = await sync_all(
                session_factory(engine), NOW, Generations(redis)
            )
        finally:
            await engine.dispose()
        after, _ = await _page(api)

    assert (created, failed) == (2, 0)
    assert before["organization"]["dailyAllowance"]["message"].startswith(
        "No worker-synced billing allowance snapshot"
    )
    assert after["organization"]["dailyAllowance"]["message"] is None


async def test_callers_never_share_an_answer(
    postgres_url: str, redis_server: RedisServer
) -> None:
    await _seed(postgres_url)
    async with cached_gateway(postgres_url, redis_server) as api:
        admin, _ = await _page(api, ADMIN)
        member, member_statements = await _page(api, MEMBER)

    # The same document and variables: the member's own answer, computed for the
    # member (dollar amounts redacted), not the admin's kept one.
    assert member_statements > 0
    assert admin["organization"]["aiBudget"]["spentUsd"] == "0"
    assert member["organization"]["aiBudget"]["spentUsd"] is None


async def test_an_answer_older_than_the_maximum_age_is_computed_again(
    postgres_url: str, redis_server: RedisServer
) -> None:
    await _seed(postgres_url)
    # Half the age (when refresh-ahead starts) stays well above one page's time on a
    # loaded machine: at 0.6 s a slow first page made the second one a refresh.
    async with cached_gateway(postgres_url, redis_server, seconds=4) as api:
        await _page(api)
        _, kept = await _page(api)
        await asyncio.sleep(4.1)
        _, expired = await _page(api)

    assert kept == 0
    assert expired > 0


async def test_past_half_its_age_one_request_computes_while_others_are_served(
    postgres_url: str, redis_server: RedisServer
) -> None:
    await _seed(postgres_url)
    async with cached_gateway(postgres_url, redis_server, seconds=3) as api:
        assert api.app is not None
        await _page(api)  # the process's catalog and counters loaded
        api.app.state.response_cache.clear()
        first, alone = await _page(api)
        await asyncio.sleep(1.6)
        with StatementCounter(api.app.state.engine) as refreshing:
            pages = await asyncio.gather(*(_page(api) for _ in range(6)))
        _, after = await _page(api)

    # Exactly one computation among them (none would mean no refresh, six that
    # nobody was served the kept answer meanwhile).
    assert refreshing.count == alone
    assert all(page == first for page, _ in pages)
    assert after == 0


async def test_an_answer_with_errors_is_never_kept(
    postgres_url: str, redis_server: RedisServer
) -> None:
    await _seed(postgres_url)
    async with cached_gateway(postgres_url, redis_server) as api:
        assert api.app is not None
        counts = []
        for _ in range(2):
            with StatementCounter(api.app.state.engine) as counter:
                body = await api.execute(
                    PAGE, {"org": "org_b"}, token=user_token(ADMIN)
                )
            assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            counts.append(counter.count)

    assert all(count > 0 for count in counts)


async def test_with_redis_unreachable_every_answer_is_computed(
    postgres_url: str, redis_server: RedisServer
) -> None:
    service = await _seed(postgres_url)
    async with cached_gateway(postgres_url, redis_server) as api:
        await _record(api, service, "e1", "2")
        await _page(api)  # kept
        redis_server.stop()
        await _record(api, service, "e2", "3")  # decided from SQL
        during, statements = await _page(api)

    assert statements > 0
    assert _used(during, "enrichments") == "5"


async def test_a_user_asking_for_their_organizations_is_not_cached(
    postgres_url: str, redis_server: RedisServer
) -> None:
    await _seed(postgres_url)
    summary = operation("mobile_summary")
    async with cached_gateway(postgres_url, redis_server) as api:
        assert api.app is not None
        counts = []
        for _ in range(2):
            with StatementCounter(api.app.state.engine) as counter:
                body = await api.execute(summary, token=user_token(ADMIN))
            assert "errors" not in body, body["errors"]
            counts.append(counter.count)

    assert all(count > 0 for count in counts)


async def test_a_mutation_moves_the_global_generation_and_record_usage_its_own(
    postgres_url: str, redis_server: RedisServer
) -> None:
    service = await _seed(postgres_url)
    allocate = """
        mutation { allocateSeat(organizationId: "org_a", userId: "usr_member",
          seatType: COLLABORATOR) { userErrors { code } } }
    """
    async with cached_gateway(postgres_url, redis_server) as api:
        assert api.app is not None
        generations = Generations(api.app.state.redis)
        start = await generations.read(["org_a", "org_b"])
        await _record(api, service, "e1", "1")
        recorded = await generations.read(["org_a", "org_b"])
        await api.execute(allocate, token=user_token(ADMIN))
        allocated = await generations.read(["org_a", "org_b"])

    assert start == (0, 0, 0)
    assert recorded == (0, 1, 0)
    assert allocated == (1, 1, 0)


KEY = Identity(ViewerKind.PARTNER, "key_1", ("org_p", "org_q"))
USER = Identity(ViewerKind.USER, "usr_1")


@pytest.mark.parametrize(
    ("document", "variables", "identity", "expected"),
    [
        ("query($o: ID!) { organization(id: $o) { id } }", {"o": "a"}, USER, ["a"]),
        ('{ organization(id: "a") { id } viewer { id } }', {}, USER, ["a"]),
        (
            "query($ids: [ID!]!) { organizations(ids: $ids) { id } }",
            {"ids": ["b", "a", "b"]},
            KEY,
            ["a", "b"],
        ),
        ('{ organizations(ids: ["a", "c"]) { id } }', {}, KEY, ["a", "c"]),
        ("{ viewer { organizations { id } } }", {}, KEY, ["org_p", "org_q"]),
        (
            "{ viewer { ...V } } fragment V on Viewer { organizations { id } }",
            {},
            USER,
            None,
        ),
        ("{ viewer { id name } }", {}, USER, []),
        ("query($o: ID!) { organization(id: $o) { id } }", {"o": 5}, USER, None),
        (
            '{ usageCheck(organizationId: "a", meter: "m", quantity: "1") '
            "{ allowed } }",
            {},
            USER,
            None,
        ),
        ('{ ... on Query { organization(id: "a") { id } } }', {}, USER, None),
    ],
)
def test_the_organizations_a_query_reads_are_named_before_it_runs(
    document: str,
    variables: dict[str, Any],
    identity: Identity,
    expected: list[str] | None,
) -> None:
    assert named_organizations(parse(document), None, variables, identity) == expected
