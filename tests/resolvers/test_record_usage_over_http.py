"""recordUsage as clients see it over HTTP: the contract's RecordUsage document.

One result per event, in input order, carrying its `index` and `idempotencyKey`; the
payload's `accepted`, `duplicates`, `denied` and `invalid` count those results. A
SERVICE key's event for another organization is INVALID ("unknown organization") in
its own position, whether that organization exists or not, while the key's other
events are decided. Quantities that are numbers but not valid amounts (too large,
seven decimal places, negative on a resetting meter) are INVALID events; values that
are not plain decimals at all (NaN included), or a missing quantity, are the caller's
input error (BAD_USER_INPUT). In every case nothing is written for them.

Runs on SQLite and PostgreSQL (in-process counters).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.gateway_client import error_codes, gateway, operation
from tests.record_usage_helpers import (
    NOTHING,
    ev,
    rows_written,
    seed,
    send,
)


async def test_results_come_in_input_order_with_index_key_and_matching_counts(
    database_url: str,
) -> None:
    service, _ = await seed(database_url)
    async with gateway(database_url) as api:
        body = await send(
            api,
            service,
            ev("k0", quantity="2"),
            ev("k1", org="org_b"),
            ev("k2", quantity="2"),  # 2 + 2 > 3
            ev("k0"),  # the key of the first event
            ev("k4", meter="nope"),
            ev("k5"),
            ev("k6", org="org_missing"),
        )

    assert "errors" not in body, body["errors"]
    payload = body["data"]["recordUsage"]
    results = [
        (r["index"], r["idempotencyKey"], r["status"], r["code"])
        for r in payload["results"]
    ]
    assert results == [
        (0, "k0", "ACCEPTED", None),
        (1, "k1", "INVALID", "INVALID"),
        (2, "k2", "DENIED", "LIMIT_REACHED"),
        (3, "k0", "DUPLICATE", None),
        (4, "k4", "INVALID", "INVALID"),
        (5, "k5", "ACCEPTED", None),
        (6, "k6", "INVALID", "INVALID"),
    ]
    counts = {k: payload[k] for k in ("accepted", "duplicates", "denied", "invalid")}
    assert counts == {"accepted": 2, "duplicates": 1, "denied": 1, "invalid": 3}
    statuses = [r["status"] for r in payload["results"]]
    assert counts == {
        "accepted": statuses.count("ACCEPTED"),
        "duplicates": statuses.count("DUPLICATE"),
        "denied": statuses.count("DENIED"),
        "invalid": statuses.count("INVALID"),
    }
    assert all(r["message"] for r in payload["results"])


async def test_a_service_keys_event_for_another_organization_is_invalid_in_place(
    database_url: str,
) -> None:
    service, operator = await seed(database_url)
    async with gateway(database_url) as api:
        body = await send(
            api,
            service,
            ev("a1"),
            ev("b1", org="org_b"),
            ev("x1", org="org_missing"),
            ev("a2"),
        )
        written = await rows_written(database_url)
        # The same event from an operator: org_b's key was never claimed.
        operated = await send(api, operator, ev("b1", org="org_b"))

    assert "errors" not in body, body["errors"]
    results = body["data"]["recordUsage"]["results"]
    assert [(r["idempotencyKey"], r["status"], r["message"]) for r in results] == [
        ("a1", "ACCEPTED", results[0]["message"]),
        ("b1", "INVALID", "unknown organization 'org_b'"),
        # An organization that exists reads like one that does not: no probing.
        ("x1", "INVALID", "unknown organization 'org_missing'"),
        ("a2", "ACCEPTED", results[3]["message"]),
    ]
    assert written == {
        "usage_events:org_a": 2,
        "usage_rollups:org_a": 2,
        "usage_cycle_rollups:org_a": 2,
        "credit_draws:org_a": 2,
        "credit_cycle_spend:org_a": 1,
    }
    [again] = operated["data"]["recordUsage"]["results"]
    assert again["status"] == "ACCEPTED"


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("1e400", "The quantity is larger than 1000000000000."),
        ("0.0000001", "The quantity has more than 6 decimal places."),
        (
            "-1",
            "A negative quantity is only allowed on cumulative meters (a release); "
            "enrichments resets every cycle.",
        ),
    ],
)
async def test_a_quantity_that_is_no_valid_amount_is_invalid_and_writes_nothing(
    database_url: str, quantity: str, message: str
) -> None:
    service, _ = await seed(database_url)
    async with gateway(database_url) as api:
        body = await send(api, service, ev("bad", quantity=quantity))
        written = await rows_written(database_url)
        # The key was not claimed: the corrected event is accepted.
        retried = await send(api, service, ev("bad"))

    assert "errors" not in body, body["errors"]
    payload = body["data"]["recordUsage"]
    assert (payload["accepted"], payload["invalid"]) == (0, 1)
    [result] = payload["results"]
    assert (result["status"], result["code"], result["message"]) == (
        "INVALID",
        "INVALID",
        message,
    )
    assert written == NOTHING
    assert retried["data"]["recordUsage"]["accepted"] == 1


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(ev("bad", quantity="abc"), id="quantity-not-a-decimal"),
        pytest.param(ev("bad", quantity=True), id="quantity-a-boolean"),
        pytest.param(
            {"idempotencyKey": "bad", "organizationId": "org_a", "meter": "x"},
            id="quantity-missing",
        ),
        pytest.param(ev("bad", source="NOPE"), id="source-not-in-the-enum"),
    ],
)
async def test_an_event_the_schema_cannot_read_is_bad_user_input_and_writes_nothing(
    sqlite_url: str, event: Any
) -> None:
    # Refused while reading the variables, before any database work: SQLite suffices.
    service, _ = await seed(sqlite_url)
    async with gateway(sqlite_url) as api:
        body = await send(api, service, ev("good"), event)
        written = await rows_written(sqlite_url)

    # The whole call is refused before anything is decided: not even "good".
    assert body.get("data") is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert written == NOTHING


async def test_a_usage_check_quantity_that_is_not_a_decimal_is_bad_user_input(
    sqlite_url: str,
) -> None:
    service, _ = await seed(sqlite_url)
    async with gateway(sqlite_url) as api:
        body = await api.execute(
            operation("usage_check"),
            {"org": "org_a", "meter": "enrichments", "quantity": "abc"},
            token=service,
        )

    assert body.get("data") is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    [error] = body["errors"]
    assert error["message"].startswith("Variable '$quantity' has invalid value")
    assert "'abc' is not a decimal number" in error["message"]
