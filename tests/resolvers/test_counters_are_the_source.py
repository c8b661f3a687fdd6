"""Live pages and usageCheck read the hot counters, not SQL: proven by changing a
counter behind the gateway's back and seeing the answer follow it.

With warm counters, `organization(id:)` without `at:` (meters, credits, pools) and
`usageCheck` run no statement against the tables that hold usage (hourly and cycle
rollups, events, credit draws) and no `sum(`. A counter moved directly in Redis
(`HINCRBY ug:{org}:counters <field> <micro-units>`), or in the in-process store of
the embedded default, then shows in the very next answer: SQL never saw it.

The Redis keys of an organization carry its id as a hash tag (`ug:{org}:counters`,
`ug:{org}:claims`, `ug:{org}:inflight`, `ug:{org}:generation`), so all land on one
Redis Cluster slot; the claims and in-flight keys are seen while a write is held
before its commit (an event's claim and the call's reservation are freed once
committed).

PostgreSQL and a Redis of the test's own (`redis_server`), the in-process variants on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from redis.asyncio import Redis
from redis.crc import key_slot
from sqlalchemy.engine import make_url

from rules.cycles import cycle_for
from rules.enums import ApiKeyKind, CreditPoolKind, Role
from store.api_keys import create_api_key
from store.counters import grant_field, monthly_field, usage_field
from store.counters.memory import MemoryCounterStore
from store.db import StatementCounter, create_engine, session_factory
from store.models import CreditGrant
from tests import factories as f
from tests.conftest import RedisServer
from tests.gateway_client import Gateway, gateway, operation, user_token

NOW = datetime.now(UTC)
ANCHOR = NOW - timedelta(days=3)
CYCLE = cycle_for(ANCHOR, NOW)
ADMIN = "usr_admin"
PAGE = """
query Page($org: ID!) {
  organization(id: $org) {
    meters { key used }
    credits { spent remaining pools { spent } }
  }
}
"""
USAGE_TABLES = re.compile(
    r"\b(usage_rollups|usage_cycle_rollups|usage_events|credit_draws)\b", re.I
)
MICROS = 1_000_000


async def _seed(url: str) -> str:
    """`org_a`: 50 enrichments at 1 credit each, 20 MONTHLY credits and a BONUS grant
    of 20; an ADMIN member; returns an operator key's secret."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await f.add_all(
                session,
                f.organization("org_a"),
                f.plan("pro", monthly_credits=Decimal(20)),
                f.limit("pro", "enrichments", "50", credits_per_unit=Decimal(1)),
                f.subscription("org_a", "pro", anchor=ANCHOR),
                f.member("org_a", ADMIN, Role.ADMIN),
                CreditGrant(
                    id="grant_bonus",
                    organization_id="org_a",
                    kind=CreditPoolKind.BONUS,
                    amount=Decimal(20),
                    spent=Decimal(0),
                    granted_at=ANCHOR,
                    expires_at=None,
                ),
            )
            _, secret = await create_api_key(
                session, ApiKeyKind.OPERATOR, "operator", (), NOW
            )
            await session.commit()
    finally:
        await engine.dispose()
    return secret


@asynccontextmanager
async def _gateway(url: str, redis: str | None) -> AsyncIterator[tuple[Gateway, str]]:
    secret = await _seed(url)
    settings: dict[str, Any] = {} if redis is None else {"redis_url": redis}
    async with gateway(url, **settings) as api:
        yield api, secret


async def _record(api: Gateway, secret: str, key: str, quantity: str) -> None:
    event = {
        "idempotencyKey": key,
        "organizationId": "org_a",
        "meter": "enrichments",
        "quantity": quantity,
    }
    body = await api.execute(
        operation("record_usage"), {"events": [event]}, token=secret
    )
    assert "errors" not in body, body["errors"]
    assert body["data"]["recordUsage"]["accepted"] == 1


def _sql_reads(statements: list[str]) -> list[str]:
    """Statements that read usage from SQL: a usage table or a sum."""
    return [s for s in statements if USAGE_TABLES.search(s) or "sum(" in s.lower()]


async def _page(api: Gateway) -> tuple[dict[str, Any], list[str]]:
    assert api.app is not None
    with StatementCounter(api.app.state.engine) as counter:
        body = await api.execute(PAGE, {"org": "org_a"}, token=user_token(ADMIN))
    assert "errors" not in body, body["errors"]
    data = body["data"]["organization"]
    figures = {
        "meters": {m["key"]: m["used"] for m in data["meters"]},
        "spent": data["credits"]["spent"],
        "remaining": data["credits"]["remaining"],
        "pools": [pool["spent"] for pool in data["credits"]["pools"]],
    }
    return figures, _sql_reads(counter.statements)


