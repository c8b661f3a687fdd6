"""The Redis check-and-reserve script decides exactly as the Python rules do.

`MemoryCounterStore` applies `rules.meters` and `rules.credits` directly; the Lua
script compares against bounds compiled from the same rules. Random batches (caps of
every enforcement, allocations, releases, free allowances, credit draws across pools
that expire, duplicates within a batch, amounts far beyond 2^53 micro-units) must get
the same decisions and leave the same counters in both.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.enums import CreditPoolKind, Enforcement, UsageDecisionCode
from store.counters import (
    Batch,
    Cap,
    Charge,
    CounterStore,
    EventPlan,
    Floor,
    Pool,
    Reserved,
)
from store.counters.memory import MemoryCounterStore
from store.counters.redis import RedisCounterStore
from store.counters.script import RESERVE_SCRIPT
from tests.store.conftest import close_counters

AT = datetime(2026, 3, 10, 12, tzinfo=UTC)
USAGE = ["t|1|a", "t|1|b", "l|c", "u|1|a|ann"]
POOLS = [
    Pool("p|1", CreditPoolKind.MONTHLY, None, Decimal(0), None),
    Pool("g|soon", CreditPoolKind.BONUS, "soon", Decimal(0), AT + timedelta(days=3)),
    Pool("g|gone", CreditPoolKind.BONUS, "gone", Decimal(0), AT - timedelta(days=1)),
    Pool("g|late", CreditPoolKind.BONUS, "late", Decimal(0), AT + timedelta(days=30)),
    Pool("g|paid", CreditPoolKind.PURCHASED, "paid", Decimal(0), None),
]
FIELDS = USAGE + [pool.field for pool in POOLS]
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def amounts(top: int = 10**12) -> st.SearchStrategy[Decimal]:
    """Six places, small and well past what a double holds in micro-units."""
    return st.one_of(
        st.decimals(min_value=0, max_value=50, places=6),
        st.integers(min_value=0, max_value=20).map(Decimal),
        st.decimals(min_value=0, max_value=top, places=6),
    )


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


caps = st.builds(
    Cap,
    field=st.sampled_from(USAGE),
    meter=st.just("m"),
    amount=st.one_of(amounts(), amounts().map(lambda a: -a)),
    limit=amounts(),
    enforcement=st.sampled_from(list(Enforcement)),
    code=st.sampled_from(
        [
            None,
            UsageDecisionCode.SPEND_CAP_REACHED,
            UsageDecisionCode.PERSONAL_ALLOCATION_EXCEEDED,
        ]
    ),
)
floors = st.builds(
    Floor,
    field=st.sampled_from(USAGE),
    meter=st.just("m"),
    amount=amounts().map(lambda a: -a),
)


@st.composite
def charges(draw: st.DrawFn) -> Charge:
    pools = None
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(POOLS[1:]), unique=True))
        pools = tuple(
            Pool(p.field, p.kind, p.grant_id, draw(amounts(10**9)), p.expires_at)
            for p in [POOLS[0], *chosen]
        )
    return Charge(
        field=draw(st.sampled_from(USAGE)),
        quantity=draw(amounts(10**9)),
        free_units=draw(optional(amounts(10**9))),
        credits_per_unit=draw(optional(amounts(1000))),
        cost_usd=draw(optional(amounts(10**6))),
        credits_per_usd=draw(optional(amounts(1000))),
        pools=pools,
        at=AT,
    )


events = st.builds(
    EventPlan,
    key=st.sampled_from([None, "k1", "k2", "k3"]),
    checks=st.lists(st.one_of(caps, floors), max_size=3).map(tuple),
    charge=optional(charges()),
    adds=st.lists(
        st.tuples(
            st.sampled_from(USAGE), st.one_of(amounts(), amounts().map(lambda a: -a))
        ),
        max_size=3,
    ).map(tuple),
    denial=st.sampled_from([None, None, None, UsageDecisionCode.AI_ACCESS_PAUSED]),
)
batches = st.tuples(
    st.lists(events, min_size=1, max_size=12),
    st.fixed_dictionaries({name: amounts() for name in FIELDS}),
)


async def _decide(
    store: CounterStore, plans: list[EventPlan], start: dict[str, Decimal]
) -> tuple[Reserved, dict[str, Decimal | None]]:
    await store.rebuild("org", 7)
    batch = Batch("org", 7, plans, loads=start, watch=FIELDS[:2])
    [outcome] = await store.reserve([batch])
    assert isinstance(outcome, Reserved)
    return outcome, await store.values("org", FIELDS)


async def _both(
    redis_url: str, plans: list[EventPlan], start: dict[str, Decimal]
) -> None:
    memory = MemoryCounterStore()
    redis = RedisCounterStore(redis_url, prefix=f"test-{uuid.uuid4().hex[:12]}")
    try:
        expected, expected_values = await _decide(memory, plans, start)
        found, found_values = await _decide(redis, plans, start)
    finally:
        await close_counters(redis)
    assert found.decisions == expected.decisions
    assert found.values == expected.values
    assert found.reservation.deltas == expected.reservation.deltas
    assert found_values == expected_values


@SETTINGS
@given(batch=batches)
def test_the_script_decides_as_the_rules(
    redis_url: str, batch: tuple[list[EventPlan], dict[str, Decimal]]
) -> None:
    plans, start = batch
    asyncio.run(_both(redis_url, plans, start))


# amounts ------------------------------------------------------------------------------

_ARITHMETIC = (
    RESERVE_SCRIPT[: RESERVE_SCRIPT.index("-- Check-and-reserve")]
    + """
local a, b = num(ARGV[1]), num(ARGV[2])
return {str(add(a, b)), str(add(a, neg(b))), cmp(a, b)}
"""
)

huge = st.integers(min_value=-(10**40), max_value=10**40)
near = st.integers(min_value=-(2**54), max_value=2**54)


async def _arithmetic(redis_url: str, pairs: list[tuple[int, int]]) -> list[Any]:
    store = RedisCounterStore(redis_url)
    try:
        script = store.redis.register_script(_ARITHMETIC)
        return [await script(args=[str(a), str(b)]) for a, b in pairs]
    finally:
        await store.aclose()


@SETTINGS
@given(pairs=st.lists(st.tuples(st.one_of(huge, near), st.one_of(huge, near))))
def test_amounts_add_and_compare_exactly_at_any_size(
    redis_url: str, pairs: list[tuple[int, int]]
) -> None:
    results = asyncio.run(_arithmetic(redis_url, pairs))

    for (a, b), (total, difference, order) in zip(pairs, results, strict=True):
        assert (int(total), int(difference), order) == (
            a + b,
            a - b,
            (a > b) - (a < b),
        )


def test_the_amounts_helpers_come_first_in_the_script() -> None:
    # The arithmetic test above runs the helpers alone, cut where the script starts.
    assert RESERVE_SCRIPT.index("local function add(") < RESERVE_SCRIPT.index(
        "-- Check-and-reserve"
    )


@pytest.mark.parametrize("value", ["0", "-1", "999999999999999", "-1000000000000000"])
def test_amounts_round_trip_through_the_script(redis_url: str, value: str) -> None:
    [(total, difference, order)] = asyncio.run(
        _arithmetic(redis_url, [(int(value), 0)])
    )

    sign = (int(value) > 0) - (int(value) < 0)
    assert (total, difference, order) == (value.encode(), value.encode(), sign)
