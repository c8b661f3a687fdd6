"""Usage views through GraphQL: every read field of the contract, to the unit.

Each test provisions its own organization with `store.provisioning`, records usage
through the real write path (`store.recording.record_usage`) with explicit
`occurred_at`, and reads it with `organization(id:, at:)` pinned to an instant, so
every expected value below is computed by hand from the data in the test.

Unless a test says otherwise: organization `org_a` on plan `pro` (1,000 monthly
credits), 5 seats, anchored on 2026-01-01 00:00 UTC, read by its ADMIN `admin`; the
cycle of March 2026 is [2026-03-01, 2026-04-01). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rules.enums import (
    AiFeature,
    ApiKeyKind,
    BillingModel,
    BillingState,
    CreditPoolKind,
    Enforcement,
    ModelTier,
    PlanTier,
    ReconciliationStatus,
    Role,
    SeatType,
    SubscriptionStatus,
    UsageSource,
)
from rules.pricing import TokenCounts
from store import provisioning as p
from store.api_keys import create_api_key
from store.db import SessionFactory
from store.recording import UsageEventSpec
from tests.gateway_client import gateway, operation, user_token
from tests.usage_views_helpers import (
    ADMIN,
    JAN_1,
    MARCH_END,
    SETUP,
    customer,
    event,
    execute,
    limit,
    member,
    plan,
    provision,
    record,
    utc,
)


async def organization(
    database_url: str,
    fields: str,
    at: str,
    *,
    org_id: str = "org_a",
    user: str = ADMIN,
) -> dict[str, Any]:
    """`organization(id:, at:) { fields }` as `user`."""
    data = await execute(
        database_url,
        "query($org: ID!, $at: DateTime) "
        f"{{ organization(id: $org, at: $at) {{ {fields} }} }}",
        {"org": org_id, "at": utc(at).isoformat()},
        token=user_token(user),
    )
    found: dict[str, Any] = data["organization"]
    return found


async def meters(
    database_url: str,
    at: str,
    keys: Sequence[str] | None = None,
    category: str | None = None,
) -> list[dict[str, Any]]:
    """The contract's Meters document."""
    data = await execute(
        database_url,
        operation("meters"),
        {
            "org": "org_a",
            "keys": None if keys is None else list(keys),
            "category": category,
            "at": utc(at).isoformat(),
        },
    )
    found: list[dict[str, Any]] = data["organization"]["meters"]
    return found


def by_key(rows: list[dict[str, Any]], *fields: str) -> dict[str, dict[str, Any]]:
    return {row["key"]: {field: row[field] for field in fields} for row in rows}


CYCLE = "cycle { start end daysElapsed daysRemaining }"
CREDITS = (
    "credits { unit granted spent remaining progress "
    "pools { kind granted spent remaining expiresAt } "
    "avgPerDay runOutInDays onTrackToRunOut prompts }"
)
OPERATIONS = (
    "usageByOperation { operationType label unitLabel units displayUnits "
    "freeUnitsUsed freeAllowance creditsSpent sharePercent freeAllowanceHint }"
)
AI_BUDGET = (
    "aiBudget { percentUsed resetsAt spentUsd limitUsd creditBalance "
    "categories { category tierLabel percent spentUsd } }"
)


# billing cycles -----------------------------------------------------------------------


async def test_cycle_anchored_on_the_31st_clamps_to_february_28(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan(), anchor=utc("2026-01-31T09:30")))

    february = await organization(database_url, CYCLE, "2026-02-15T12:00")
    march = await organization(database_url, CYCLE, "2026-03-05T00:00")

    assert february["cycle"] == {
        "start": "2026-01-31T09:30:00+00:00",
        "end": "2026-02-28T09:30:00+00:00",
        "daysElapsed": 15,  # 15 d 2 h 30 min
        "daysRemaining": 13,  # 12 d 21 h 30 min
    }
    assert march["cycle"] == {
        "start": "2026-02-28T09:30:00+00:00",
        "end": "2026-03-31T09:30:00+00:00",  # back on the 31st, not the 28th
        "daysElapsed": 4,  # 4 d 14 h 30 min
        "daysRemaining": 27,  # 26 d 9 h 30 min
    }


async def test_cycle_anchored_on_the_31st_clamps_to_february_29_in_a_leap_year(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan(), anchor=utc("2028-01-31T00:00")))

    february = await organization(database_url, CYCLE, "2028-02-10T00:00")
    march = await organization(database_url, CYCLE, "2028-03-01T00:00")

    assert february["cycle"] == {
        "start": "2028-01-31T00:00:00+00:00",
        "end": "2028-02-29T00:00:00+00:00",
        "daysElapsed": 10,
        "daysRemaining": 19,
    }
    assert march["cycle"] == {
        "start": "2028-02-29T00:00:00+00:00",
        "end": "2028-03-31T00:00:00+00:00",
        "daysElapsed": 1,
        "daysRemaining": 30,
    }


async def test_provider_period_wins_over_the_anchor(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(
        sessions,
        *customer(
            plan(limit("emails_sent", "100")),
            period=(utc("2026-03-05T00:00"), utc("2026-04-05T00:00")),
        ),
    )
    await record(
        sessions,
        event("emails_sent", "7", "2026-03-03T00:00"),  # the anchor cycle, clipped
        event("emails_sent", "2", "2026-03-06T00:00"),  # the provider period
    )

    found = await organization(
        database_url,
        f'{CYCLE} meters(keys: ["emails_sent"]) {{ used resetsAt }}',
        "2026-03-20T00:00",
    )

    assert found["cycle"] == {
        "start": "2026-03-05T00:00:00+00:00",
        "end": "2026-04-05T00:00:00+00:00",
        "daysElapsed": 15,
        "daysRemaining": 16,
    }
    assert found["meters"] == [{"used": "2", "resetsAt": "2026-04-05T00:00:00+00:00"}]


async def test_days_elapsed_are_floored_and_days_remaining_ceiled(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan()))

    midday = await organization(database_url, CYCLE, "2026-03-10T12:00")
    midnight = await organization(database_url, CYCLE, "2026-03-11T00:00")

    assert midday["cycle"] == {
        "start": "2026-03-01T00:00:00+00:00",
        "end": MARCH_END,
        "daysElapsed": 9,  # 9.5 days
        "daysRemaining": 22,  # 21.5 days
    }
    assert (midnight["cycle"]["daysElapsed"], midnight["cycle"]["daysRemaining"]) == (
        10,
        21,
    )


# caps and levels ----------------------------------------------------------------------

CAP_FIELDS = (
    "used",
    "limit",
    "enforcement",
    "percent",
    "progress",
    "level",
    "remaining",
    "blocked",
)