async def _check(api: Gateway, secret: str) -> tuple[dict[str, Any], list[str]]:
    assert api.app is not None
    with StatementCounter(api.app.state.engine) as counter:
        body = await api.execute(
            operation("usage_check"),
            {"org": "org_a", "meter": "enrichments", "quantity": "1"},
            token=secret,
        )
    assert "errors" not in body, body["errors"]
    check: dict[str, Any] = body["data"]["usageCheck"]
    return check, _sql_reads(counter.statements)


async def _hincrby(url: str, field: str, units: int) -> None:
    """Move one of `org_a`'s counters in Redis, as no gateway code would."""
    client = Redis.from_url(url)
    try:
        key = "ug:{org_a}:counters"
        assert await client.hexists(key, field), f"{field} is not a warm counter"
        await client.hincrby(key, field, units * MICROS)
    finally:
        await client.aclose()


async def _flush(url: str) -> None:
    """Every counter gone, as after a Redis restart."""
    client = Redis.from_url(url)
    try:
        await client.flushall()
    finally:
        await client.aclose()


def _nudge_in_process(api: Gateway, field: str, units: int) -> None:
    """Move one of `org_a`'s counters in this process's store (the embedded default
    keeps them in a dict; nothing else can reach them)."""
    assert api.app is not None
    store = api.app.state.counters
    assert isinstance(store, MemoryCounterStore)
    held = store._orgs["org_a"].values
    assert field in held, f"{field} is not a warm counter"
    held[field] += Decimal(units)


ENRICHMENTS = usage_field("enrichments", CYCLE.start)
MONTHLY = monthly_field(CYCLE.start)
BONUS = grant_field("grant_bonus")

# 15 enrichments at 1 credit: 15 of the MONTHLY pool's 20; the BONUS 20 untouched.
WARM = {
    "meters": {"enrichments": "15"},
    "spent": "15",
    "remaining": "25",
    "pools": ["15", "0"],
}
# Then, behind the gateway's back: 7 more enrichments, 3 more MONTHLY credits and 4
# BONUS credits spent. A grant's spending *in the cycle* is read by key from
# `credit_cycle_spend` (DEVELOPERS.md), so the BONUS pool's `spent` stays 0 while its
# balance, from the counter, drops to 16.
NUDGED = {
    "meters": {"enrichments": "22"},
    "spent": "18",
    "remaining": "18",
    "pools": ["18", "0"],
}


async def _spend(api: Gateway, secret: str) -> None:
    await _record(api, secret, "e1", "12")
    await _record(api, secret, "e2", "3")


# live page ----------------------------------------------------------------------------


async def test_live_page_with_warm_redis_counters_reads_no_usage_table_and_no_sum(
    postgres_url: str, redis_server: RedisServer
) -> None:
    async with _gateway(postgres_url, redis_server.url) as (api, secret):
        await _spend(api, secret)
        await _page(api)  # loads what the decisions did not need
        figures, sql = await _page(api)

    assert sql == []
    assert figures == WARM


async def test_live_page_shows_a_redis_counter_changed_behind_the_gateways_back(
    postgres_url: str, redis_server: RedisServer
) -> None:
    async with _gateway(postgres_url, redis_server.url) as (api, secret):
        await _spend(api, secret)
        warm, _ = await _page(api)
        await _hincrby(redis_server.url, ENRICHMENTS, 7)
        await _hincrby(redis_server.url, MONTHLY, 3)
        await _hincrby(redis_server.url, BONUS, 4)
        nudged, sql = await _page(api)

    assert warm == WARM
    assert sql == []
    assert nudged == NUDGED


async def test_live_page_with_warm_in_process_counters_reads_no_usage_table_and_no_sum(
    database_url: str,
) -> None:
    async with _gateway(database_url, None) as (api, secret):
        await _spend(api, secret)
        await _page(api)
        figures, sql = await _page(api)

    assert sql == []
    assert figures == WARM


async def test_live_page_shows_an_in_process_counter_changed_behind_the_gateways_back(
    database_url: str,
) -> None:
    async with _gateway(database_url, None) as (api, secret):
        await _spend(api, secret)
        warm, _ = await _page(api)
        _nudge_in_process(api, ENRICHMENTS, 7)
        _nudge_in_process(api, MONTHLY, 3)
        _nudge_in_process(api, BONUS, 4)
        nudged, sql = await _page(api)

    assert warm == WARM
    assert sql == []
    assert nudged == NUDGED


# usageCheck ---------------------------------------------------------------------------


async def test_usage_check_with_warm_redis_counters_runs_no_sql_aggregate(
    postgres_url: str, redis_server: RedisServer
) -> None:
    async with _gateway(postgres_url, redis_server.url) as (api, secret):
        await _spend(api, secret)
        check, sql = await _check(api, secret)

    assert sql == []
    assert (check["allowed"], check["used"], check["remaining"]) == (True, "15", "35")


