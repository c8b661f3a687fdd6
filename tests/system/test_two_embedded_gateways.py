"""Two `usage-gateway serve` processes on the embedded default (one SQLite file, no
Redis, counters in each process) decide one organization exactly.

Real processes on free ports, an operator key from `usage-gateway keys create
--operator`, the contract's RecordUsage document over HTTP. Each process keeps its
own counters: every write moves the organization's `counters_version`, so each
rebuilds what the other wrote before deciding, and SQLite takes one writer at a
time. 200 racing single-unit events against a hard limit of 50 accept exactly 50,
100 events sent to both processes at once are recorded once, and afterwards each
process's counters (its live page and usageCheck) equal the SQL totals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from rules.cycles import cycle_for
from store.counters import monthly_field, usage_field
from store.db import create_engine, session_factory
from store.usage_loads import FieldSource, load_fields
from tests import factories as f
from tests.gateway_client import operation
from tests.processes import running_gateways, serve_env

PAGE = """
query Page($org: ID!, $at: DateTime) {
  organization(id: $org, at: $at) {
    meters(keys: ["enrichments"]) { key used }
    credits { spent remaining }
  }
}
"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'embedded.sqlite3'}"


@pytest.fixture
def gateways(database_url: str, tmp_path: Path) -> Iterator[tuple[list[str], str]]:
    """Two gateway processes on one SQLite file, without Redis: (base URLs, key)."""
    with running_gateways(serve_env(database_url), tmp_path) as running:
        yield running


async def _provision(url: str, org_ids: list[str], anchor: datetime) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await f.add_all(
                session,
                f.plan("race", monthly_credits=Decimal(1000)),
                f.limit("race", "enrichments", "50", credits_per_unit=Decimal(2)),
                *(f.organization(org) for org in org_ids),
                *(f.subscription(org, "race", anchor=anchor) for org in org_ids),
            )
    finally:
        await engine.dispose()


async def _post(
    client: httpx.AsyncClient,
    base: str,
    secret: str,
    query: str,
    variables: dict[str, Any],
) -> dict[str, Any]:
    response = await client.post(
        base + "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _record(
    client: httpx.AsyncClient, base: str, secret: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    return await _post(
        client, base, secret, operation("record_usage"), {"events": events}
    )


def _results(body: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = body["data"]["recordUsage"]["results"]
    return results


def _event(org: str, key: str, meter: str = "enrichments") -> dict[str, Any]:
    return {
        "idempotencyKey": key,
        "organizationId": org,
        "meter": meter,
        "quantity": "1",
    }


async def _sql_totals(
    url: str, org: str, meter: str, anchor: datetime, now: datetime
) -> list[Decimal]:
    """(usage, MONTHLY pool spent) of the cycle, summed in SQL."""
    cycle = cycle_for(anchor, now)
    sources = {
        usage_field(meter, cycle.start): FieldSource(meter=meter, cycle=cycle),
        monthly_field(cycle.start): FieldSource(monthly=cycle),
    }
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            truth = (await load_fields(session, {org: sources}))[org]
    finally:
        await engine.dispose()
    return [truth[name] for name in sources]


async def _views(
    client: httpx.AsyncClient, base: str, secret: str, org: str
) -> dict[str, Any]:
    """What one process answers: its live page (counters), the page pinned at now
    (SQL) and usageCheck."""
    live = await _post(client, base, secret, PAGE, {"org": org})
    pinned = await _post(
        client, base, secret, PAGE, {"org": org, "at": datetime.now(UTC).isoformat()}
    )
    check = await _post(
        client,
        base,
        secret,
        operation("usage_check"),
        {"org": org, "meter": "enrichments", "quantity": "1"},
    )
    for body in (live, pinned, check):
        assert "errors" not in body, body["errors"]
    return {
        "live": live["data"]["organization"],
        "pinned": pinned["data"]["organization"],
        "check": check["data"]["usageCheck"],
    }


async def test_two_embedded_gateway_processes_racing_on_one_organization_stay_exact(
    gateways: tuple[list[str], str], database_url: str
) -> None:
    bases, secret = gateways
    now = datetime.now(UTC)
    anchor = now - timedelta(days=1)
    await _provision(database_url, ["capped", "twice"], anchor)
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        racing = [
            _record(client, bases[n % 2], secret, [_event("capped", f"c-{n}")])
            for n in range(200)
        ]
        # The same ten calls of ten events go to both processes at once.
        calls = [
            [_event("twice", f"t-{n}", "api_calls") for n in range(first, first + 10)]
            for first in range(0, 100, 10)
        ]
        racing += [_record(client, base, secret, c) for c in calls for base in bases]
        bodies = await asyncio.gather(*racing)
        ready = [(await client.get(base + "/readyz")).json() for base in bases]
        views = [await _views(client, base, secret, "capped") for base in bases]
        late = [
            await _record(client, base, secret, [_event("capped", f"late-{n}")])
            for n, base in enumerate(bases)
        ]

    # Every call is decided: no error (a locked database, a timeout) instead.
    errors = [error for body in bodies for error in body.get("errors", [])]
    assert errors == []
    results = [_results(body) for body in bodies]
    single = [result for [result] in results[:200]]
    assert sum(r["status"] == "ACCEPTED" for r in single) == 50
    assert {r["code"] for r in single if r["status"] != "ACCEPTED"} == {"LIMIT_REACHED"}
    batched = [result for call in results[200:] for result in call]
    assert (
        sorted(r["status"] for r in batched) == ["ACCEPTED"] * 100 + ["DUPLICATE"] * 100
    )
    assert [body["counters"] for body in ready] == ["in-process", "in-process"]
    assert await _sql_totals(database_url, "capped", "enrichments", anchor, now) == [
        Decimal(50),
        Decimal(100),
    ]
    assert await _sql_totals(database_url, "twice", "api_calls", anchor, now) == [
        Decimal(100),
        Decimal(0),
    ]
    expected_page = {
        "meters": [{"key": "enrichments", "used": "50"}],
        "credits": {"spent": "100", "remaining": "900"},
    }
    for view in views:
        assert view["live"] == expected_page
        assert view["pinned"] == expected_page
        assert (view["check"]["allowed"], view["check"]["used"]) == (False, "50")
    assert [[(r["status"], r["code"])] for [r] in map(_results, late)] == [
        [("DENIED", "LIMIT_REACHED")],
        [("DENIED", "LIMIT_REACHED")],
    ]
