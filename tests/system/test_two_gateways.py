"""Two `usage-gateway serve` processes that share nothing but PostgreSQL and Redis
decide the same organizations exactly.

Real processes on free ports, an operator key from `usage-gateway keys create
--operator`, the contract's RecordUsage document over HTTP: 200 racing single-unit
events against a hard limit of 50 accept exactly 50, and 100 events sent to both
processes at once are recorded once. The Redis counters then equal the SQL totals.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from rules.cycles import cycle_for
from store.counters import monthly_field, usage_field
from store.counters.redis import RedisCounterStore
from store.db import create_engine, session_factory
from store.usage_loads import FieldSource, load_fields
from tests import factories as f
from tests.conftest import RedisServer
from tests.gateway_client import operation
from tests.processes import running_gateways, serve_env


@pytest.fixture
def gateways(
    postgres_url: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[tuple[list[str], str]]:
    """Two gateway processes on one database and one Redis: (base URLs, key)."""
    with running_gateways(
        serve_env(postgres_url, redis_server.url), tmp_path
    ) as running:
        yield running


async def _provision(url: str, org_ids: list[str], now: datetime) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await f.add_all(
                session,
                f.plan("race", monthly_credits=Decimal(1000)),
                f.limit("race", "enrichments", "50", credits_per_unit=Decimal(2)),
                *(f.organization(org) for org in org_ids),
                *(
                    f.subscription(org, "race", anchor=now - timedelta(days=1))
                    for org in org_ids
                ),
            )
    finally:
        await engine.dispose()


async def _record(
    client: httpx.AsyncClient, base: str, secret: str, events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    response = await client.post(
        base + "/graphql",
        json={"query": operation("record_usage"), "variables": {"events": events}},
        headers={"Authorization": f"Bearer {secret}"},
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    results: list[dict[str, Any]] = body["data"]["recordUsage"]["results"]
    return results


def _event(org: str, key: str, meter: str = "enrichments") -> dict[str, Any]:
    return {
        "idempotencyKey": key,
        "organizationId": org,
        "meter": meter,
        "quantity": "1",
    }


async def _sql_and_counters(
    url: str, redis_url: str, org: str, meter: str, now: datetime
) -> tuple[list[Decimal], list[Decimal | None]]:
    """(usage, MONTHLY pool spent) of the cycle: in SQL, and in the Redis counters."""
    cycle = cycle_for(now - timedelta(days=1), now)
    sources = {
        usage_field(meter, cycle.start): FieldSource(meter=meter, cycle=cycle),
        monthly_field(cycle.start): FieldSource(monthly=cycle),
    }
    engine = create_engine(url)
    store = RedisCounterStore(redis_url)
    try:
        async with session_factory(engine)() as session:
            truth = (await load_fields(session, {org: sources}))[org]
        held = await store.values(org, list(sources))
    finally:
        await store.aclose()
        await engine.dispose()
    return [truth[name] for name in sources], [held[name] for name in sources]


async def test_two_gateway_processes_racing_on_one_organization_stay_exact(
    gateways: tuple[list[str], str], postgres_url: str, redis_server: RedisServer
) -> None:
    bases, secret = gateways
    now = datetime.now(UTC)
    capped, twice = f"org-{uuid.uuid4().hex[:8]}", f"org-{uuid.uuid4().hex[:8]}"
    await _provision(postgres_url, [capped, twice], now)
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        racing = [
            _record(client, bases[n % 2], secret, [_event(capped, f"c-{n}")])
            for n in range(200)
        ]
        # The same ten calls of ten events go to both processes at once.
        calls = [
            [_event(twice, f"t-{n}", "api_calls") for n in range(first, first + 10)]
            for first in range(0, 100, 10)
        ]
        racing += [_record(client, base, secret, c) for c in calls for base in bases]
        results = await asyncio.gather(*racing)
        ready = [(await client.get(base + "/readyz")).json() for base in bases]

    single = [result for [result] in results[:200]]
    assert sum(r["status"] == "ACCEPTED" for r in single) == 50
    assert {r["code"] for r in single if r["status"] != "ACCEPTED"} == {"LIMIT_REACHED"}
    batched = [result for call in results[200:] for result in call]
    assert (
        sorted(r["status"] for r in batched) == ["ACCEPTED"] * 100 + ["DUPLICATE"] * 100
    )
    assert [body["counters"] for body in ready] == ["redis", "redis"]
    url = redis_server.url
    for org, meter, expected in (
        (capped, "enrichments", [Decimal(50), Decimal(100)]),
        (twice, "api_calls", [Decimal(100), Decimal(0)]),
    ):
        truth, held = await _sql_and_counters(postgres_url, url, org, meter, now)
        assert truth == expected
        assert held == truth