async def test_hard_cap_blocks_exactly_at_the_limit(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(
        sessions,
        *customer(plan(limit("emails_sent", "100"), limit("enrichments", "100"))),
    )
    await record(
        sessions,
        event("emails_sent", "60", "2026-03-02T00:00"),
        event("emails_sent", "40", "2026-03-03T00:00"),
        event("enrichments", "99", "2026-03-03T00:00"),
    )

    found = await meters(
        database_url, "2026-03-10T12:00", ["emails_sent", "enrichments"]
    )

    assert by_key(found, *CAP_FIELDS) == {
        "emails_sent": {
            "used": "100",
            "limit": "100",
            "enforcement": "HARD",
            "percent": 100.0,
            "progress": 1.0,
            "level": "EXCEEDED",
            "remaining": "0",
            "blocked": True,
        },
        "enrichments": {
            "used": "99",
            "limit": "100",
            "enforcement": "HARD",
            "percent": 99.0,
            "progress": 0.99,
            "level": "CRITICAL",
            "remaining": "1",
            "blocked": False,
        },
    }


async def test_soft_cap_passes_100_percent_and_blocks_at_110_percent(
    database_url: str, sessions: SessionFactory
) -> None:
    soft = Enforcement.SOFT
    await provision(
        sessions,
        *customer(
            plan(
                limit("emails_sent", "100", enforcement=soft),
                limit("enrichments", "100", enforcement=soft),
            )
        ),
    )
    await record(
        sessions,
        event("enrichments", "105", "2026-03-02T00:00"),
        event("emails_sent", "110", "2026-03-02T00:00"),
    )

    found = await meters(
        database_url, "2026-03-10T12:00", ["enrichments", "emails_sent"]
    )

    assert by_key(found, *CAP_FIELDS) == {
        "enrichments": {
            "used": "105",
            "limit": "100",
            "enforcement": "SOFT",
            "percent": 105.0,
            "progress": 1.0,
            "level": "EXCEEDED",
            "remaining": "0",
            "blocked": False,
        },
        "emails_sent": {
            "used": "110",
            "limit": "100",
            "enforcement": "SOFT",
            "percent": 110.0,
            "progress": 1.0,
            "level": "EXCEEDED",
            "remaining": "0",
            "blocked": True,
        },
    }


async def test_levels_change_at_exactly_80_90_and_100_percent(
    database_url: str, sessions: SessionFactory
) -> None:
    names = ("emails_sent", "enrichments", "workflow_executions", "import_rows")
    await provision(sessions, *customer(plan(*(limit(m, "100") for m in names))))
    await record(
        sessions,
        event("emails_sent", "79.999999", "2026-03-02T00:00"),
        event("enrichments", "80", "2026-03-02T00:00"),
        event("workflow_executions", "90", "2026-03-02T00:00"),
        event("import_rows", "100", "2026-03-02T00:00"),
    )

    found = await meters(database_url, "2026-03-10T12:00", names)

    assert by_key(found, "percent", "level") == {
        "emails_sent": {"percent": 79.999999, "level": "NORMAL"},
        "enrichments": {"percent": 80.0, "level": "WARNING"},
        "workflow_executions": {"percent": 90.0, "level": "CRITICAL"},
        "import_rows": {"percent": 100.0, "level": "EXCEEDED"},
    }


PER_SEAT = ("used", "limit", "percent", "level", "remaining", "blocked")


async def test_per_seat_limit_follows_change_seats_at_once(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(
        sessions, *customer(plan(limit("enrichments", "10", per_seat=True)), seats=4)
    )
    await record(sessions, event("enrichments", "30", "2026-03-02T00:00"))
    before = await meters(database_url, "2026-03-10T12:00", ["enrichments"])

    changed = await execute(
        database_url,
        operation("seats"),
        {"org": "org_a", "total": 3},
        operation_name="ChangeSeats",
    )
    after = await meters(database_url, "2026-03-10T12:00", ["enrichments"])

    assert changed["changeSeats"] == {
        "seats": {"total": 3, "allocated": 0, "available": 3},
        "userErrors": [],
    }
    assert by_key(before, *PER_SEAT)["enrichments"] == {
        "used": "30",
        "limit": "40",
        "percent": 75.0,
        "level": "NORMAL",
        "remaining": "10",
        "blocked": False,
    }
    assert by_key(after, *PER_SEAT)["enrichments"] == {
        "used": "30",
        "limit": "30",
        "percent": 100.0,
        "level": "EXCEEDED",
        "remaining": "0",
        "blocked": True,
    }


async def test_per_seat_limit_follows_a_subscription_with_more_seats_at_once(
    database_url: str, sessions: SessionFactory
) -> None:
    pro = plan(limit("enrichments", "10", per_seat=True))
    await provision(sessions, *customer(pro, seats=4))
    await record(sessions, event("enrichments", "30", "2026-03-02T00:00"))
    await provision(sessions, p.SubscriptionSpec("org_a", "pro", 8, anchor=JAN_1))

    found = await meters(database_url, "2026-03-10T12:00", ["enrichments"])

    assert by_key(found, *PER_SEAT)["enrichments"] == {
        "used": "30",
        "limit": "80",
        "percent": 37.5,
        "level": "NORMAL",
        "remaining": "50",
        "blocked": False,
    }


async def test_meter_without_a_limit_is_unlimited(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan()))
    await record(sessions, event("emails_sent", "42", "2026-03-02T00:00"))

    found = await meters(database_url, "2026-03-10T12:00")

    assert found == [
        {
            "key": "emails_sent",
            "label": "Emails sent",
            "category": "MONTHLY_ACTIVITY",
            "unitLabel": "emails",
            "used": "42",
            "limit": None,
            "unlimited": True,
            "enforcement": "HARD",
            "resets": "CYCLE",
            "percent": None,
            "progress": None,
            "level": "NORMAL",
            "remaining": None,
            "resetsAt": MARCH_END,
            "blocked": False,
        }
    ]


# which meters are listed --------------------------------------------------------------


async def test_meters_lists_the_limited_or_used_ones_in_catalog_order(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(
        sessions,
        *customer(plan(limit("enrichments", "100"), limit("contacts", "1000"))),
    )
    await record(
        sessions,
        event("export_rows", "9", "2026-02-15T00:00"),  # last cycle: not listed
        event("voice", "3", "2026-03-02T00:00"),
        event("emails_sent", "5", "2026-03-02T00:00"),
    )

    found = await meters(database_url, "2026-03-10T12:00")

    assert [(m["key"], m["used"], m["limit"]) for m in found] == [
        ("contacts", "0", "1000"),
        ("emails_sent", "5", None),
        ("enrichments", "0", "100"),
        ("voice", "3", None),
    ]


async def test_meters_with_keys_returns_exactly_the_named_meters(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan(limit("enrichments", "100"))))
    await record(sessions, event("emails_sent", "5", "2026-03-02T00:00"))

    found = await meters(database_url, "2026-03-10T12:00", ["sms", "contacts"])

    assert [(m["key"], m["used"], m["limit"], m["unlimited"]) for m in found] == [
        ("sms", "0", None, True),
        ("contacts", "0", None, True),
    ]


async def test_meters_with_category_returns_that_category_only(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan(limit("enrichments", "100"))))
    await record(
        sessions,
        event("contacts", "10", "2026-03-02T00:00"),
        event("import_rows", "3", "2026-03-02T00:00"),
        event("emails_sent", "5", "2026-03-02T00:00"),
    )

    found = await meters(database_url, "2026-03-10T12:00", category="MONTHLY_ACTIVITY")

    assert [(m["key"], m["category"]) for m in found] == [
        ("emails_sent", "MONTHLY_ACTIVITY"),
        ("enrichments", "MONTHLY_ACTIVITY"),
    ]


