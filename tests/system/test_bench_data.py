"""The benchmark's data is what the gateway would have stored.

`bench/generate.py` loads events with COPY and writes their hourly rollups, cycle
rollups and credit spending itself, beside the write path: if those disagreed with
the events, every UsagePage figure the benchmark measures would be read from wrong
rows. One organization loaded as the benchmark loads it (3,000 events over six
months, 20 members, 5 workspaces), then each pre-aggregate compared with sums of
the raw events in SQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bench.events import DAYS, EXTRA_OPERATIONS, OPERATIONS, copy_events
from bench.generate import catalog, organization, plan
from store.db import create_engine, session_factory

END = datetime(2026, 11, 30, 15, 37, tzinfo=UTC)
START = END.replace(minute=0) - timedelta(days=DAYS)
ANCHOR = START.replace(day=1, hour=0)
ORG = "org_bench"
EVENTS = 3_000
MEMBERS = 20
WORKSPACES = 5


def _dsn(url: str) -> str:
    return (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


@pytest.fixture
async def loaded(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    engine = create_engine(postgres_url)
    sessions = session_factory(engine)
    pool = await asyncpg.create_pool(_dsn(postgres_url), min_size=1, max_size=2)
    try:
        await catalog(sessions, EXTRA_OPERATIONS)
        await plan(sessions, "bench", OPERATIONS)
        await organization(sessions, ORG, "bench", ANCHOR, MEMBERS, WORKSPACES)
        await copy_events(
            pool, ORG, EVENTS, START, END, ANCHOR, MEMBERS, WORKSPACES, OPERATIONS
        )
    finally:
        await pool.close()
        await engine.dispose()
    connection = await asyncpg.connect(_dsn(postgres_url))
    try:
        yield connection
    finally:
        await connection.close()


async def _rows(connection: asyncpg.Connection, query: str) -> set[tuple[Any, ...]]:
    return {tuple(row) for row in await connection.fetch(query, ORG)}


async def test_hourly_rollups_equal_the_events_of_each_meter_and_hour(
    loaded: asyncpg.Connection,
) -> None:
    rollups = await _rows(
        loaded,
        "SELECT meter_key, hour, sum(quantity), sum(credits), sum(cost_usd), "
        "sum(events) FROM usage_rollups WHERE organization_id = $1 "
        "AND dimension = 'total' AND meter_key <> 'ai_spend_usd' GROUP BY 1, 2",
    )
    events = await _rows(
        loaded,
        "SELECT meter_key, date_trunc('hour', occurred_at), sum(quantity), "
        "sum(credits), sum(coalesce(cost_usd, 0)), count(*) FROM usage_events "
        "WHERE organization_id = $1 GROUP BY 1, 2",
    )
    assert len(events) > 1_000
    assert rollups == events


async def test_the_ai_budget_rollups_count_each_ai_events_dollar_cost(
    loaded: asyncpg.Connection,
) -> None:
    rollups = await _rows(
        loaded,
        "SELECT hour, sum(quantity) FROM usage_rollups WHERE organization_id = $1 "
        "AND dimension = 'total' AND meter_key = 'ai_spend_usd' GROUP BY 1",
    )
    events = await _rows(
        loaded,
        "SELECT date_trunc('hour', occurred_at), sum(cost_usd) FROM usage_events "
        "WHERE organization_id = $1 AND cost_usd IS NOT NULL GROUP BY 1",
    )
    assert len(events) > 10
    assert rollups == events


async def test_user_and_workspace_rollups_equal_the_events_of_each(
    loaded: asyncpg.Connection,
) -> None:
    for dimension, column in (("user", "user_id"), ("workspace", "workspace_id")):
        rollups = await _rows(
            loaded,
            "SELECT meter_key, dimension_key, sum(quantity), sum(events) "
            "FROM usage_rollups WHERE organization_id = $1 "
            f"AND dimension = '{dimension}' AND meter_key <> 'ai_spend_usd' "
            "GROUP BY 1, 2",
        )
        events = await _rows(
            loaded,
            f"SELECT meter_key, {column}, sum(quantity), count(*) FROM usage_events "
            "WHERE organization_id = $1 GROUP BY 1, 2",
        )
        assert rollups == events


async def test_cycle_rollups_equal_the_events_of_each_cycle(
    loaded: asyncpg.Connection,
) -> None:
    cycles = await _rows(
        loaded,
        "SELECT meter_key, cycle_start, quantity, credits, events "
        "FROM usage_cycle_rollups WHERE organization_id = $1 "
        "AND dimension = 'total' AND meter_key <> 'ai_spend_usd'",
    )
    events = await _rows(
        loaded,
        "SELECT meter_key, cycle_start, sum(quantity), sum(credits), count(*) "
        "FROM usage_events WHERE organization_id = $1 GROUP BY 1, 2",
    )
    assert len({cycle for _, cycle, *_ in events}) == 6  # June to November 2026
    assert cycles == events


async def test_monthly_credit_spending_equals_the_events_credits_per_cycle(
    loaded: asyncpg.Connection,
) -> None:
    spent = await _rows(
        loaded,
        "SELECT cycle_start, spent FROM credit_cycle_spend "
        "WHERE organization_id = $1 AND kind = 'MONTHLY'",
    )
    events = await _rows(
        loaded,
        "SELECT cycle_start, sum(credits) FROM usage_events "
        "WHERE organization_id = $1 GROUP BY 1",
    )
    assert spent == events


async def test_events_cover_six_months_every_meter_member_and_workspace(
    loaded: asyncpg.Connection,
) -> None:
    count, first, last, meters, users, workspaces = await loaded.fetchrow(
        "SELECT count(*), min(occurred_at), max(occurred_at), "
        "count(DISTINCT meter_key), count(DISTINCT user_id), "
        "count(DISTINCT workspace_id) FROM usage_events WHERE organization_id = $1",
        ORG,
    )
    assert count == EVENTS
    assert START <= first < START + timedelta(days=1)
    assert END - timedelta(days=1) < last < END
    # 11 limited meters (the AI budget is counted from costs) and 20 operations.
    assert meters == 11 + len(OPERATIONS) == 31
    assert (users, workspaces) == (MEMBERS, WORKSPACES)
