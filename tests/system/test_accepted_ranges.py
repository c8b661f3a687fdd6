"""What the gateway accepts, over HTTP on both backends (README, Accepted ranges).

Amounts are plain ASCII decimals; anything else is the caller's input error. Numbers
past the largest quantity, cost, credits or meter total are INVALID events, so no sum
the gateway stores is ever too large to read back. A NUL in any text argument is
BAD_USER_INPUT (in recordUsage's events, that event is INVALID and the others are
decided). Instants lie between 1970 and 9000.
"""

from __future__ import annotations

from typing import Any

import pytest

from rules.enums import Role
from store.db import create_engine, session_factory
from tests import factories as f
from tests.conftest import RedisServer
from tests.gateway_client import error_codes, gateway, operation, user_token
from tests.record_usage_helpers import (
    NOTHING,
    ev,
    rows_written,
    seed,
    send,
)

ADMIN = user_token("admin_a")


async def _seed_with_admin(url: str) -> tuple[str, str]:
    """`seed`, and `admin_a`, an ADMIN of org_a; (service key, operator key)."""
    keys = await seed(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await f.add_all(session, *f.member("org_a", "admin_a", Role.ADMIN))
            await session.commit()
    finally:
        await engine.dispose()
    return keys


@pytest.mark.parametrize(
    "quantity", [" 5 ", "1_000", "५", "NaN", "Infinity", "+5", "5.", ".5", "0x10"]
)
async def test_a_quantity_in_anything_but_plain_ascii_decimals_is_bad_user_input(
    sqlite_url: str, quantity: str
) -> None:
    service, _ = await seed(sqlite_url)
    async with gateway(sqlite_url) as api:
        body = await send(api, service, ev("lax", quantity=quantity))
        written = await rows_written(sqlite_url)

    assert body.get("data") is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "is not a decimal number" in body["errors"][0]["message"]
    assert written == NOTHING


@pytest.mark.parametrize("quantity", ["12.5", "-0", "1e3", "0.000001", 7])
async def test_plain_decimals_and_json_integers_are_amounts(
    sqlite_url: str, quantity: Any
) -> None:
    service, _ = await seed(sqlite_url)
    async with gateway(sqlite_url) as api:
        body = await api.execute(
            operation("usage_check"),
            {"org": "org_a", "meter": "enrichments", "quantity": quantity},
            token=service,
        )

    assert "errors" not in body, body["errors"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"quantity": "1000000000000.000001"},
            "The quantity is larger than 1000000000000.",
        ),
        ({"quantity": "9" * 32}, "The quantity is larger than 1000000000000."),
        ({"quantity": "1e22"}, "The quantity is larger than 1000000000000."),
        (
            {"quantity": "1", "costUsd": "1e24", "feature": "CHAT"},
            "The cost is larger than 1000000.",
        ),
    ],
)
async def test_amounts_past_the_largest_are_invalid_events_and_reads_still_answer(
    database_url: str, fields: dict[str, Any], message: str
) -> None:
    service, _ = await _seed_with_admin(database_url)
    async with gateway(database_url) as api:
        body = await send(api, service, ev("big", **fields), ev("fine"))
        page = await api.execute(
            operation("usage_page"),
            {"org": "org_a"},
            token=ADMIN,
        )

    [big, fine] = body["data"]["recordUsage"]["results"]
    assert (big["status"], big["message"]) == ("INVALID", message)
    assert fine["status"] == "ACCEPTED"
    assert "errors" not in page, page["errors"]


async def test_an_event_past_the_largest_meter_total_is_invalid(
    database_url: str,
) -> None:
    """Nine events of a trillion reach 9 x 10^12, the most a meter counts."""
    service, _ = await _seed_with_admin(database_url)
    events = [
        {**ev(f"t{index}", quantity="1000000000000"), "meter": "api_calls"}
        for index in range(9)
    ]
    async with gateway(database_url) as api:
        full = await send(api, service, *events)
        over = await send(api, service, {**ev("one-more"), "meter": "api_calls"})
        page = await api.execute(operation("usage_page"), {"org": "org_a"}, token=ADMIN)

    assert full["data"]["recordUsage"]["accepted"] == 9
    [result] = over["data"]["recordUsage"]["results"]
    assert (result["status"], result["code"]) == ("INVALID", "INVALID")
    assert result["message"] == (
        "api_calls would pass the largest total the gateway keeps, 9000000000000 "
        "(9000000000000 counted)."
    )
    assert "errors" not in page, page["errors"]