# cumulative and resetting meters, trends ----------------------------------------------


async def test_cumulative_meter_counts_everything_up_to_at_resetting_only_the_cycle(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan()))
    await record(
        sessions,
        event("contacts", "100", "2026-01-10T00:00"),
        event("emails_sent", "7", "2026-02-10T00:00"),
        event("contacts", "50", "2026-02-10T00:00"),
        event("contacts", "-30", "2026-03-02T00:00"),  # contacts deleted
        event("emails_sent", "5", "2026-03-02T00:00"),
        event("contacts", "999", "2026-03-20T00:00"),  # after `at`
        event("emails_sent", "4", "2026-03-20T00:00"),  # after `at`
    )

    found = await meters(database_url, "2026-03-10T12:00", ["contacts", "emails_sent"])

    assert by_key(found, "used", "resets", "resetsAt") == {
        "contacts": {"used": "120", "resets": "NEVER", "resetsAt": None},
        "emails_sent": {"used": "5", "resets": "CYCLE", "resetsAt": MARCH_END},
    }


async def test_trend_gives_each_cycle_oldest_first_cumulative_at_the_cycle_end(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan()))
    await record(
        sessions,
        event("contacts", "100", "2026-01-10T00:00"),
        event("emails_sent", "7", "2026-01-10T00:00"),
        event("emails_sent", "3", "2026-02-03T00:00"),
        event("contacts", "50", "2026-02-10T00:00"),
        event("emails_sent", "4", "2026-02-20T00:00"),
        event("contacts", "-30", "2026-03-02T00:00"),
        event("emails_sent", "5", "2026-03-02T00:00"),
        event("contacts", "1000", "2026-03-20T00:00"),  # after `at`
        event("emails_sent", "100", "2026-03-20T00:00"),  # after `at`
    )

    found = await organization(
        database_url,
        'meters(keys: ["contacts", "emails_sent"]) '
        "{ key trend(months: 3) { start value } }",
        "2026-03-10T12:00",
    )

    starts = ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert {m["key"]: m["trend"] for m in found["meters"]} == {
        "contacts": [
            {"start": f"{start}T00:00:00+00:00", "value": value}
            for start, value in zip(starts, ["100", "150", "120"], strict=True)
        ],
        "emails_sent": [
            {"start": f"{start}T00:00:00+00:00", "value": value}
            for start, value in zip(starts, ["7", "7", "5"], strict=True)
        ],
    }


async def test_trends_of_different_lengths_in_one_query_each_get_their_cycles(
    database_url: str, sessions: SessionFactory
) -> None:
    """Aliases, a fragment and a variable asking for different lengths: each
    `trend` answers its own (they are computed before the meters' fields run)."""
    await provision(sessions, *customer(plan()))
    await record(
        sessions,
        event("emails_sent", "7", "2026-01-10T00:00"),
        event("emails_sent", "4", "2026-02-20T00:00"),
        event("emails_sent", "5", "2026-03-02T00:00"),
    )

    data = await execute(
        database_url,
        """
        query($org: ID!, $at: DateTime, $months: Int!) {
          organization(id: $org, at: $at) {
            meters(keys: ["emails_sent"]) {
              short: trend(months: 1) { value }
              ...Long
              ... on Meter { asked: trend(months: $months) { value } }
            }
          }
        }
        fragment Long on Meter { trend { value } }
        """,
        {"org": "org_a", "at": utc("2026-03-10T12:00").isoformat(), "months": 2},
    )

    [meter] = data["organization"]["meters"]

    def values(points: list[dict[str, str]]) -> list[str]:
        return [point["value"] for point in points]

    assert values(meter["short"]) == ["5"]
    assert values(meter["asked"]) == ["4", "5"]
    assert values(meter["trend"]) == ["0", "0", "0", "7", "4", "5"]


async def test_a_trend_longer_than_36_months_is_refused_on_the_trend(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan()))
    async with gateway(database_url) as api:
        body = await api.execute(
            "query($org: ID!) { organization(id: $org) "
            '{ meters(keys: ["emails_sent"]) { key trend(months: 37) { value } } } }',
            {"org": "org_a"},
            token=user_token(ADMIN),
        )

    assert [error["extensions"]["code"] for error in body["errors"]] == [
        "BAD_USER_INPUT"
    ]
    assert body["errors"][0]["path"] == ["organization", "meters", 0, "trend"]


# credits ------------------------------------------------------------------------------


def monthly_pool(granted: str, spent: str, remaining: str) -> dict[str, Any]:
    return {
        "kind": "MONTHLY",
        "granted": granted,
        "spent": spent,
        "remaining": remaining,
        "expiresAt": None,
    }


async def test_credits_granted_are_monthly_credits_plus_credits_per_seat_times_seats(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan(credits_per_seat="100"), seats=5))

    found = await organization(database_url, CREDITS, "2026-03-10T12:00")

    assert found["credits"] == {
        "unit": "CREDITS",
        "granted": "1500",
        "spent": "0",
        "remaining": "1500",
        "progress": 0.0,
        "pools": [monthly_pool("1500", "0", "1500")],
        "avgPerDay": "0",
        "runOutInDays": None,
        "onTrackToRunOut": False,
        "prompts": [],
    }


async def test_free_plan_grants_500_credits_and_always_prompts_upgrade(
    database_url: str, sessions: SessionFactory
) -> None:
    free = plan(key="free", tier=PlanTier.FREE, monthly_credits=None)
    await provision(sessions, *customer(free))

    found = await organization(database_url, CREDITS, "2026-03-10T12:00")

    assert found["credits"]["granted"] == "500"
    assert found["credits"]["pools"] == [monthly_pool("500", "0", "500")]
    assert found["credits"]["prompts"] == ["UPGRADE"]


