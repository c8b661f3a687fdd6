"""What decides usage, as the gateway reports it and as clients see it over HTTP.

`/readyz` names the counter mode (`redis`, `sql-fallback`, `in-process`); while Redis
is unreachable recordUsage and usageCheck keep answering, decided from SQL, and
Redis decides again once it is back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tests import factories as f
from tests.conftest import RedisServer
from tests.gateway_client import Gateway, gateway, operation

NOW = datetime.now(UTC)


async def _operator(url: str) -> str:
    return await f.subscribed_with_operator(url, "org_a", "3")


async def _ready(api: Gateway) -> dict[str, Any]:
    body: dict[str, Any] = (await api.client.get("/readyz")).json()
    return body


async def _record(api: Gateway, key: str, secret: str) -> str:
    event = {
        "idempotencyKey": key,
        "organizationId": "org_a",
        "meter": "enrichments",
        "quantity": "1",
    }
    body = await api.execute(
        operation("record_usage"), {"events": [event]}, token=secret
    )
    [result] = body["data"]["recordUsage"]["results"]
    return str(result["code"] or result["status"])


async def _check(api: Gateway, secret: str) -> dict[str, Any]:
    body = await api.execute(
        operation("usage_check"),
        {"org": "org_a", "meter": "enrichments", "quantity": "1"},
        token=secret,
    )
    check: dict[str, Any] = body["data"]["usageCheck"]
    return check


async def test_readyz_reports_in_process_counters_without_redis(
    sqlite_url: str,
) -> None:
    async with gateway(sqlite_url) as api:
        assert (await _ready(api))["counters"] == "in-process"


async def test_decisions_fall_back_to_sql_while_redis_is_down_and_return(
    postgres_url: str, redis_server: RedisServer
) -> None:
    secret = await _operator(postgres_url)
    async with gateway(postgres_url, redis_url=redis_server.url) as api:
        before = await _ready(api)
        first = await _record(api, "e1", secret)
        redis_server.stop()
        during = [await _record(api, key, secret) for key in ("e2", "e1")]
        check = await _check(api, secret)
        down = await _ready(api)
        redis_server.start()
        up = await _ready(api)
        after = [await _record(api, key, secret) for key in ("e3", "e4", "e2")]

    assert (before["counters"], down["counters"], up["counters"]) == (
        "redis",
        "sql-fallback",
        "redis",
    )
    assert down["redis"] == "unreachable"
    assert first == "ACCEPTED"
    assert during == ["ACCEPTED", "DUPLICATE"]
    assert (check["allowed"], Decimal(check["used"])) == (True, Decimal(2))
    # Redis came back empty: its counters are rebuilt from SQL, which holds 2 of 3.
    assert after == ["ACCEPTED", "LIMIT_REACHED", "DUPLICATE"]
