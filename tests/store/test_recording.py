"""Recording and checking usage: each rule of the contract, with hand-computed values.

Every test runs once per way of deciding (tests/store/conftest.py): from SQL alone on
SQLite and PostgreSQL, with in-process counters on SQLite (the embedded default) and
with Redis counters on PostgreSQL. PostgreSQL and Redis skip with the reason when the
server is unreachable, and fail under CI=true. Where counters are kept, tests that
race or fail writes also check that the counters equal the SQL totals.

Unless a test says otherwise: organization `org_a` on plan `pro`, 5 seats, anchored on
2026-01-01, so `NOW` (2026-03-10 12:00) is in the cycle [2026-03-01, 2026-04-01).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rules.cycles import Cycle, cycle_for
from rules.enums import (
    AiFeature,
    BillingModel,
    CreditPoolKind,
    Enforcement,
    ModelTier,
    SubscriptionStatus,
    UsageDecisionCode,
    UsageSource,
    UsageStatus,
)
from rules.pricing import TokenCounts
from store import recording, usage_writes
from store.counters import (
    CounterStore,
    grant_field,
    monthly_field,
    usage_field,
    user_field,
)
from store.db import SessionFactory, StatementCounter, create_engine, session_factory
from store.models import (
    CreditCycleSpend,
    CreditDraw,
    CreditGrant,
    Meter,
    ModelPrice,
    PersonalAllocation,
    UsageEvent,
    UsageRollup,
    Workspace,
)
from store.recording import (
    EventOutcome,
    UsageCheck,
    UsageEventSpec,
    check_usage,
    record_usage,
)
from store.rollup_sums import sum_rollups
from store.usage_loads import FieldSource, load_fields
from tests import factories as f
from tests.store.conftest import close_counters

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MARCH = datetime(2026, 3, 1, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)
FEBRUARY = datetime(2026, 2, 1, tzinfo=UTC)

ACCEPTED, DUPLICATE = UsageStatus.ACCEPTED, UsageStatus.DUPLICATE
DENIED, INVALID = UsageStatus.DENIED, UsageStatus.INVALID
Code = UsageDecisionCode


# helpers ------------------------------------------------------------------------------


async def given(
    sessions: SessionFactory,
    *limits: tuple[str, str | None, dict[str, Any]],
    plan: dict[str, Any] | None = None,
    org: dict[str, Any] | None = None,
    subscription: dict[str, Any] | None = None,
    members: tuple[str, ...] = ("ann", "bob"),
    rows: tuple[object, ...] = (),
) -> None:
    """Organization `org_a` on plan `pro` with the given limits, members and rows."""
    async with sessions() as session:
        await f.add_all(
            session,
            f.organization("org_a", **(org or {})),
            f.plan("pro", **(plan or {})),
            *(
                f.limit("pro", meter, value, **fields)
                for meter, value, fields in limits
            ),
            f.subscription("org_a", "pro", **(subscription or {})),
            # A user before its membership: flushed one row at a time.
            *(row for user in members for row in f.member("org_a", user)),
            *rows,
        )


def limit(
    meter: str, value: str | None, **fields: Any
) -> tuple[str, str | None, dict[str, Any]]:
    return meter, value, fields


_counter = iter(range(1, 1_000_000))


def ev(
    meter: str, quantity: str, key: str | None = None, **fields: Any
) -> UsageEventSpec:
    """An event of `org_a`; a fresh idempotency key unless one is given."""
    return UsageEventSpec(
        idempotency_key=key or f"evt-{next(_counter)}",
        organization_id=fields.pop("organization_id", "org_a"),
        meter=meter,
        quantity=Decimal(quantity),
        **fields,
    )


class Deciding:
    counters: CounterStore | None = None
    """The counter store of the running test's way of deciding."""


@pytest.fixture
def database_url(way_url: str) -> str:
    return way_url


@pytest.fixture(autouse=True)
async def _deciding_with(counters: CounterStore | None) -> AsyncIterator[None]:
    Deciding.counters = counters
    yield
    Deciding.counters = None
    await close_counters(counters)


async def record(
    sessions: SessionFactory, *events: UsageEventSpec
) -> list[EventOutcome]:
    return await record_at(sessions, events, NOW)


async def record_at(
    sessions: SessionFactory, events: Sequence[UsageEventSpec], at: datetime
) -> list[EventOutcome]:
    return await record_usage(sessions, list(events), at, Deciding.counters)


async def check(
    sessions: SessionFactory,
    org: str,
    meter: str,
    quantity: Decimal,
    user: str | None,
    at: datetime,
) -> UsageCheck:
    return await check_usage(
        sessions, org, meter, quantity, user, at, Deciding.counters
    )


async def counters_equal_sql(
    sessions: SessionFactory,
    *meters: str,
    cycle: datetime | None = MARCH,
    pools: Sequence[str | None] = (),
    dropped: bool = False,
) -> None:
    """The counters of `org_a` hold exactly what SQL holds for these meters (in the
    cycle, or ever with `cycle` None) and credit pools (a grant id, None for the
    cycle's MONTHLY pool); nothing to compare without counters.

    `dropped`: the store may have forgotten them instead (they are loaded from SQL
    again when next needed).
    """
    store = Deciding.counters
    if store is None:
        return
    sources = {
        usage_field(meter, cycle): FieldSource(
            meter=meter, cycle=None if cycle is None else _cycle(cycle)
        )
        for meter in meters
    }
    for pool in pools:
        if pool is None:
            sources[monthly_field(MARCH)] = FieldSource(monthly=_cycle(MARCH))
        else:
            sources[grant_field(pool)] = FieldSource(grant=pool)
    async with sessions() as session:
        truth = (await load_fields(session, {"org_a": sources}))["org_a"]
    held = await store.values("org_a", list(sources))
    if dropped and set(held.values()) == {None}:
        return
    assert held == truth


def _cycle(start: datetime) -> Cycle:
    return cycle_for(f.EPOCH, start)


def statuses(outcomes: list[EventOutcome]) -> list[tuple[UsageStatus, Code | None]]:
    return [(outcome.status, outcome.code) for outcome in outcomes]