async def test_spending_draws_monthly_then_bonus_by_earliest_expiry_then_purchased(
    database_url: str, sessions: SessionFactory
) -> None:
    late, soon = utc("2026-06-01T00:00"), utc("2026-04-15T00:00")
    await provision(
        sessions,
        *customer(plan(limit("voice", credits_per_unit="1"), monthly_credits="100")),
        # Granted out of draw order on purpose.
        p.CreditGrantSpec(
            "org_a", CreditPoolKind.BONUS, Decimal(50), late, id="b_late"
        ),
        p.CreditGrantSpec("org_a", CreditPoolKind.PURCHASED, Decimal(200), id="bought"),
        p.CreditGrantSpec(
            "org_a", CreditPoolKind.BONUS, Decimal(30), soon, id="b_soon"
        ),
    )
    await record(
        sessions,
        event("voice", "80", "2026-03-02T00:00"),  # monthly 80
        event("voice", "120", "2026-03-03T00:00"),  # monthly 20, 30, 50, bought 20
    )

    found = await organization(database_url, CREDITS, "2026-03-10T12:00")

    credits = found["credits"]
    assert credits["pools"] == [
        monthly_pool("100", "100", "0"),
        {
            "kind": "BONUS",
            "granted": "30",
            "spent": "30",
            "remaining": "0",
            "expiresAt": "2026-04-15T00:00:00+00:00",
        },
        {
            "kind": "BONUS",
            "granted": "50",
            "spent": "50",
            "remaining": "0",
            "expiresAt": "2026-06-01T00:00:00+00:00",
        },
        {
            "kind": "PURCHASED",
            "granted": "200",
            "spent": "20",
            "remaining": "180",
            "expiresAt": None,
        },
    ]
    assert (
        credits["granted"],
        credits["spent"],
        credits["remaining"],
        credits["progress"],
    ) == ("100", "200", "180", 1.0)


async def _spent(sessions: SessionFactory, *events: UsageEventSpec) -> None:
    """Provision `org_a` with voice at 1 credit a minute, then record `events`."""
    await provision(sessions, *customer(plan(limit("voice", credits_per_unit="1"))))
    await record(sessions, *events)


PROJECTION = "credits { spent remaining avgPerDay runOutInDays onTrackToRunOut }"


async def test_credits_on_track_to_run_out_before_the_cycle_ends(
    database_url: str, sessions: SessionFactory
) -> None:
    await _spent(sessions, event("voice", "400", "2026-03-05T00:00"))

    # 10 days elapsed, 21 remaining.
    found = await organization(database_url, PROJECTION, "2026-03-11T00:00")

    assert found["credits"] == {
        "spent": "400",
        "remaining": "600",
        "avgPerDay": "40",
        "runOutInDays": 15.0,
        "onTrackToRunOut": True,
    }


async def test_credits_not_on_track_to_run_out_when_they_last_the_cycle(
    database_url: str, sessions: SessionFactory
) -> None:
    await _spent(sessions, event("voice", "200", "2026-03-05T00:00"))

    found = await organization(database_url, PROJECTION, "2026-03-11T00:00")

    assert found["credits"] == {
        "spent": "200",
        "remaining": "800",
        "avgPerDay": "20",
        "runOutInDays": 40.0,
        "onTrackToRunOut": False,
    }


async def test_average_per_day_counts_the_first_day_as_a_whole_one(
    database_url: str, sessions: SessionFactory
) -> None:
    await _spent(sessions, event("voice", "30", "2026-03-01T06:00"))

    # Half a day elapsed: 30 a day (not 60); 970 / 30 days left of 30.5.
    found = await organization(database_url, PROJECTION, "2026-03-01T12:00")

    assert found["credits"] == {
        "spent": "30",
        "remaining": "970",
        "avgPerDay": "30",
        "runOutInDays": 32.333333,
        "onTrackToRunOut": False,
    }


async def test_prompts_referral_from_50_percent_and_upgrade_from_75_percent(
    database_url: str, sessions: SessionFactory
) -> None:
    spends = {
        "org_a": "49.999999",
        "org_b": "50",
        "org_c": "74.999999",
        "org_d": "75",
    }
    pro = plan(limit("voice", credits_per_unit="1"), monthly_credits="100")
    await provision(
        sessions, *(spec for org in spends for spec in customer(pro, org_id=org))
    )
    await record(
        sessions,
        *(
            event("voice", spent, "2026-03-02T00:00", org_id=org)
            for org, spent in spends.items()
        ),
    )

    data = await execute(
        database_url,
        "query($ids: [ID!]!, $at: DateTime) "
        "{ organizations(ids: $ids, at: $at) { id credits { spent prompts } } }",
        {"ids": list(spends), "at": utc("2026-03-10T12:00").isoformat()},
    )

    assert data["organizations"] == [
        {"id": "org_a", "credits": {"spent": "49.999999", "prompts": []}},
        {"id": "org_b", "credits": {"spent": "50", "prompts": ["REFERRAL"]}},
        {"id": "org_c", "credits": {"spent": "74.999999", "prompts": ["REFERRAL"]}},
        {"id": "org_d", "credits": {"spent": "75", "prompts": ["UPGRADE", "REFERRAL"]}},
    ]