async def test_usage_check_reads_a_redis_counter_changed_behind_the_gateways_back(
    postgres_url: str, redis_server: RedisServer
) -> None:
    async with _gateway(postgres_url, redis_server.url) as (api, secret):
        await _spend(api, secret)
        await _hincrby(redis_server.url, ENRICHMENTS, 7)
        nudged, sql = await _check(api, secret)
        await _hincrby(redis_server.url, ENRICHMENTS, 50 - 22)
        full, _ = await _check(api, secret)

    assert sql == []
    assert (nudged["allowed"], nudged["used"], nudged["remaining"]) == (
        True,
        "22",
        "28",
    )
    # The counter says the limit is reached (SQL holds 15 of 50): the check follows it.
    assert (full["allowed"], full["code"], full["used"]) == (
        False,
        "LIMIT_REACHED",
        "50",
    )


async def test_usage_check_on_cold_redis_counters_fills_them_for_the_next_check(
    postgres_url: str, redis_server: RedisServer
) -> None:
    async with _gateway(postgres_url, redis_server.url) as (api, secret):
        await _spend(api, secret)
        await _flush(redis_server.url)
        cold, cold_sql = await _check(api, secret)
        warm, warm_sql = await _check(api, secret)
        client = Redis.from_url(redis_server.url)
        try:
            held = await client.hget("ug:{org_a}:counters", ENRICHMENTS)
        finally:
            await client.aclose()

    assert cold_sql != []  # the counters were filled from SQL first
    assert warm_sql == []
    assert cold == warm
    assert (warm["allowed"], warm["used"], warm["remaining"]) == (True, "15", "35")
    assert held is not None
    assert int(held) == 15 * MICROS


async def test_counters_filled_by_a_usage_check_count_the_next_write_once(
    postgres_url: str, redis_server: RedisServer
) -> None:
    async with _gateway(postgres_url, redis_server.url) as (api, secret):
        await _spend(api, secret)
        await _flush(redis_server.url)
        await _check(api, secret)
        await _record(api, secret, "e3", "5")
        check, sql = await _check(api, secret)
        figures, _ = await _page(api)

    assert sql == []
    assert (check["used"], check["remaining"]) == ("20", "30")
    assert figures["meters"] == {"enrichments": "20"}
    assert figures["pools"] == ["20", "0"]


async def test_usage_check_on_a_new_in_process_store_fills_it_for_the_next_check(
    database_url: str,
) -> None:
    async with _gateway(database_url, None) as (api, secret):
        await _spend(api, secret)
    # A new process: its in-process counters start empty.
    async with gateway(database_url) as api:
        cold, cold_sql = await _check(api, secret)
        warm, warm_sql = await _check(api, secret)
        await _record(api, secret, "e3", "5")
        after, _ = await _check(api, secret)

    assert cold_sql != []
    assert warm_sql == []
    assert (warm["used"], warm["remaining"]) == ("15", "35")
    assert cold == warm
    assert (after["used"], after["remaining"]) == ("20", "30")


# Redis keys ---------------------------------------------------------------------------


def _dsn(url: str) -> str:
    return (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


async def _org_keys(client: Redis, org: str) -> set[str]:
    return {
        key.decode() async for key in client.scan_iter(match=f"*{org}*", count=1000)
    }


async def test_redis_keys_of_an_organization_carry_its_id_as_a_hash_tag(
    postgres_url: str, redis_server: RedisServer
) -> None:
    client = Redis.from_url(redis_server.url)
    # Another session holds usage_events against writes: the event is decided and
    # reserved in Redis (its key claimed), and its insert waits for this lock.
    blocker = await asyncpg.connect(_dsn(postgres_url))
    try:
        async with _gateway(postgres_url, redis_server.url) as (api, secret):
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute("LOCK TABLE usage_events IN EXCLUSIVE MODE")
            writing = asyncio.create_task(_record(api, secret, "e1", "1"))
            in_flight: set[str] = set()
            for _ in range(200):
                in_flight = await _org_keys(client, "org_a")
                if "ug:{org_a}:claims" in in_flight:
                    break
                await asyncio.sleep(0.05)
            claimed = await client.hkeys("ug:{org_a}:claims")
            reservations = await client.zcard("ug:{org_a}:inflight")
            await transaction.rollback()
            await writing
            settled = await _org_keys(client, "org_a")
    finally:
        await blocker.close()
        await client.aclose()

    assert in_flight == {
        "ug:{org_a}:counters",
        "ug:{org_a}:claims",
        "ug:{org_a}:inflight",
    }
    assert claimed == [b"e1"]
    assert reservations == 1
    # The claim and the reservation are freed by the commit, which moves the write
    # generation.
    assert settled == {"ug:{org_a}:counters", "ug:{org_a}:generation"}
    assert (
        key_slot(b"ug:{org_a}:counters")
        == key_slot(b"ug:{org_a}:claims")
        == key_slot(b"ug:{org_a}:inflight")
        == key_slot(b"ug:{org_a}:generation")
    )