async def test_a_nul_in_a_text_argument_is_bad_user_input(database_url: str) -> None:
    await _seed_with_admin(database_url)
    async with gateway(database_url) as api:
        literal = await api.execute(
            '{ organization(id: "org_a\\u0000") { id } }', token=ADMIN
        )
        variable = await api.execute(
            "query($id: ID!) { organization(id: $id) { id } }",
            {"id": "org\x00a"},
            token=ADMIN,
        )

    for body in (literal, variable):
        assert body.get("data") is None
        assert error_codes(body) == ["BAD_USER_INPUT"]
    assert literal["errors"][0]["message"] == (
        "argument `id` of `organization` holds a NUL character, which no text may"
    )
    assert variable["errors"][0]["message"] == (
        "variable $id holds a NUL character, which no text may"
    )


async def test_a_nul_in_one_event_makes_only_that_event_invalid(
    database_url: str,
) -> None:
    service, _ = await seed(database_url)
    async with gateway(database_url) as api:
        body = await send(
            api,
            service,
            ev("a1"),
            ev("nul\x00key"),
            ev("a2", userId="u\x00"),
            ev("a3", org="org\x00a"),
        )

    results = body["data"]["recordUsage"]["results"]
    assert [r["status"] for r in results] == [
        "ACCEPTED",
        "INVALID",
        "INVALID",
        "INVALID",
    ]
    assert results[1]["message"] == (
        "The idempotency key must not contain a NUL character."
    )
    assert results[2]["message"] == "Text fields must not contain a NUL character."


@pytest.mark.parametrize(
    "at",
    ["9999-12-31T00:00:00+00:00", "0001-01-01T00:00:00+00:00", "1969-12-31T23:59:59Z"],
)
async def test_an_instant_outside_the_accepted_years_is_bad_user_input(
    database_url: str, at: str
) -> None:
    _, operator = await _seed_with_admin(database_url)
    async with gateway(database_url) as api:
        read = await api.execute(
            'query($at: DateTime) { organization(id: "org_a", at: $at) { id } }',
            {"at": at},
            token=ADMIN,
        )
        sync = await api.execute(
            operation("provisioning"),
            {"org": "org_a", "at": at},
            token=operator,
            operation_name="SyncDailyAllowance",
        )

    for body in (read, sync):
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert (
            "outside the instants the gateway accepts" in body["errors"][0]["message"]
        )


async def test_the_last_accepted_instant_reads(database_url: str) -> None:
    await _seed_with_admin(database_url)
    async with gateway(database_url) as api:
        body = await api.execute(
            '{ organization(id: "org_a", at: "8999-12-31T23:59:59Z") { id } }',
            token=ADMIN,
        )

    assert body == {"data": {"organization": {"id": "org_a"}}}


async def test_an_invalid_amount_leaves_the_redis_counters_equal_to_the_database(
    postgres_url: str, redis_server: RedisServer
) -> None:
    """Was: 32 nines answered INTERNAL and left the counter one unit low."""
    service, _ = await seed(postgres_url)
    async with gateway(postgres_url, redis_url=redis_server.url) as api:
        body = await send(
            api, service, ev("one"), ev("nines", quantity="9" * 32), ev("two")
        )
        check = await api.execute(
            operation("usage_check"),
            {"org": "org_a", "meter": "enrichments", "quantity": "1"},
            token=service,
        )
        written = await rows_written(postgres_url)

    statuses = [r["status"] for r in body["data"]["recordUsage"]["results"]]
    assert statuses == ["ACCEPTED", "INVALID", "ACCEPTED"]
    assert written["usage_events:org_a"] == 2
    assert check["data"]["usageCheck"]["used"] == "2"
    assert check["data"]["usageCheck"]["remaining"] == "1"