async def test_credits_and_pools_count_only_what_was_spent_up_to_at(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(
        sessions,
        *customer(plan(limit("voice", credits_per_unit="1"), monthly_credits="100")),
        p.CreditGrantSpec("org_a", CreditPoolKind.PURCHASED, Decimal(200), id="bought"),
    )
    await record(
        sessions,
        event("voice", "100", "2026-03-02T00:00"),  # the monthly pool
        event("voice", "40", "2026-03-20T00:00"),  # after `at`: from the purchase
    )

    found = await organization(
        database_url,
        "credits { spent remaining pools { kind spent remaining } }",
        "2026-03-10T12:00",
    )

    assert found["credits"] == {
        "spent": "100",
        "remaining": "200",
        "pools": [
            {"kind": "MONTHLY", "spent": "100", "remaining": "0"},
            {"kind": "PURCHASED", "spent": "0", "remaining": "200"},
        ],
    }


async def test_byom_organization_sees_dollars_with_the_spend_cap_as_granted(
    database_url: str, sessions: SessionFactory
) -> None:
    byom = plan(limit("ai_spend_usd", "200"), key="byom", monthly_credits=None)
    await provision(sessions, *customer(byom, billing_model=BillingModel.USD))
    await record(
        sessions,
        event(
            "ai_tokens",
            "1000",
            "2026-03-05T00:00",
            feature=AiFeature.CHAT,
            cost_usd=Decimal(50),
        ),
    )

    found = await organization(database_url, CREDITS, "2026-03-11T00:00")

    assert found["credits"] == {
        "unit": "USD",
        "granted": "200",
        "spent": "50",
        "remaining": "150",
        "progress": 0.25,
        "pools": [],
        "avgPerDay": "5",
        "runOutInDays": 30.0,
        "onTrackToRunOut": False,
        "prompts": [],
    }


# the per-operation breakdown ----------------------------------------------------------


async def _operations(database_url: str) -> list[dict[str, Any]]:
    found = await organization(database_url, OPERATIONS, "2026-03-10T12:00")
    rows: list[dict[str, Any]] = found["usageByOperation"]
    return rows


def shares(rows: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(r["operationType"], r["creditsSpent"], r["sharePercent"]) for r in rows]


async def test_usage_by_operation_is_sorted_by_credits_spent_then_key(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(
        sessions,
        *customer(
            plan(
                limit("voice", credits_per_unit="2"),
                limit("sms", credits_per_unit="1"),
                limit("mms", credits_per_unit="1"),
            )
        ),
    )
    await record(
        sessions,
        event("email", "100", "2026-03-02T00:00"),  # no credits per unit: free
        event("mms", "5", "2026-03-02T00:00"),
        event("voice", "10", "2026-03-02T00:00"),
        event("sms", "20", "2026-03-02T00:00"),
    )

    rows = await _operations(database_url)

    # 45 credits: 20 / 45 = 44.4 %, 5 / 45 = 11.1 %.
    assert shares(rows) == [
        ("sms", "20", 44),
        ("voice", "20", 44),
        ("mms", "5", 11),
        ("email", "0", 0),
    ]


async def test_share_percent_of_three_equal_rows_is_33_each(
    database_url: str, sessions: SessionFactory
) -> None:
    names = ("voice", "sms", "mms")
    await provision(
        sessions, *customer(plan(*(limit(m, credits_per_unit="1") for m in names)))
    )
    await record(sessions, *(event(m, "10", "2026-03-02T00:00") for m in names))

    rows = await _operations(database_url)

    assert shares(rows) == [("mms", "10", 33), ("sms", "10", 33), ("voice", "10", 33)]


async def test_share_percent_of_two_thirds_rounds_to_67(
    database_url: str, sessions: SessionFactory
) -> None:
    names = ("voice", "sms")
    await provision(
        sessions, *customer(plan(*(limit(m, credits_per_unit="1") for m in names)))
    )
    await record(
        sessions,
        event("voice", "20", "2026-03-02T00:00"),
        event("sms", "10", "2026-03-02T00:00"),
    )

    rows = await _operations(database_url)

    assert shares(rows) == [("voice", "20", 67), ("sms", "10", 33)]


async def test_free_allowance_hint_says_how_much_of_it_was_used(
    database_url: str, sessions: SessionFactory
) -> None:
    voice = limit("voice", free_units="100", credits_per_unit="1")
    await provision(sessions, *customer(plan(voice)))
    await record(
        sessions,
        event("voice", "5", "2026-03-02T00:00"),
        event("voice", "7", "2026-03-03T00:00"),
    )

    rows = await _operations(database_url)

    assert rows == [
        {
            "operationType": "voice",
            "label": "Voice",
            "unitLabel": "minutes",
            "units": "12",
            "displayUnits": "12",
            "freeUnitsUsed": "12",
            "freeAllowance": "100",
            "creditsSpent": "0",
            "sharePercent": 0,
            "freeAllowanceHint": "12 of 100 free minutes used",
        }
    ]


async def test_free_allowance_hint_is_null_when_the_allowance_is_zero_or_absent(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan(limit("sms", credits_per_unit="1"))))
    await record(
        sessions,
        event("sms", "4", "2026-03-02T00:00"),
        event("mms", "2", "2026-03-02T00:00"),
    )
    # The plan then stops allowing SMS (free units 0); this cycle's usage stays.
    await provision(sessions, plan(limit("sms", free_units="0", credits_per_unit="1")))

    rows = await _operations(database_url)

    assert [
        (r["operationType"], r["freeAllowance"], r["freeAllowanceHint"]) for r in rows
    ] == [("sms", "0", None), ("mms", None, None)]


async def test_ai_text_is_shown_in_tokens(
    database_url: str, sessions: SessionFactory
) -> None:
    ai_text = limit("ai_text", free_units="10", credits_per_unit="1")
    await provision(sessions, *customer(plan(ai_text)))
    await record(sessions, event("ai_text", "3.5", "2026-03-02T00:00"))

    rows = await _operations(database_url)

    assert rows == [
        {
            "operationType": "ai_text",
            "label": "AI text",
            "unitLabel": "tokens",
            "units": "3.5",
            "displayUnits": "3500",
            "freeUnitsUsed": "3.5",
            "freeAllowance": "10",
            "creditsSpent": "0",
            "sharePercent": 0,
            "freeAllowanceHint": "3500 of 10000 free tokens used",
        }
    ]


async def test_organization_without_subscription_has_no_operations_and_no_plan(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(
        sessions,
        p.OrganizationSpec("org_a", "Org A"),
        member(ADMIN, "Admin", role=Role.ADMIN),
    )
    await record(sessions, event("voice", "5", "2026-03-02T00:00"))

    found = await organization(
        database_url,
        f"plan {{ key }} {OPERATIONS} {CYCLE} credits {{ spent }}",
        "2026-03-10T12:00",
    )

    assert found == {
        "plan": None,
        "usageByOperation": [],
        "cycle": None,
        "credits": None,
    }


# the AI budget ------------------------------------------------------------------------


async def _ai_budget_usage(sessions: SessionFactory) -> None:
    """$20 of a $100 budget: CHAT $10 + $5 (big model most), EMAIL $4 + $1 (small)."""
    await provision(
        sessions,
        *customer(plan(limit("ai_spend_usd", "100"))),
        member("mia", "Mia", role=Role.MEMBER),
        p.ModelPriceSpec(
            "model-big", ModelTier.ADVANCED_REASONING, Decimal(10), Decimal(30)
        ),
        p.ModelPriceSpec("model-small", ModelTier.FAST, Decimal(1), Decimal(2)),
        p.CreditGrantSpec("org_a", CreditPoolKind.PURCHASED, Decimal(250)),
    )

    def ai(feature: AiFeature, model: str, input_tokens: int) -> UsageEventSpec:
        return event(
            "ai_tokens",
            str(input_tokens),
            "2026-03-02T00:00",
            feature=feature,
            model=model,
            tokens=TokenCounts(input=input_tokens),
        )

    await record(
        sessions,
        ai(AiFeature.CHAT, "model-big", 1_000_000),  # $10
        ai(AiFeature.CHAT, "model-small", 5_000_000),  # $5
        ai(AiFeature.EMAIL, "model-small", 4_000_000),  # $4
        ai(AiFeature.EMAIL, "model-big", 100_000),  # $1
    )


async def test_ai_budget_rows_carry_the_tier_of_the_model_that_spent_most(
    database_url: str, sessions: SessionFactory
) -> None:
    await _ai_budget_usage(sessions)

    found = await organization(database_url, AI_BUDGET, "2026-03-10T12:00")

    assert found["aiBudget"] == {
        "percentUsed": 20.0,
        "resetsAt": MARCH_END,
        "spentUsd": "20",
        "limitUsd": "100",
        "creditBalance": "250",
        "categories": [
            {
                "category": "CHAT",
                "tierLabel": "ADVANCED_REASONING",
                "percent": 75.0,
                "spentUsd": "15",
            },
            {
                "category": "EMAIL",
                "tierLabel": "FAST",
                "percent": 25.0,
                "spentUsd": "5",
            },
        ],
    }


async def test_ai_budget_files_an_ai_event_without_a_model_under_its_feature(
    database_url: str, sessions: SessionFactory
) -> None:
    await _ai_budget_usage(sessions)
    # $5 reported as a cost, with its feature and no model: no model's tier to show.
    await record(
        sessions,
        event(
            "ai_tokens",
            "1",
            "2026-03-03T00:00",
            feature=AiFeature.SUMMARY,
            cost_usd=Decimal(5),
        ),
    )

    found = await organization(database_url, AI_BUDGET, "2026-03-10T12:00")

    assert found["aiBudget"]["spentUsd"] == "25"
    assert found["aiBudget"]["categories"] == [
        {
            "category": "CHAT",
            "tierLabel": "ADVANCED_REASONING",
            "percent": 60.0,
            "spentUsd": "15",
        },
        {"category": "EMAIL", "tierLabel": "FAST", "percent": 20.0, "spentUsd": "5"},
        {"category": "SUMMARY", "tierLabel": None, "percent": 20.0, "spentUsd": "5"},
    ]


async def test_ai_budget_dollars_are_redacted_for_a_member_without_error(
    database_url: str, sessions: SessionFactory
) -> None:
    await _ai_budget_usage(sessions)

    found = await organization(database_url, AI_BUDGET, "2026-03-10T12:00", user="mia")

    assert found["aiBudget"] == {
        "percentUsed": 20.0,
        "resetsAt": MARCH_END,
        "spentUsd": None,
        "limitUsd": None,
        "creditBalance": "250",
        "categories": [
            {
                "category": "CHAT",
                "tierLabel": "ADVANCED_REASONING",
                "percent": 75.0,
                "spentUsd": None,
            },
            {
                "category": "EMAIL",
                "tierLabel": "FAST",
                "percent": 25.0,
                "spentUsd": None,
            },
        ],
    }


# the viewer's own usage ---------------------------------------------------------------


async def test_my_usage_shows_a_personal_allocation_or_the_shared_pool(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(
        sessions,
        *customer(plan(limit("enrichments", "100"), limit("ai_tokens", "50000"))),
        member("ann", "Ann"),
        member("bob", "Bob"),
    )
    async with sessions() as session, session.begin():
        await p.set_personal_allocation(
            session, "org_a", "ann", "enrichments", Decimal(10)
        )
    await record(
        sessions,
        event("enrichments", "4", "2026-03-02T00:00", user_id="ann"),
        event("ai_tokens", "1000", "2026-03-02T00:00", user_id="ann"),
        event("enrichments", "20", "2026-03-02T00:00", user_id="bob"),
        event("ai_tokens", "7000", "2026-03-02T00:00", user_id="bob"),
    )

    found = await organization(
        database_url,
        "myUsage { meters { key label used limit sharesOrgPool caption level } }",
        "2026-03-10T12:00",
        user="ann",
    )

    assert found["myUsage"]["meters"] == [
        {
            "key": "ai_tokens",
            "label": "AI tokens",
            "used": "1000",
            "limit": "50000",
            "sharesOrgPool": True,
            "caption": "You share the organization pool",
            "level": "NORMAL",
        },
        {
            "key": "enrichments",
            "label": "Enrichments",
            "used": "4",
            "limit": "10",
            "sharesOrgPool": False,
            "caption": None,
            "level": "NORMAL",
        },
    ]


# the member directory -----------------------------------------------------------------


async def _directory(sessions: SessionFactory) -> None:
    """Admin (ADMIN) and four people: two seated, in teams Sales and Support."""
    await provision(
        sessions,
        *customer(plan()),
        member(
            "ann",
            "Ann Lee",
            email="ann.lee@acme.test",
            teams=("Sales",),
            seat_type=SeatType.POWER,
        ),
        member(
            "bob",
            "Bob Stone",
            role=Role.MANAGER,
            email="bob@acme.test",
            teams=("Support",),
        ),
        member(
            "carla",
            "Carla Annis",
            email="carla@example.org",
            teams=("Sales", "Support"),
            seat_type=SeatType.COLLABORATOR,
        ),
        member("dan", "Dan Moss", email="dan@ANNEX.test"),
    )


async def directory(database_url: str, **variables: Any) -> dict[str, Any]:
    data = await execute(
        database_url, operation("members"), {"org": "org_a", **variables}
    )
    found: dict[str, Any] = data["organization"]["members"]
    return found


def names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in connection["edges"]]


async def test_members_search_matches_name_or_email_case_insensitively(
    database_url: str, sessions: SessionFactory
) -> None:
    await _directory(sessions)

    found = await directory(database_url, search="aNn")

    assert found["totalCount"] == 3
    assert names(found) == ["Ann Lee", "Carla Annis", "Dan Moss"]


async def test_members_filter_by_role(
    database_url: str, sessions: SessionFactory
) -> None:
    await _directory(sessions)

    found = await directory(database_url, role="MANAGER")

    assert found["totalCount"] == 1
    assert found["edges"][0]["node"] == {
        "userId": "bob",
        "email": "bob@acme.test",
        "name": "Bob Stone",
        "role": "MANAGER",
        "teams": ["Support"],
        "seatStatus": "NO_SEAT",
        "seatType": None,
    }


async def test_members_filter_by_team(
    database_url: str, sessions: SessionFactory
) -> None:
    await _directory(sessions)

    found = await directory(database_url, team="Support")

    assert found["totalCount"] == 2
    assert [(e["node"]["name"], e["node"]["teams"]) for e in found["edges"]] == [
        ("Bob Stone", ["Support"]),
        ("Carla Annis", ["Sales", "Support"]),
    ]


async def test_members_filter_by_seat_status(
    database_url: str, sessions: SessionFactory
) -> None:
    await _directory(sessions)

    seated = await directory(database_url, seatStatus="ALLOCATED")
    unseated = await directory(database_url, seatStatus="NO_SEAT")

    assert (seated["totalCount"], unseated["totalCount"]) == (2, 3)
    assert [(e["node"]["name"], e["node"]["seatType"]) for e in seated["edges"]] == [
        ("Ann Lee", "POWER"),
        ("Carla Annis", "COLLABORATOR"),
    ]
    assert names(unseated) == ["Admin", "Bob Stone", "Dan Moss"]


async def test_members_page_with_cursors_to_the_end(
    database_url: str, sessions: SessionFactory
) -> None:
    await _directory(sessions)

    pages = []
    after = None
    while True:
        page = await directory(database_url, first=2, after=after)
        pages.append((page["totalCount"], names(page), page["pageInfo"]["hasNextPage"]))
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert pages == [
        (5, ["Admin", "Ann Lee"], True),
        (5, ["Bob Stone", "Carla Annis"], True),
        (5, ["Dan Moss"], False),
    ]


# the usage chart ----------------------------------------------------------------------


async def usage_chart(database_url: str, range_: str, at: str) -> dict[str, Any]:
    """The contract's UsageChart document (chart and the three top tables)."""
    data = await execute(
        database_url,
        operation("usage_chart"),
        {"org": "org_a", "range": range_, "at": utc(at).isoformat()},
    )
    found: dict[str, Any] = data["organization"]
    return found


def zero_points(first: datetime, step: timedelta, buckets: int) -> list[dict[str, Any]]:
    return [
        {
            "start": (first + step * index).isoformat(),
            "web": "0",
            "cli": "0",
            "api": "0",
            "total": "0",
        }
        for index in range(buckets)
    ]


async def test_last_24_hours_is_24_hourly_buckets_split_by_source(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan(limit("voice", credits_per_unit="1"))))
    await record(
        sessions,
        event("voice", "7", "2026-03-09T12:59"),  # before the first bucket
        event("voice", "4", "2026-03-09T13:05"),  # no source: API
        event("voice", "3", "2026-03-10T12:10", source=UsageSource.WEB),
        event("voice", "2", "2026-03-10T12:20", source=UsageSource.CLI),
        event("voice", "5", "2026-03-10T12:40", source=UsageSource.WEB),  # after `at`
    )

    found = await usage_chart(database_url, "LAST_24_HOURS", "2026-03-10T12:30")

    expected = zero_points(utc("2026-03-09T13:00"), timedelta(hours=1), 24)
    expected[0] |= {"api": "4", "total": "4"}
    expected[23] |= {"web": "3", "cli": "2", "total": "5"}
    assert found["usageSeries"] == {
        "unit": "CREDITS",
        "granularity": "HOUR",
        "points": expected,
    }


async def test_last_7_days_is_7_daily_buckets_split_by_source(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan(limit("voice", credits_per_unit="1"))))
    await record(
        sessions,
        event("voice", "9", "2026-03-03T23:59", source=UsageSource.WEB),  # too early
        event("voice", "1", "2026-03-04T00:00", source=UsageSource.WEB),
        event("voice", "2", "2026-03-07T08:00", source=UsageSource.CLI),
        event("voice", "6", "2026-03-10T12:30"),  # exactly at `at`: counts, as API
        event("voice", "5", "2026-03-10T13:00", source=UsageSource.CLI),  # after
    )

    found = await usage_chart(database_url, "LAST_7_DAYS", "2026-03-10T12:30")

    expected = zero_points(utc("2026-03-04T00:00"), timedelta(days=1), 7)
    expected[0] |= {"web": "1", "total": "1"}
    expected[3] |= {"cli": "2", "total": "2"}
    expected[6] |= {"api": "6", "total": "6"}
    assert found["usageSeries"] == {
        "unit": "CREDITS",
        "granularity": "DAY",
        "points": expected,
    }