async def used(
    sessions: SessionFactory, meter: str, start: datetime | None = MARCH
) -> Decimal:
    """The meter's usage in the cycle as every reader sees it (from the rollups)."""
    async with sessions() as session:
        sums = await sum_rollups(session, "org_a", "total", start, APRIL, [meter])
    totals = sums.get((meter, ""))
    return Decimal(0) if totals is None else totals.quantity


async def stored(sessions: SessionFactory) -> list[UsageEvent]:
    async with sessions() as session:
        return list(await session.scalars(select(UsageEvent).order_by(UsageEvent.id)))


async def count(sessions: SessionFactory, model: type[Any]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def written(sessions: SessionFactory) -> dict[str, Any]:
    """Everything a decision may write: events, rollups, the credit ledger and pools,
    and the counters of every meter, pool and member of `org_a`."""
    async with sessions() as session:
        rollups = (
            await session.execute(
                select(
                    UsageRollup.meter_key,
                    UsageRollup.dimension,
                    UsageRollup.dimension_key,
                    UsageRollup.quantity,
                    UsageRollup.credits,
                    UsageRollup.events,
                ).order_by(
                    UsageRollup.meter_key,
                    UsageRollup.dimension,
                    UsageRollup.dimension_key,
                    UsageRollup.hour,
                )
            )
        ).all()
        spends = (await session.execute(select(CreditCycleSpend.spent))).all()
        grants = (
            await session.execute(select(CreditGrant.id, CreditGrant.spent))
        ).all()
        meters = list(await session.scalars(select(Meter.key)))
    fields = [monthly_field(MARCH)] + [grant_field(grant) for grant, _ in grants]
    for meter in meters:
        fields += [usage_field(meter, MARCH), usage_field(meter, None)]
        fields += [user_field(meter, MARCH, user) for user in ("ann", "bob")]
    store = Deciding.counters
    return {
        "events": await count(sessions, UsageEvent),
        "draws": await count(sessions, CreditDraw),
        "rollups": [tuple(row) for row in rollups],
        "cycle spend": sorted(row.spent for row in spends),
        "grants": sorted(tuple(row) for row in grants),
        "counters": None if store is None else await store.values("org_a", fields),
    }


# limits -------------------------------------------------------------------------------


async def test_hard_limit_accepts_up_to_the_limit_and_denies_the_next_unit(
    sessions: SessionFactory,
) -> None:
    await given(sessions, limit("emails_sent", "10"))

    first = await record(sessions, ev("emails_sent", "9"))
    second = await record(
        sessions, ev("emails_sent", "1"), ev("emails_sent", "1"), ev("emails_sent", "0")
    )
    third = await record(sessions, ev("emails_sent", "1"))

    assert statuses(first) == [(ACCEPTED, None)]
    # Event 1 of the call sees event 0: exactly at the limit, then one unit too many.
    assert statuses(second) == [
        (ACCEPTED, None),
        (DENIED, Code.LIMIT_REACHED),
        (ACCEPTED, None),
    ]
    assert statuses(third) == [(DENIED, Code.LIMIT_REACHED)]
    assert third[0].message == "emails_sent would pass its limit of 10 (10 used)."
    assert await used(sessions, "emails_sent") == Decimal(10)


async def test_soft_limit_allows_up_to_110_percent(sessions: SessionFactory) -> None:
    await given(sessions, limit("enrichments", "100", enforcement=Enforcement.SOFT))

    outcomes = await record(
        sessions,
        ev("enrichments", "109.5"),
        ev("enrichments", "0.5"),
        ev("enrichments", "0.000001"),
    )

    assert statuses(outcomes) == [
        (ACCEPTED, None),
        (ACCEPTED, None),
        (DENIED, Code.SOFT_LIMIT_REACHED),
    ]
    assert await used(sessions, "enrichments") == Decimal(110)


async def test_enforcement_none_never_denies(sessions: SessionFactory) -> None:
    await given(sessions, limit("ai_tokens", "10", enforcement=Enforcement.NONE))

    outcomes = await record(sessions, ev("ai_tokens", "25"))

    assert statuses(outcomes) == [(ACCEPTED, None)]


async def test_per_seat_limit_is_the_limit_times_the_seats(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions, limit("api_calls", "10", per_seat=True), subscription={"seats": 3}
    )

    outcomes = await record(sessions, ev("api_calls", "30"), ev("api_calls", "1"))

    assert statuses(outcomes) == [(ACCEPTED, None), (DENIED, Code.LIMIT_REACHED)]


async def test_a_meter_the_plan_does_not_name_is_unlimited(
    sessions: SessionFactory,
) -> None:
    await given(sessions)

    outcomes = await record(sessions, ev("insights", "1000000"))

    assert statuses(outcomes) == [(ACCEPTED, None)]


async def test_a_late_event_is_decided_against_its_own_cycle(
    sessions: SessionFactory,
) -> None:
    await given(sessions, limit("emails_sent", "10"))
    await record_at(
        sessions,
        [ev("emails_sent", "10", occurred_at=datetime(2026, 2, 20, tzinfo=UTC))],
        datetime(2026, 2, 20, tzinfo=UTC),
    )

    outcomes = await record(
        sessions,
        ev("emails_sent", "1", occurred_at=datetime(2026, 2, 28, 23, 59, tzinfo=UTC)),
        ev("emails_sent", "10"),
    )

    # February is full; March (the current cycle) is empty.
    assert statuses(outcomes) == [(DENIED, Code.LIMIT_REACHED), (ACCEPTED, None)]
    assert [event.cycle_start for event in await stored(sessions)] == [FEBRUARY, MARCH]


# duplicates ---------------------------------------------------------------------------


async def test_a_duplicate_key_changes_nothing_within_and_across_calls(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions,
        limit("api_calls", "100", credits_per_unit=Decimal(1)),
        plan={"monthly_credits": Decimal(100)},
    )

    first = await record(
        sessions, ev("api_calls", "5", "k1"), ev("api_calls", "7", "k1")
    )
    second = await record(sessions, ev("api_calls", "9", "k1"))

    assert statuses(first) == [(ACCEPTED, None), (DUPLICATE, None)]
    assert statuses(second) == [(DUPLICATE, None)]
    assert (
        second[0].message == "An event with this idempotency key was already recorded."
    )
    assert await used(sessions, "api_calls") == Decimal(5)
    assert await count(sessions, UsageEvent) == 1
    assert await count(sessions, CreditDraw) == 1


async def test_the_same_key_in_another_organization_is_not_a_duplicate(
    sessions: SessionFactory,
) -> None:
    await given(sessions)
    async with sessions() as session:
        await f.add_all(
            session, f.organization("org_b"), f.subscription("org_b", "pro")
        )

    outcomes = await record(
        sessions,
        ev("api_calls", "1", "k1"),
        ev("api_calls", "1", "k1", organization_id="org_b"),
    )

    assert statuses(outcomes) == [(ACCEPTED, None), (ACCEPTED, None)]


async def test_a_denied_event_does_not_claim_its_key(sessions: SessionFactory) -> None:
    await given(sessions, limit("api_calls", "1"))

    first = await record(sessions, ev("api_calls", "2", "k1"))
    retry = await record(sessions, ev("api_calls", "1", "k1"))

    assert statuses(first) == [(DENIED, Code.LIMIT_REACHED)]
    assert statuses(retry) == [(ACCEPTED, None)]


async def test_a_failed_write_leaves_the_keys_free_for_the_retry(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await given(sessions)

    write = usage_writes.write_accepted

    async def broken(*args: Any) -> None:
        await write(*args)  # everything is written, then the transaction fails
        raise RuntimeError("database went away")

    await record(sessions, ev("api_calls", "2"))
    with monkeypatch.context() as patch:
        patch.setattr(recording, "write_accepted", broken)
        with pytest.raises(RuntimeError, match="went away"):
            await record(sessions, ev("api_calls", "1", "k1"))
    assert await count(sessions, UsageEvent) == 1
    # The reservation was released: counters still hold only what SQL holds.
    await counters_equal_sql(sessions, "api_calls", dropped=True)

    retry = await record(sessions, ev("api_calls", "1", "k1"))

    assert statuses(retry) == [(ACCEPTED, None)]
    assert await used(sessions, "api_calls") == Decimal(3)
    await counters_equal_sql(sessions, "api_calls")


# invalid ------------------------------------------------------------------------------


INVALID_EVENTS = {
    "unknown meter": (ev("no_such_meter", "1"), "Unknown meter 'no_such_meter'."),
    "unknown organization": (
        ev("api_calls", "1", organization_id="org_zz"),
        "Unknown organization 'org_zz'.",
    ),
    "user not a member": (
        ev("api_calls", "1", user_id="zoe"),
        "Unknown user 'zoe': not a member of the organization.",
    ),
    "unknown workspace": (
        ev("api_calls", "1", workspace_id="ws-zz"),
        "Unknown workspace 'ws-zz'.",
    ),
    "not a number": (ev("api_calls", "NaN"), "The quantity must be a finite number."),
    "infinite": (ev("api_calls", "Infinity"), "The quantity must be a finite number."),
    "seven decimal places": (
        ev("api_calls", "0.0000001"),
        "The quantity has more than 6 decimal places.",
    ),
    "negative on a resetting meter": (
        ev("api_calls", "-1"),
        "A negative quantity is only allowed on cumulative meters (a release); "
        "api_calls resets every cycle.",
    ),
    "more than 5 minutes in the future": (
        ev("api_calls", "1", occurred_at=NOW + timedelta(minutes=5, microseconds=1)),
        "occurredAt is more than 5 minutes in the future.",
    ),
    "empty idempotency key": (
        UsageEventSpec("", "org_a", "api_calls", Decimal(1)),
        "The idempotency key must not be empty.",
    ),
    "negative cost": (
        ev("ai_tokens", "1", cost_usd=Decimal("-0.5")),
        "The cost must not be negative.",
    ),
    "negative infinity": (
        ev("contacts", "-Infinity"),
        "The quantity must be a finite number.",
    ),
    "larger than the largest quantity": (
        ev("contacts", "1000000000000.000001"),
        "The quantity is larger than 1000000000000.",
    ),
    "occurredAt without a time zone": (
        ev("api_calls", "1", occurred_at=datetime(2026, 3, 10, 11, 0)),
        "occurredAt must carry a time zone.",
    ),
    "over-long idempotency key": (
        ev("api_calls", "1", "k" * 201),
        "The idempotency key is longer than 200 characters.",
    ),
    "negative token count": (
        ev("ai_tokens", "1", model="gpt-x", tokens=TokenCounts(input=-1)),
        "Token counts must be whole numbers from 0 to 1000000000.",
    ),
    "a release carrying AI usage": (
        ev("contacts", "-1", cost_usd=Decimal(1)),
        "A release (negative quantity) cannot carry AI usage.",
    ),
    "a release below zero": (
        ev("contacts", "-3.5"),
        "Releasing 3.5 would take contacts below zero (2 used).",
    ),
}


@pytest.mark.parametrize("case", list(INVALID_EVENTS))
async def test_an_invalid_event_writes_nothing(
    sessions: SessionFactory, case: str
) -> None:
    await given(
        sessions,
        limit("api_calls", "100", credits_per_unit=Decimal(1)),
        plan={"monthly_credits": Decimal(100)},
        rows=(Workspace(organization_id="org_a", id="ws-1", name="One"),),
    )
    await record(sessions, ev("api_calls", "1"), ev("contacts", "2"))
    before = await written(sessions)
    spec, message = INVALID_EVENTS[case]

    outcomes = await record(sessions, spec)

    assert [(o.status, o.code, o.message) for o in outcomes] == [
        (INVALID, Code.INVALID, message)
    ]
    assert await written(sessions) == before


async def test_values_at_the_edge_of_validity_are_accepted(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions, rows=(Workspace(organization_id="org_a", id="ws-1", name="One"),)
    )

    outcomes = await record(
        sessions,
        ev("api_calls", "1.5000000"),  # trailing zeros lose nothing
        ev("api_calls", "0.000001"),
        ev("api_calls", "1", occurred_at=NOW + timedelta(minutes=5)),
        ev("api_calls", "1", user_id="ann", workspace_id="ws-1"),
    )

    assert statuses(outcomes) == [(ACCEPTED, None)] * 4


async def test_more_than_1000_events_is_refused_before_anything_is_decided(
    sessions: SessionFactory,
) -> None:
    await given(sessions)

    with pytest.raises(ValueError, match="at most 1000 events per call, got 1001"):
        await record(sessions, *(ev("api_calls", "1") for _ in range(1001)))
    assert await count(sessions, UsageEvent) == 0


# releases -----------------------------------------------------------------------------


async def test_a_release_on_a_cumulative_meter_frees_room_but_never_goes_below_zero(
    sessions: SessionFactory,
) -> None:
    await given(sessions, limit("contacts", "100"))
    await record(sessions, ev("contacts", "100"))

    outcomes = await record(
        sessions,
        ev("contacts", "-30"),
        ev("contacts", "30"),
        ev("contacts", "1"),
        ev("contacts", "-100.000001"),
        ev("contacts", "-100"),
    )

    assert statuses(outcomes) == [
        (ACCEPTED, None),
        (ACCEPTED, None),
        (DENIED, Code.LIMIT_REACHED),
        (INVALID, Code.INVALID),
        (ACCEPTED, None),
    ]
    assert outcomes[3].message == (
        "Releasing 100.000001 would take contacts below zero (100 used)."
    )
    assert await used(sessions, "contacts", start=None) == Decimal(0)


async def test_a_cumulative_meter_counts_usage_of_earlier_cycles(
    sessions: SessionFactory,
) -> None:
    await given(sessions, limit("storage_bytes", "1000"))
    await record_at(
        sessions, [ev("storage_bytes", "600")], datetime(2026, 1, 15, tzinfo=UTC)
    )

    outcomes = await record(
        sessions, ev("storage_bytes", "400"), ev("storage_bytes", "1")
    )

    assert statuses(outcomes) == [(ACCEPTED, None), (DENIED, Code.LIMIT_REACHED)]


async def test_a_retried_release_is_a_duplicate_not_invalid(
    sessions: SessionFactory,
) -> None:
    await given(sessions)
    await record(sessions, ev("contacts", "10"), ev("contacts", "-10", "release-1"))

    retry = await record(sessions, ev("contacts", "-10", "release-1"))

    assert statuses(retry) == [(DUPLICATE, None)]


# credits ------------------------------------------------------------------------------


async def test_free_allowance_first_then_credits_per_unit(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions,
        limit("voice", None, free_units=Decimal(100), credits_per_unit=Decimal("2.5")),
        plan={"monthly_credits": Decimal(1000)},
    )

    outcomes = await record(
        sessions, ev("voice", "90"), ev("voice", "20"), ev("voice", "4")
    )

    assert statuses(outcomes) == [(ACCEPTED, None)] * 3
    events = await stored(sessions)
    # 90 free; then 10 free + 10 × 2.5; then 4 × 2.5.
    assert [(e.free_units_used, e.credits) for e in events] == [
        (Decimal(90), Decimal(0)),
        (Decimal(10), Decimal(25)),
        (Decimal(0), Decimal(10)),
    ]
    assert outcomes[1].message == "Recorded 20 voice for 25 credits."
    async with sessions() as session:
        spend = (await session.execute(select(CreditCycleSpend))).scalar_one()
    assert (spend.cycle_start, spend.grant_id, spend.kind, spend.spent) == (
        MARCH,
        "",
        CreditPoolKind.MONTHLY,
        Decimal(35),
    )


async def test_operation_types_not_on_the_plan_are_denied_and_absent_ones_pay_per_use(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions,
        limit("voice", None, free_units=Decimal(0)),
        limit("sms", None, credits_per_unit=Decimal("0.5")),
        plan={"monthly_credits": Decimal(10)},
    )

    outcomes = await record(sessions, ev("voice", "1"), ev("sms", "4"))

    assert statuses(outcomes) == [(DENIED, Code.NOT_ALLOWED_ON_PLAN), (ACCEPTED, None)]
    assert outcomes[0].message == "voice is not included in the plan."
    assert [e.credits for e in await stored(sessions)] == [Decimal(2)]


async def test_credits_draw_monthly_then_bonus_by_expiry_then_purchased(
    sessions: SessionFactory,
) -> None:
    grants = (
        _grant(
            "g1-bonus-late",
            CreditPoolKind.BONUS,
            "5",
            datetime(2026, 4, 30, tzinfo=UTC),
        ),
        _grant(
            "g2-bonus-soon",
            CreditPoolKind.BONUS,
            "5",
            datetime(2026, 3, 20, tzinfo=UTC),
        ),
        _grant(
            "g3-bonus-gone",
            CreditPoolKind.BONUS,
            "100",
            datetime(2026, 3, 5, tzinfo=UTC),
        ),
        _grant("g4-purchased", CreditPoolKind.PURCHASED, "50", None),
    )
    await given(
        sessions,
        limit("api_calls", None, credits_per_unit=Decimal(1)),
        plan={"monthly_credits": Decimal(10)},
        rows=grants,
    )

    outcomes = await record(sessions, ev("api_calls", "25"))

    assert statuses(outcomes) == [(ACCEPTED, None)]
    async with sessions() as session:
        draws = (
            await session.execute(
                select(
                    CreditDraw.kind, CreditDraw.grant_id, CreditDraw.amount
                ).order_by(CreditDraw.id)
            )
        ).all()
        spent = dict(
            (await session.execute(select(CreditGrant.id, CreditGrant.spent))).all()
        )
        cycle = dict(
            (
                await session.execute(
                    select(CreditCycleSpend.grant_id, CreditCycleSpend.spent)
                )
            ).all()
        )
    # The expired bonus is skipped; the one expiring first is drawn before the other.
    assert [tuple(draw) for draw in draws] == [
        (CreditPoolKind.MONTHLY, None, Decimal(10)),
        (CreditPoolKind.BONUS, "g2-bonus-soon", Decimal(5)),
        (CreditPoolKind.BONUS, "g1-bonus-late", Decimal(5)),
        (CreditPoolKind.PURCHASED, "g4-purchased", Decimal(5)),
    ]
    assert spent == {
        "g1-bonus-late": Decimal(5),
        "g2-bonus-soon": Decimal(5),
        "g3-bonus-gone": Decimal(0),
        "g4-purchased": Decimal(5),
    }
    assert cycle == {
        "": Decimal(10),
        "g2-bonus-soon": Decimal(5),
        "g1-bonus-late": Decimal(5),
        "g4-purchased": Decimal(5),
    }


async def test_credits_exhausted_denies_only_events_that_cost_credits(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions,
        limit("api_calls", None, credits_per_unit=Decimal(1)),
        plan={"monthly_credits": Decimal(10)},
        rows=(_grant("g1", CreditPoolKind.PURCHASED, "2", None),),
    )

    outcomes = await record(
        sessions,
        ev("api_calls", "13"),
        ev("api_calls", "12"),
        ev("api_calls", "1"),
        ev("emails_sent", "1"),
    )

    assert statuses(outcomes) == [
        (DENIED, Code.CREDITS_EXHAUSTED),
        (ACCEPTED, None),
        (DENIED, Code.CREDITS_EXHAUSTED),
        (ACCEPTED, None),
    ]
    assert (
        outcomes[0].message
        == "Not enough credits: the event costs 13, the pools hold 12."
    )
    assert await used(sessions, "api_calls") == Decimal(12)


async def test_a_free_plan_grants_500_credits_a_month(sessions: SessionFactory) -> None:
    from rules.enums import PlanTier

    await given(
        sessions,
        limit("api_calls", None, credits_per_unit=Decimal(1)),
        plan={"tier": PlanTier.FREE},
    )

    outcomes = await record(sessions, ev("api_calls", "500"), ev("api_calls", "1"))

    assert statuses(outcomes) == [(ACCEPTED, None), (DENIED, Code.CREDITS_EXHAUSTED)]


async def test_a_late_event_draws_from_its_own_cycle_monthly_pool(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions,
        limit("api_calls", None, credits_per_unit=Decimal(1)),
        plan={"monthly_credits": Decimal(10)},
    )
    await record(sessions, ev("api_calls", "10"))

    outcomes = await record(
        sessions, ev("api_calls", "10", occurred_at=datetime(2026, 2, 27, tzinfo=UTC))
    )

    assert statuses(outcomes) == [(ACCEPTED, None)]
    async with sessions() as session:
        rows = (
            await session.execute(
                select(CreditCycleSpend.cycle_start, CreditCycleSpend.spent).order_by(
                    CreditCycleSpend.cycle_start
                )
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        (FEBRUARY, Decimal(10)),
        (MARCH, Decimal(10)),
    ]


def _grant(
    grant_id: str, kind: CreditPoolKind, amount: str, expires_at: datetime | None
) -> CreditGrant:
    return CreditGrant(
        id=grant_id,
        organization_id="org_a",
        kind=kind,
        amount=Decimal(amount),
        spent=Decimal(0),
        granted_at=datetime(2026, 1, 1, tzinfo=UTC),
        expires_at=expires_at,
    )


# denials ------------------------------------------------------------------------------


def _denial(
    code: Code | None,
    seed: UsageEventSpec,
    event: UsageEventSpec,
    *limits: tuple[str, str | None, dict[str, Any]],
    **setup: Any,
) -> dict[str, Any]:
    return {"code": code, "seed": seed, "event": event, "limits": limits, **setup}


def _denials() -> dict[str, dict[str, Any]]:
    """Built per test: rows added to one test's session cannot be added to another's."""
    return {
        "LIMIT_REACHED": _denial(
            Code.LIMIT_REACHED,
            ev("emails_sent", "1"),
            ev("emails_sent", "1"),
            limit("emails_sent", "1"),
        ),
        "SOFT_LIMIT_REACHED": _denial(
            Code.SOFT_LIMIT_REACHED,
            ev("enrichments", "11"),
            ev("enrichments", "0.000001"),
            limit("enrichments", "10", enforcement=Enforcement.SOFT),
        ),
        "CREDITS_EXHAUSTED": _denial(
            Code.CREDITS_EXHAUSTED,
            ev("api_calls", "6"),
            ev("api_calls", "2"),
            limit("api_calls", None, credits_per_unit=Decimal(1)),
            plan={"monthly_credits": Decimal(5)},
            rows=(_grant("g1", CreditPoolKind.BONUS, "2", None),),
        ),
        "SPEND_CAP_REACHED": _denial(
            Code.SPEND_CAP_REACHED,
            ev("ai_tokens", "1", cost_usd=Decimal(1)),
            ev("ai_tokens", "1", cost_usd=Decimal("0.000001")),
            limit("ai_spend_usd", "1"),
            org={"billing_model": BillingModel.USD},
        ),
        "AI_ACCESS_PAUSED": _denial(
            Code.AI_ACCESS_PAUSED,
            ev("emails_sent", "1"),
            ev("ai_text", "1"),
            subscription={
                "status": SubscriptionStatus.PAST_DUE,
                "payment_retries_exhausted": True,
            },
        ),
        "NOT_ALLOWED_ON_PLAN": _denial(
            Code.NOT_ALLOWED_ON_PLAN,
            ev("emails_sent", "1"),
            ev("voice", "1"),
            limit("voice", None, free_units=Decimal(0)),
        ),
        "PERSONAL_ALLOCATION_EXCEEDED": _denial(
            Code.PERSONAL_ALLOCATION_EXCEEDED,
            ev("enrichments", "1", user_id="ann"),
            ev("enrichments", "1", user_id="ann"),
            limit("enrichments", "100"),
            rows=(
                PersonalAllocation(
                    organization_id="org_a",
                    user_id="ann",
                    meter_key="enrichments",
                    limit=Decimal(1),
                ),
            ),
        ),
        "DUPLICATE": _denial(
            None, ev("api_calls", "1", "dup-1"), ev("api_calls", "5", "dup-1")
        ),
    }


@pytest.mark.parametrize("case", list(_denials()))
async def test_a_denied_event_writes_nothing(
    sessions: SessionFactory, case: str
) -> None:
    setup = _denials()[case]
    code, seed, event = setup.pop("code"), setup.pop("seed"), setup.pop("event")
    await given(sessions, *setup.pop("limits"), **setup)
    assert statuses(await record(sessions, seed)) == [(ACCEPTED, None)]
    before = await written(sessions)

    [outcome] = await record(sessions, event)

    status = DUPLICATE if code is None else DENIED
    assert (outcome.status, outcome.code) == (status, code)
    assert await written(sessions) == before
    if code is not None and event.cost_usd is None:  # a check carries no cost
        answer = await check(
            sessions, "org_a", event.meter, event.quantity, event.user_id, NOW
        )
        assert (answer.allowed, answer.code) == (False, code)


# AI -----------------------------------------------------------------------------------


def _price(model: str = "gpt-x") -> ModelPrice:
    return ModelPrice(
        model=model,
        tier=ModelTier.STANDARD,
        input_per_million_usd=Decimal("2.5"),
        output_per_million_usd=Decimal(10),
        cache_read_per_million_usd=Decimal("0.25"),
        cache_write_per_million_usd=Decimal(3),
    )


async def test_ai_cost_is_priced_from_the_model_table_and_converted_to_credits(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions,
        plan={"monthly_credits": Decimal(1000), "credits_per_usd": Decimal(100)},
        rows=(_price(),),
    )
    tokens = TokenCounts(
        input=400_000, output=100_000, cache_read=200_000, cache_write=100_000
    )

    outcomes = await record(
        sessions,
        ev("ai_tokens", "800000", model="gpt-x", tokens=tokens, feature=AiFeature.CHAT),
        ev("ai_tokens", "10", model="gpt-x", cost_usd=Decimal("0.01")),
    )

    assert statuses(outcomes) == [(ACCEPTED, None)] * 2
    events = await stored(sessions)
    # 0.4 M × 2.5 + 0.1 M × 10 + 0.2 M × 0.25 + 0.1 M × 3 = 1 + 1 + 0.05 + 0.3 dollars.
    assert [(e.cost_usd, e.credits, e.unpriced) for e in events] == [
        (Decimal("2.35"), Decimal(235), False),
        (Decimal("0.01"), Decimal(1), False),  # a given cost wins over the table
    ]
    assert (events[0].input_tokens, events[0].cache_write_tokens) == (400_000, 100_000)
    assert await used(sessions, "ai_spend_usd") == Decimal("2.36")


async def test_a_model_without_a_price_is_recorded_unpriced_and_free(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions, plan={"monthly_credits": Decimal(0), "credits_per_usd": Decimal(100)}
    )

    outcomes = await record(
        sessions, ev("ai_tokens", "500", model="mystery", tokens=TokenCounts(input=500))
    )

    assert statuses(outcomes) == [(ACCEPTED, None)]
    [event] = await stored(sessions)
    assert (event.cost_usd, event.unpriced, event.credits) == (None, True, Decimal(0))
    assert await used(sessions, "ai_spend_usd") == Decimal(0)


async def test_the_ai_budget_limits_the_dollar_cost_of_ai_events(
    sessions: SessionFactory,
) -> None:
    await given(sessions, limit("ai_spend_usd", "1"))

    outcomes = await record(
        sessions,
        ev("ai_text", "1", cost_usd=Decimal("0.75")),
        ev("ai_text", "1", cost_usd=Decimal("0.5")),
        ev("ai_text", "1", cost_usd=Decimal("0.25")),
    )

    assert statuses(outcomes) == [
        (ACCEPTED, None),
        (DENIED, Code.LIMIT_REACHED),
        (ACCEPTED, None),
    ]
    assert outcomes[1].message == "ai_spend_usd would pass its limit of 1 (0.75 used)."


async def test_a_byom_organization_pays_no_credits_and_stops_at_the_spend_cap(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions,
        limit("ai_spend_usd", "5"),
        limit("api_calls", None, credits_per_unit=Decimal(1)),
        org={"billing_model": BillingModel.USD},
        plan={"monthly_credits": Decimal(0), "credits_per_usd": Decimal(100)},
    )

    outcomes = await record(
        sessions,
        ev("ai_tokens", "1", cost_usd=Decimal(3)),
        ev("ai_tokens", "1", cost_usd=Decimal(2)),
        ev("ai_tokens", "1", cost_usd=Decimal("0.000001")),
        ev("api_calls", "7"),
    )

    assert statuses(outcomes) == [
        (ACCEPTED, None),
        (ACCEPTED, None),
        (DENIED, Code.SPEND_CAP_REACHED),
        (ACCEPTED, None),
    ]
    assert outcomes[2].message == (
        "The monthly AI spend cap of $5 is reached ($5 spent this cycle)."
    )
    assert [e.credits for e in await stored(sessions)] == [Decimal(0)] * 3
    assert await count(sessions, CreditDraw) == 0


async def test_ai_access_paused_denies_every_ai_event_and_nothing_else(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions,
        subscription={
            "status": SubscriptionStatus.PAST_DUE,
            "payment_retries_exhausted": True,
        },
    )

    outcomes = await record(
        sessions,
        ev("emails_sent", "1", model="gpt-x"),
        ev("emails_sent", "1", tokens=TokenCounts(output=3)),
        ev("emails_sent", "1", cost_usd=Decimal("0.1")),
        ev("ai_text", "1"),
        ev("ai_tokens", "1"),
        ev("emails_sent", "1"),
    )

    assert statuses(outcomes) == [(DENIED, Code.AI_ACCESS_PAUSED)] * 5 + [
        (ACCEPTED, None)
    ]


async def test_past_due_with_retries_left_keeps_ai_access(
    sessions: SessionFactory,
) -> None:
    await given(sessions, subscription={"status": SubscriptionStatus.PAST_DUE})

    outcomes = await record(sessions, ev("ai_text", "1"))

    assert statuses(outcomes) == [(ACCEPTED, None)]


# allocations --------------------------------------------------------------------------


async def test_a_user_past_the_personal_allocation_is_denied_while_the_pool_has_room(
    sessions: SessionFactory,
) -> None:
    allocation = PersonalAllocation(
        organization_id="org_a",
        user_id="ann",
        meter_key="enrichments",
        limit=Decimal(5),
    )
    await given(sessions, limit("enrichments", "100"), rows=(allocation,))

    outcomes = await record(
        sessions,
        ev("enrichments", "5", user_id="ann"),
        ev("enrichments", "1", user_id="ann"),
        ev("enrichments", "1", user_id="bob"),
        ev("enrichments", "1"),
    )

    assert statuses(outcomes) == [
        (ACCEPTED, None),
        (DENIED, Code.PERSONAL_ALLOCATION_EXCEEDED),
        (ACCEPTED, None),
        (ACCEPTED, None),
    ]
    assert await check(sessions, "org_a", "enrichments", Decimal(1), "ann", NOW) == (
        UsageCheck(
            False, Code.PERSONAL_ALLOCATION_EXCEEDED, Decimal(5), Decimal(5), Decimal(0)
        )
    )
    assert await check(sessions, "org_a", "enrichments", Decimal(1), "bob", NOW) == (
        UsageCheck(True, Code.ALLOWED, Decimal(7), Decimal(100), Decimal(93))
    )


async def test_the_personal_allocation_comes_before_the_organization_limit(
    sessions: SessionFactory,
) -> None:
    allocation = PersonalAllocation(
        organization_id="org_a",
        user_id="ann",
        meter_key="enrichments",
        limit=Decimal(2),
    )
    await given(sessions, limit("enrichments", "3"), rows=(allocation,))

    outcomes = await record(sessions, ev("enrichments", "4", user_id="ann"))

    assert statuses(outcomes) == [(DENIED, Code.PERSONAL_ALLOCATION_EXCEEDED)]


# stored fields ------------------------------------------------------------------------


async def test_an_accepted_event_stores_what_reads_need_and_nothing_else(
    sessions: SessionFactory,
) -> None:
    await given(
        sessions,
        limit("ai_text", None, free_units=Decimal(2), credits_per_unit=Decimal(3)),
        plan={"monthly_credits": Decimal(100)},
        rows=(Workspace(organization_id="org_a", id="ws-1", name="One"), _price()),
    )
    occurred = NOW - timedelta(minutes=30)

    await record(
        sessions,
        ev(
            "ai_text",
            "5",
            "key-1",
            occurred_at=occurred,
            user_id="ann",
            workspace_id="ws-1",
            source=UsageSource.CLI,
            feature=AiFeature.AGENT,
            model="gpt-x",
            tokens=TokenCounts(input=1000, output=200),
            definition_id="def-1",
            definition_name="Weekly digest",
        ),
        ev("emails_sent", "1"),
    )

    first, second = await stored(sessions)
    assert (
        first.idempotency_key,
        first.occurred_at,
        first.received_at,
        first.cycle_start,
        first.user_id,
        first.workspace_id,
        first.source,
        first.feature,
        first.model,
        first.input_tokens,
        first.output_tokens,
        first.cost_usd,
        first.unpriced,
        first.free_units_used,
        first.credits,
        first.definition_id,
        first.definition_name,
    ) == (
        "key-1",
        occurred,
        NOW,
        MARCH,
        "ann",
        "ws-1",
        UsageSource.CLI,
        AiFeature.AGENT,
        "gpt-x",
        1000,
        200,
        Decimal("0.0045"),  # 1000 × 2.5 / M + 200 × 10 / M
        False,
        Decimal(2),
        Decimal(9),  # (5 - 2 free) × 3; no creditsPerUsd on the plan
        "def-1",
        "Weekly digest",
    )
    assert (second.source, second.occurred_at, second.cost_usd) == (
        UsageSource.API,
        NOW,
        None,
    )


async def test_without_a_subscription_everything_is_accepted_free(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await f.add_all(
            session,
            f.organization("org_a"),
            f.plan("pro"),
            f.limit("pro", "api_calls", "1"),
        )

    outcomes = await record(sessions, ev("api_calls", "50"), ev("ai_text", "1"))

    assert statuses(outcomes) == [(ACCEPTED, None)] * 2
    assert [(e.cycle_start, e.credits) for e in await stored(sessions)] == [
        (None, Decimal(0)),
        (None, Decimal(0)),
    ]
    assert await check(sessions, "org_a", "api_calls", Decimal(1), None, NOW) == (
        UsageCheck(True, Code.ALLOWED, Decimal(50), None, None)
    )


async def test_without_a_subscription_a_personal_allocation_still_applies(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await f.add_all(
            session,
            f.organization("org_a"),
            *f.member("org_a", "ann"),
            PersonalAllocation(
                organization_id="org_a",
                user_id="ann",
                meter_key="enrichments",
                limit=Decimal(3),
            ),
        )
    # Counted per UTC calendar month: February's usage does not count in March.
    await record_at(
        sessions,
        [ev("enrichments", "3", user_id="ann")],
        datetime(2026, 2, 27, tzinfo=UTC),
    )

    outcomes = await record(
        sessions,
        ev("enrichments", "3", user_id="ann"),
        ev("enrichments", "1", user_id="ann"),
    )

    assert statuses(outcomes) == [
        (ACCEPTED, None),
        (DENIED, Code.PERSONAL_ALLOCATION_EXCEEDED),
    ]


# checking -----------------------------------------------------------------------------


async def test_check_usage_answers_without_writing(sessions: SessionFactory) -> None:
    await given(sessions, limit("emails_sent", "10"))
    await record(sessions, ev("emails_sent", "8"))

    allowed = await check(sessions, "org_a", "emails_sent", Decimal(2), None, NOW)
    denied = await check(sessions, "org_a", "emails_sent", Decimal(3), None, NOW)
    unknown = await check(sessions, "org_a", "nope", Decimal(1), None, NOW)

    assert allowed == UsageCheck(
        True, Code.ALLOWED, Decimal(8), Decimal(10), Decimal(2)
    )
    assert denied == UsageCheck(
        False, Code.LIMIT_REACHED, Decimal(8), Decimal(10), Decimal(2)
    )
    assert unknown == UsageCheck(False, Code.INVALID, Decimal(0), None, None)
    assert await count(sessions, UsageEvent) == 1


# cost ---------------------------------------------------------------------------------


async def test_statements_per_call_do_not_grow_with_the_events(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    allocation = PersonalAllocation(
        organization_id="org_a", user_id="ann", meter_key="voice", limit=Decimal(10**6)
    )
    await given(
        sessions,
        limit("voice", "1000000", free_units=Decimal(10), credits_per_unit=Decimal(1)),
        plan={"monthly_credits": Decimal(10**6), "credits_per_usd": Decimal(10)},
        rows=(allocation, _price(), _grant("g1", CreditPoolKind.BONUS, "5", None)),
    )

    def batch(size: int) -> list[UsageEventSpec]:
        return [
            ev(
                "voice",
                "1",
                user_id=("ann", "bob")[n % 2],
                model="gpt-x",
                tokens=TokenCounts(input=100),
            )
            for n in range(size)
        ]

    await record_at(sessions, batch(1), NOW)  # counters, where kept, are warm now
    counts = []
    for size in (1, 1000):
        with StatementCounter(engine) as counter:
            outcomes = await record_at(sessions, batch(size), NOW)
        assert {o.status for o in outcomes} == {ACCEPTED}
        counts.append(counter.count)
    assert counts[0] == counts[1]


# concurrency --------------------------------------------------------------------------


async def test_racing_writers_never_pass_a_hard_limit(database_url: str) -> None:
    engine = create_engine(database_url, **_pool(database_url))
    sessions = session_factory(engine)
    try:
        await given(sessions, limit("enrichments", "50"))

        results = await asyncio.gather(
            *(record(sessions, ev("enrichments", "1")) for _ in range(200))
        )

        accepted = [r for [r] in results if r.status is ACCEPTED]
        assert len(accepted) == 50
        assert {r.code for [r] in results if r.status is not ACCEPTED} == {
            Code.LIMIT_REACHED
        }
        assert await used(sessions, "enrichments") == Decimal(50)
        assert await count(sessions, UsageEvent) == 50
        await counters_equal_sql(sessions, "enrichments")
    finally:
        await engine.dispose()


def _pool(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {}
    return {"pool_size": 40, "max_overflow": 10, "pool_timeout": 60}


async def test_racing_retries_of_one_event_record_it_once(database_url: str) -> None:
    engine = create_engine(database_url, **_pool(database_url))
    sessions = session_factory(engine)
    try:
        await given(sessions)

        results = await asyncio.gather(
            *(record(sessions, ev("api_calls", "1", "same-key")) for _ in range(30))
        )

        assert sorted(r.status for [r] in results) == [ACCEPTED] + [DUPLICATE] * 29
        assert await used(sessions, "api_calls") == Decimal(1)
        await counters_equal_sql(sessions, "api_calls")
    finally:
        await engine.dispose()


async def test_racing_writers_never_pass_110_percent_of_a_soft_limit(
    database_url: str,
) -> None:
    engine = create_engine(database_url, **_pool(database_url))
    sessions = session_factory(engine)
    try:
        await given(sessions, limit("enrichments", "100", enforcement=Enforcement.SOFT))

        results = await asyncio.gather(
            *(record(sessions, ev("enrichments", "1")) for _ in range(200))
        )

        assert sorted(statuses([r for [r] in results])) == sorted(
            [(ACCEPTED, None)] * 110 + [(DENIED, Code.SOFT_LIMIT_REACHED)] * 90
        )
        assert await used(sessions, "enrichments") == Decimal(110)
        assert await count(sessions, UsageEvent) == 110
        await counters_equal_sql(sessions, "enrichments")
    finally:
        await engine.dispose()


async def test_500_events_sent_twice_with_the_same_keys_count_once(
    database_url: str,
) -> None:
    engine = create_engine(database_url, **_pool(database_url))
    sessions = session_factory(engine)
    try:
        await given(
            sessions,
            limit("api_calls", "1000", credits_per_unit=Decimal("0.5")),
            plan={"monthly_credits": Decimal(1000)},
        )
        events = [ev("api_calls", "1", f"twice-{n}") for n in range(500)]
        calls = [events[first : first + 50] for first in range(0, 500, 50)]

        # Both copies of every call race each other.
        results = await asyncio.gather(
            *(record(sessions, *call) for call in calls + calls[::-1])
        )

        outcomes = [outcome for result in results for outcome in result]
        assert sum(o.status is ACCEPTED for o in outcomes) == 500
        assert sum(o.status is DUPLICATE for o in outcomes) == 500
        assert await used(sessions, "api_calls") == Decimal(500)
        assert await count(sessions, UsageEvent) == 500
        async with sessions() as session:
            spent = await session.scalar(select(func.sum(CreditCycleSpend.spent)))
        assert spent == Decimal(250)
        await counters_equal_sql(sessions, "api_calls", pools=[None])
    finally:
        await engine.dispose()


async def test_racing_spends_draw_the_pools_in_order(database_url: str) -> None:
    engine = create_engine(database_url, **_pool(database_url))
    sessions = session_factory(engine)
    try:
        late = datetime(2026, 4, 30, tzinfo=UTC)
        soon = datetime(2026, 3, 20, tzinfo=UTC)
        grants = (
            _grant("late", CreditPoolKind.BONUS, "5", late),
            _grant("soon", CreditPoolKind.BONUS, "5", soon),
            _grant("bought", CreditPoolKind.PURCHASED, "50", None),
        )
        await given(
            sessions,
            limit("api_calls", None, credits_per_unit=Decimal(1)),
            plan={"monthly_credits": Decimal(10)},
            rows=grants,
        )

        # 25 credits: MONTHLY's 10, then the bonus expiring first, then the other
        # bonus, then 5 of the purchased 50. Some events cross from one pool to next.
        spends = ["1.5", "0.5"] * 10 + ["1"] * 5
        results = await asyncio.gather(
            *(record(sessions, ev("api_calls", spend)) for spend in spends)
        )

        assert {r.status for [r] in results} == {ACCEPTED}
        async with sessions() as session:
            spent = dict(
                (await session.execute(select(CreditGrant.id, CreditGrant.spent))).all()
            )
            monthly = await session.scalar(
                select(CreditCycleSpend.spent).where(CreditCycleSpend.grant_id == "")
            )
        assert (monthly, spent) == (
            Decimal(10),
            {"soon": Decimal(5), "late": Decimal(5), "bought": Decimal(5)},
        )
        await counters_equal_sql(
            sessions, "api_calls", pools=[None, "soon", "late", "bought"]
        )
    finally:
        await engine.dispose()
