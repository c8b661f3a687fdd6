"""Live pages read the current cycle from the hot counters: no SQL sum.

`organization(id:)` without `at:` serves `meters` and `credits` from the counters
that decisions keep (Redis, or the in-process store of the embedded default) when
they are built at the organization's version; fields they lack are loaded from SQL
once. A pinned `at:`, stale counters or an unreachable Redis read SQL, and every
path shows the same figures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rules.enums import CreditPoolKind, Enforcement, Role, UsageStatus
from store.db import StatementCounter, create_engine, session_factory
from store.models import CreditGrant
from store.recording import UsageEventSpec, record_usage
from tests import factories as f
from tests.conftest import RedisServer
from tests.gateway_client import Gateway, gateway, user_token

NOW = datetime.now(UTC)
ANCHOR = NOW - timedelta(days=3)
ADMIN = "usr_admin"
PAGE = """
query Page($org: ID!, $at: DateTime) {
  organization(id: $org, at: $at) {
    meters { key used limit level }
    credits {
      unit granted spent remaining
      pools { kind granted spent remaining }
    }
  }
}
"""
# What sums usage in SQL. (Rows read by key, such as the grants and each pool's
# spending per cycle in `credit_cycle_spend`, are not sums.)
SUMS = ("usage_rollups", "usage_events", "credit_draws")


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await f.add_all(
                session,
                f.organization("org_a"),
                f.plan("pro", monthly_credits=Decimal(10)),
                f.limit("pro", "enrichments", "50", credits_per_unit=Decimal(1)),
                f.limit("pro", "contacts", "1000", enforcement=Enforcement.SOFT),
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
    finally:
        await engine.dispose()


def _event(key: str, meter: str, quantity: str) -> UsageEventSpec:
    return UsageEventSpec(
        idempotency_key=key,
        organization_id="org_a",
        meter=meter,
        quantity=Decimal(quantity),
        occurred_at=NOW - timedelta(minutes=1),
    )


async def _record(api: Gateway, *events: UsageEventSpec) -> None:
    assert api.app is not None
    state = api.app.state
    outcomes = await record_usage(state.sessions, list(events), NOW, state.counters)
    assert [o.status for o in outcomes] == [UsageStatus.ACCEPTED] * len(events)


async def _page(api: Gateway, at: datetime | None = None) -> tuple[Any, list[str]]:
    """The page's data and the statements that read usage sums for it."""
    assert api.app is not None
    variables: dict[str, Any] = {"org": "org_a"}
    if at is not None:
        variables["at"] = at.isoformat()
    with StatementCounter(api.app.state.engine) as counter:
        body = await api.execute(PAGE, variables, token=user_token(ADMIN))
    assert "errors" not in body, body["errors"]
    sums = [s for s in counter.statements if any(table in s for table in SUMS)]
    return body["data"]["organization"], sums


@asynccontextmanager
async def _gateway(url: str, redis: str | None) -> AsyncIterator[Gateway]:
    await _seed(url)
    settings: dict[str, Any] = {} if redis is None else {"redis_url": redis}
    async with gateway(url, **settings) as api:
        yield api


def _figures(data: Any) -> dict[str, Any]:
    meters = {m["key"]: (m["used"], m["level"]) for m in data["meters"]}
    return {"meters": meters, "credits": data["credits"]}


EXPECTED_METERS = {
    "enrichments": ("15", "NORMAL"),
    "contacts": ("900", "CRITICAL"),
}
EXPECTED_CREDITS = {
    "unit": "CREDITS",
    "granted": "10",
    "spent": "15",
    "remaining": "15",
    "pools": [
        {"kind": "MONTHLY", "granted": "10", "spent": "10", "remaining": "0"},
        {"kind": "BONUS", "granted": "20", "spent": "5", "remaining": "15"},
    ],
}


async def _spend(api: Gateway) -> None:
    await _record(
        api,
        _event("e1", "enrichments", "12"),
        _event("e2", "contacts", "1000"),
        _event("e3", "enrichments", "3"),
        _event("e4", "contacts", "-100"),
    )