async def test_last_30_days_is_weekly_buckets_starting_on_mondays(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan(limit("voice", credits_per_unit="1"))))
    await record(
        sessions,
        event("voice", "2", "2026-02-10T09:00", source=UsageSource.WEB),
        event("voice", "1", "2026-03-04T00:00"),
        event("voice", "3", "2026-03-09T00:00", source=UsageSource.CLI),
    )

    # Tuesday 2026-03-10; 30 days before is Sunday 2026-02-08, in the week of
    # Monday 2026-02-02: six weeks.
    found = await usage_chart(database_url, "LAST_30_DAYS", "2026-03-10T12:30")

    expected = zero_points(utc("2026-02-02T00:00"), timedelta(weeks=1), 6)
    expected[1] |= {"web": "2", "total": "2"}
    expected[4] |= {"api": "1", "total": "1"}
    expected[5] |= {"cli": "3", "total": "3"}
    assert found["usageSeries"] == {
        "unit": "CREDITS",
        "granularity": "WEEK",
        "points": expected,
    }


# the top tables -----------------------------------------------------------------------


async def _workspace_usage(sessions: SessionFactory) -> None:
    """100 credits this cycle: Beta 50, Alpha 30, Gamma 12, Delta 8."""
    await provision(
        sessions,
        *customer(plan(limit("voice", credits_per_unit="1"))),
        member("ann", "Ann Lee"),
        member("bob", "Bob Stone"),
        p.WorkspaceSpec("org_a", "w1", "Alpha", "g1", "Sales"),
        p.WorkspaceSpec("org_a", "w2", "Beta", "g1"),
        p.WorkspaceSpec("org_a", "w3", "Gamma", "g2", "Support"),
        p.WorkspaceSpec("org_a", "w4", "Delta", "g2"),
    )

    def voice(quantity: str, workspace: str, user: str, at: str) -> UsageEventSpec:
        return event("voice", quantity, at, workspace_id=workspace, user_id=user)

    await record(
        sessions,
        voice("500", "w4", "bob", "2026-02-20T00:00"),  # last cycle
        voice("10", "w1", "ann", "2026-03-02T00:00"),
        voice("20", "w1", "bob", "2026-03-02T01:00"),
        voice("50", "w2", "ann", "2026-03-02T02:00"),
        voice("4", "w3", "bob", "2026-03-02T03:00"),
        voice("4", "w3", "bob", "2026-03-02T04:00"),
        voice("4", "w3", "bob", "2026-03-02T05:00"),
        voice("8", "w4", "ann", "2026-03-02T06:00"),
    )


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def row(id: str, name: str, amount: str, requests: int, share: int) -> dict[str, Any]:
    return {
        "id": id,
        "name": name,
        "amount": amount,
        "requests": requests,
        "sharePercent": share,
    }


