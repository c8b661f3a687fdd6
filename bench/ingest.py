"""Ingestion benchmark: durable usage events per second through `record_usage`.

    .venv/bin/python -m bench.ingest [--seconds 5] [--writers 4] [--counters redis]

Creates a scratch PostgreSQL database (migrated, dropped afterwards) holding one
organization on a plan that exercises every decision an event gets in production: a
hard limit on the meter, a free allowance, credits per unit drawn from the MONTHLY
pool and a bonus grant, and a personal allocation for one of its two users. Then, for
batches of 1, 100 and 1,000 events, `--writers` concurrent callers record new events
through `store.recording.record_usage` for `--seconds` each; every event is committed
to PostgreSQL before its call returns. Counters: Redis (default; keys under a prefix
of this run, deleted afterwards), `in-process` or `sql` (decided from SQL alone).

Prints events per second per batch size and the ratio to Redis's own pipelined INCR
(`redis-benchmark -P 16 -t incr -n 200000 -q`), measured in the same run.

Environment: USAGE_GATEWAY_TEST_POSTGRES_URL (default
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres), USAGE_GATEWAY_TEST_REDIS_URL
(default redis://127.0.0.1:6379/0). Never run by the tests; no assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from rules.enums import (
    BillingModel,
    BillingState,
    CreditPoolKind,
    Enforcement,
    PlanTier,
    Role,
    SubscriptionStatus,
    UsageStatus,
)
from store.counters import CounterStore
from store.counters.memory import MemoryCounterStore
from store.counters.redis import RedisCounterStore
from store.db import SessionFactory, create_engine, session_factory
from store.migrate import upgrade
from store.models import (
    CreditGrant,
    Member,
    Organization,
    PersonalAllocation,
    Plan,
    PlanLimit,
    Subscription,
    UsageEvent,
    User,
)
from store.recording import UsageEventSpec, record_usage

POSTGRES_URL = os.environ.get(
    "USAGE_GATEWAY_TEST_POSTGRES_URL",
    "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
)
REDIS_URL = os.environ.get("USAGE_GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SIZES = (1, 100, 1000)
ORG = "bench-org"
_keys = itertools.count()


@dataclass
class Result:
    size: int
    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def redis_benchmark(url: str) -> float:
    """Pipelined INCR per second, as `redis-benchmark -P 16 -t incr` reports it."""
    if shutil.which("redis-benchmark") is None:
        raise SystemExit(
            "redis-benchmark is not installed (it ships with redis-server)"
        )
    parsed = make_url(url.replace("redis://", "postgresql://", 1))
    output = subprocess.run(
        [
            "redis-benchmark",
            "-h",
            parsed.host or "127.0.0.1",
            "-p",
            str(parsed.port or 6379),
            "-P",
            "16",
            "-t",
            "incr",
            "-n",
            "200000",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.findall(r"INCR:\s*([\d.]+)\s+requests per second", output)
    if not found:
        raise SystemExit(f"could not read redis-benchmark's output:\n{output}")
    return float(found[-1])


async def _admin(statement: str) -> None:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def provision(sessions: SessionFactory, now: datetime) -> None:
    async with sessions() as session:
        session.add_all(
            [
                Organization(
                    id=ORG,
                    name="Benchmark",
                    billing_model=BillingModel.CREDITS,
                    billing_state=BillingState.PAID,
                    trial_approved=False,
                    allowance_ui_details=False,
                    show_dollars_preview=False,
                    workspace_time_balance_hours=Decimal(0),
                    managed_ai_balance_usd=Decimal(0),
                    created_at=now,
                ),
                Plan(
                    key="bench",
                    name="Bench",
                    tier=PlanTier.BUSINESS,
                    currency="USD",
                    monthly_credits=Decimal(10**9),
                ),
            ]
        )
        await session.flush()
        session.add_all(
            [
                PlanLimit(
                    plan_key="bench",
                    meter_key="api_calls",
                    limit=Decimal(10**12),
                    per_seat=False,
                    enforcement=Enforcement.HARD,
                    free_units=Decimal(1000),
                    credits_per_unit=Decimal("0.01"),
                ),
                Subscription(
                    organization_id=ORG,
                    plan_key="bench",
                    seats=10,
                    status=SubscriptionStatus.ACTIVE,
                    anchor=now - timedelta(days=3),
                    payment_retries_exhausted=False,
                    updated_at=now,
                ),
                CreditGrant(
                    id="bench-bonus",
                    organization_id=ORG,
                    kind=CreditPoolKind.BONUS,
                    amount=Decimal(10**6),
                    spent=Decimal(0),
                    granted_at=now,
                    expires_at=now + timedelta(days=60),
                ),
            ]
            + [User(id=user, email=f"{user}@bench", name=user) for user in "ab"]
        )
        await session.flush()
        session.add_all(
            [
                Member(
                    organization_id=ORG, user_id=user, role=Role.MEMBER, joined_at=now
                )
                for user in "ab"
            ]
            + [
                PersonalAllocation(
                    organization_id=ORG,
                    user_id="a",
                    meter_key="api_calls",
                    limit=Decimal(10**12),
                )
            ]
        )
        await session.commit()


def batch(size: int) -> list[UsageEventSpec]:
    return [
        UsageEventSpec(
            idempotency_key=f"bench-{next(_keys)}",
            organization_id=ORG,
            meter="api_calls",
            quantity=Decimal(1),
            user_id="ab"[n % 2],
        )
        for n in range(size)
    ]


async def measure(
    sessions: SessionFactory,
    counters: CounterStore | None,
    size: int,
    writers: int,
    seconds: float,
) -> Result:
    """New events from `writers` concurrent callers for `seconds` (after a warm-up)."""
    for _ in range(2):
        await record_usage(sessions, batch(size), datetime.now(UTC), counters)
    recorded = 0
    deadline = time.perf_counter() + seconds

    async def writer() -> None:
        nonlocal recorded
        while time.perf_counter() < deadline:
            outcomes = await record_usage(
                sessions, batch(size), datetime.now(UTC), counters
            )
            if any(o.status is not UsageStatus.ACCEPTED for o in outcomes):
                raise SystemExit(f"not accepted: {outcomes[0].message}")
            recorded += len(outcomes)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return Result(size, recorded, time.perf_counter() - started)


def open_counters(kind: str) -> CounterStore | None:
    if kind == "redis":
        return RedisCounterStore(REDIS_URL, prefix=f"bench-{uuid.uuid4().hex[:8]}")
    if kind == "in-process":
        return MemoryCounterStore()
    return None


async def main(seconds: float, writers: int, kind: str) -> None:
    database = f"ug_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{database}"')
    url = make_url(POSTGRES_URL).set(database=database)
    engine = create_engine(
        url.render_as_string(hide_password=False), pool_size=writers + 2
    )
    counters = open_counters(kind)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        await provision(sessions, datetime.now(UTC))
        results = [
            await measure(sessions, counters, size, writers, seconds) for size in SIZES
        ]
        async with sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(UsageEvent))
    finally:
        if isinstance(counters, RedisCounterStore):
            async for key in counters.redis.scan_iter(match=f"{counters.prefix}:*"):
                await counters.redis.delete(key)
        if counters is not None:
            await counters.aclose()
        await engine.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    incr = redis_benchmark(REDIS_URL)
    print(f"counters: {kind}, writers: {writers}, {seconds:g} s per batch size")
    print(f"redis-benchmark -P 16 -t incr: {incr:,.0f} INCR/s")
    print(f"{'batch':>6} {'events/s':>10} {'ms/call':>8} {'vs INCR':>8}")
    for result in results:
        calls = result.events / result.size
        latency = result.seconds / calls * writers * 1000
        print(
            f"{result.size:>6} {result.per_second:>10,.0f} {latency:>8.1f} "
            f"{result.per_second / incr:>8.2%}"
        )
    print(f"events stored (durable, warm-ups included): {stored:,}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument(
        "--counters", choices=("redis", "in-process", "sql"), default="redis"
    )
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.writers, args.counters))