async def test_live_meters_and_credits_need_no_sql_sum_with_redis(
    postgres_url: str, redis_url: str
) -> None:
    await _flush(redis_url)
    async with _gateway(postgres_url, redis_url) as api:
        await _spend(api)
        await _page(api)  # loads what the counters lacked
        data, sums = await _page(api)
    assert sums == []
    assert _figures(data) == {"meters": EXPECTED_METERS, "credits": EXPECTED_CREDITS}


async def test_live_meters_and_credits_need_no_sql_sum_in_process(
    database_url: str,
) -> None:
    async with _gateway(database_url, None) as api:
        await _spend(api)
        await _page(api)
        data, sums = await _page(api)
    assert sums == []
    assert _figures(data) == {"meters": EXPECTED_METERS, "credits": EXPECTED_CREDITS}


async def test_fields_the_counters_lack_are_loaded_from_sql_once(
    postgres_url: str, redis_url: str
) -> None:
    await _flush(redis_url)
    async with _gateway(postgres_url, redis_url) as api:
        await _spend(api)
        first, first_sums = await _page(api)
        second, second_sums = await _page(api)
    # Decisions held only the meters they check; the page's others came from SQL.
    assert first_sums != []
    assert second_sums == []
    assert first == second


async def test_live_page_equals_the_page_pinned_at_now_which_reads_sql(
    postgres_url: str, redis_url: str
) -> None:
    await _flush(redis_url)
    async with _gateway(postgres_url, redis_url) as api:
        await _spend(api)
        await _page(api)
        live, live_sums = await _page(api)
        pinned, pinned_sums = await _page(api, at=datetime.now(UTC))
    assert live_sums == []
    assert pinned_sums != []
    assert _figures(live) == _figures(pinned)


async def test_live_page_counts_usage_recorded_after_the_counters_were_read(
    postgres_url: str, redis_url: str
) -> None:
    await _flush(redis_url)
    async with _gateway(postgres_url, redis_url) as api:
        await _spend(api)
        await _page(api)
        await _record(api, _event("e5", "enrichments", "2"))
        data, sums = await _page(api)
    assert sums == []
    meters = _figures(data)["meters"]
    assert meters["enrichments"] == ("17", "NORMAL")
    # Two more credits: the MONTHLY pool is empty, so the BONUS grant pays.
    assert data["credits"]["spent"] == "17"
    assert data["credits"]["pools"][1]["spent"] == "7"


async def test_live_page_rebuilds_flushed_counters_from_sql(
    postgres_url: str, redis_server: RedisServer
) -> None:
    async with _gateway(postgres_url, redis_server.url) as api:
        await _spend(api)
        await _page(api)
        redis_server.flush()
        rebuilt, rebuilt_sums = await _page(api)
        again, again_sums = await _page(api)
    assert rebuilt_sums != []
    assert again_sums == []
    for data in (rebuilt, again):
        assert _figures(data) == {
            "meters": EXPECTED_METERS,
            "credits": EXPECTED_CREDITS,
        }


async def test_live_page_reads_sql_while_redis_is_down(
    postgres_url: str, redis_server: RedisServer
) -> None:
    async with _gateway(postgres_url, redis_server.url) as api:
        await _spend(api)
        await _page(api)
        redis_server.stop()
        down, down_sums = await _page(api)
        redis_server.start()
        back, back_sums = await _page(api)
    assert down_sums != []
    # Redis came back empty: the page rebuilt the counters from SQL.
    assert back_sums != []
    for data in (down, back):
        assert _figures(data) == {
            "meters": EXPECTED_METERS,
            "credits": EXPECTED_CREDITS,
        }


async def test_pinned_page_in_the_past_ignores_later_usage(
    postgres_url: str, redis_url: str
) -> None:
    await _flush(redis_url)
    async with _gateway(postgres_url, redis_url) as api:
        await _spend(api)
        await _page(api)
        data, sums = await _page(api, at=NOW - timedelta(minutes=2))
    assert sums != []
    assert _figures(data)["meters"] == {
        "enrichments": ("0", "NORMAL"),
        "contacts": ("0", "NORMAL"),
    }


async def _flush(url: str) -> None:
    """Each test starts with no counters for `org_a` in the shared Redis."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter("ug:{org_a}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