async def test_top_workspaces_are_ranked_by_credits_and_page_with_after(
    database_url: str, sessions: SessionFactory
) -> None:
    await _workspace_usage(sessions)
    variables = {"org": "org_a", "range": "LAST_7_DAYS", "first": 2}
    variables["at"] = utc("2026-03-10T12:00").isoformat()

    first = await execute(database_url, operation("usage_chart"), variables)
    cursor = first["organization"]["topWorkspaces"]["pageInfo"]["endCursor"]
    second = await execute(
        database_url, operation("usage_chart"), variables | {"after": cursor}
    )

    first_page = first["organization"]["topWorkspaces"]
    second_page = second["organization"]["topWorkspaces"]
    assert (first_page["totalCount"], first_page["pageInfo"]["hasNextPage"]) == (
        4,
        True,
    )
    assert nodes(first_page) == [
        row("w2", "Beta", "50", 1, 50),
        row("w1", "Alpha", "30", 2, 30),
    ]
    assert (second_page["totalCount"], second_page["pageInfo"]["hasNextPage"]) == (
        4,
        False,
    )
    assert nodes(second_page) == [
        row("w3", "Gamma", "12", 3, 12),
        row("w4", "Delta", "8", 1, 8),
    ]


async def test_top_workspace_groups_add_up_their_workspaces(
    database_url: str, sessions: SessionFactory
) -> None:
    await _workspace_usage(sessions)

    found = await usage_chart(database_url, "LAST_7_DAYS", "2026-03-10T12:00")

    assert found["topWorkspaceGroups"]["totalCount"] == 2
    assert nodes(found["topWorkspaceGroups"]) == [
        row("g1", "Sales", "80", 3, 80),
        row("g2", "Support", "20", 4, 20),
    ]


async def test_top_users_are_ranked_by_credits_with_requests_and_share(
    database_url: str, sessions: SessionFactory
) -> None:
    await _workspace_usage(sessions)

    found = await usage_chart(database_url, "LAST_7_DAYS", "2026-03-10T12:00")

    assert found["topUsers"]["totalCount"] == 2
    assert nodes(found["topUsers"]) == [
        row("ann", "Ann Lee", "68", 3, 68),
        row("bob", "Bob Stone", "32", 4, 32),
    ]


async def test_top_table_shares_are_of_the_whole_organizations_spend(
    database_url: str, sessions: SessionFactory
) -> None:
    await _workspace_usage(sessions)
    # 100 more credits: 60 in a workspace outside any group, 40 with no workspace
    # and no user. The organization spent 200 this cycle.
    await provision(sessions, p.WorkspaceSpec("org_a", "w5", "Loose"))
    await record(
        sessions,
        event("voice", "60", "2026-03-03T00:00", workspace_id="w5"),
        event("voice", "40", "2026-03-03T01:00"),
    )

    found = await usage_chart(database_url, "LAST_7_DAYS", "2026-03-10T12:00")

    assert nodes(found["topWorkspaceGroups"]) == [
        row("g1", "Sales", "80", 3, 40),
        row("g2", "Support", "20", 4, 10),
    ]
    assert nodes(found["topWorkspaces"])[:2] == [
        row("w5", "Loose", "60", 1, 30),
        row("w2", "Beta", "50", 1, 25),
    ]
    assert nodes(found["topUsers"]) == [
        row("ann", "Ann Lee", "68", 3, 34),
        row("bob", "Bob Stone", "32", 4, 16),
    ]


# partners -----------------------------------------------------------------------------


async def test_partner_pulls_the_billing_state_of_several_organizations(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(
        sessions,
        *customer(plan(limit("voice", credits_per_unit="1"))),
        p.ReconciliationSpec(
            "org_a",
            ReconciliationStatus.RECONCILED,
            Decimal(12),
            utc("2026-03-09T00:00"),
        ),
        *customer(
            plan(limit("ai_spend_usd", "300"), key="byom", monthly_credits=None),
            org_id="org_b",
            seats=3,
            billing_model=BillingModel.USD,
            billing_state=BillingState.TRIAL,
            status=SubscriptionStatus.PAST_DUE,
            period=(utc("2026-03-05T00:00"), utc("2026-04-05T00:00")),
            retries_exhausted=True,
        ),
        p.OrganizationSpec("org_c", "Org C"),
    )
    await record(sessions, event("voice", "250", "2026-03-02T00:00"))
    async with sessions() as session, session.begin():
        _, secret = await create_api_key(
            session, ApiKeyKind.PARTNER, "billing", ("org_a", "org_b", "org_c"), SETUP
        )

    data = await execute(
        database_url,
        operation("partner_billing_state"),
        {"ids": ["org_c", "org_a", "org_b"], "at": utc("2026-03-10T12:00").isoformat()},
        token=secret,
    )

    assert data["organizations"] == [
        {
            "id": "org_c",
            "name": "Org C",
            "billingModel": "CREDITS",
            "billingState": "NONE",
            "aiAccessPaused": False,
            "subscription": None,
            "credits": None,
            "workspaceCreation": {"allowed": False, "reasons": ["NO_BILLING"]},
            "reconciliation": {"status": "NOT_CONFIGURED", "lastReconciledAt": None},
        },
        {
            "id": "org_a",
            "name": "Org A",
            "billingModel": "CREDITS",
            "billingState": "PAID",
            "aiAccessPaused": False,
            "subscription": {
                "status": "ACTIVE",
                "planKey": "pro",
                "seats": 5,
                "currentPeriodStart": None,
                "currentPeriodEnd": None,
                "paymentRetriesExhausted": False,
            },
            "credits": {
                "unit": "CREDITS",
                "granted": "1000",
                "spent": "250",
                "remaining": "750",
            },
            "workspaceCreation": {"allowed": True, "reasons": []},
            "reconciliation": {
                "status": "RECONCILED",
                "lastReconciledAt": "2026-03-09T00:00:00+00:00",
            },
        },
        {
            "id": "org_b",
            "name": "Org B",
            "billingModel": "USD",
            "billingState": "TRIAL",
            "aiAccessPaused": True,
            "subscription": {
                "status": "PAST_DUE",
                "planKey": "byom",
                "seats": 3,
                "currentPeriodStart": "2026-03-05T00:00:00+00:00",
                "currentPeriodEnd": "2026-04-05T00:00:00+00:00",
                "paymentRetriesExhausted": True,
            },
            "credits": {
                "unit": "USD",
                "granted": "300",
                "spent": "0",
                "remaining": "300",
            },
            "workspaceCreation": {
                "allowed": False,
                "reasons": ["TRIAL_NOT_APPROVED", "PAYMENT_PAST_DUE"],
            },
            "reconciliation": {"status": "NOT_CONFIGURED", "lastReconciledAt": None},
        },
    ]
