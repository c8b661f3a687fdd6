"""What the benchmark dataset holds and how its events are made.

The shape every organization shares (sizes, meters, operation types, models and
prices, members and workspaces) and the events: generated one day per chunk in
worker processes, with their hourly rollups by the write path's own rule, and copied
into PostgreSQL with COPY (`copy_events`). `bench.generate` provisions the
organizations around them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, NamedTuple

import asyncpg

from rules.cycles import cycle_for
from rules.enums import (
    AiFeature,
    ModelTier,
    UsageSource,
)
from store.rollups import _aggregate

SIZES = {"10k": 10_000, "1m": 1_000_000, "10m": 10_000_000}
DAYS = 182
MEMBERS = 500
WORKSPACES = 50
PARTNER_ORGS = 100
ROW_COUNTS = (10, 100, 1000)

LIMITED = (
    "contacts",
    "companies",
    "storage_bytes",
    "emails_sent",
    "ai_tokens",
    "enrichments",
    "workflow_executions",
    "import_rows",
    "export_rows",
    "lead_captures",
    "api_calls",
    "ai_spend_usd",
)
BUILTIN_OPERATIONS = (
    "voice",
    "recording",
    "transcription",
    "realtime",
    "sms",
    "mms",
    "ai_text",
    "email",
)
EXTRA_OPERATIONS = tuple(f"op_extra_{index:02}" for index in range(1, 13))
OPERATIONS = BUILTIN_OPERATIONS + EXTRA_OPERATIONS
# Events land on every meter but the AI budget, which priced AI events feed.
EVENT_METERS = tuple(m for m in LIMITED if m != "ai_spend_usd") + OPERATIONS
MODELS = (("bench-large", ModelTier.STANDARD), ("bench-fast", ModelTier.FAST))
# Dollars per million tokens, input and output: cost = tokens x price / 1e6.
PRICES = {
    "bench-large": (Decimal(3), Decimal(15)),
    "bench-fast": (Decimal(1), Decimal(4)),
}
CREDITS_PER_UNIT = Decimal(1)

EVENT_COLUMNS = (
    "organization_id",
    "idempotency_key",
    "meter_key",
    "quantity",
    "occurred_at",
    "received_at",
    "cycle_start",
    "user_id",
    "workspace_id",
    "source",
    "feature",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "unpriced",
    "credits",
    "free_units_used",
)
ROLLUP_COLUMNS = (
    "organization_id",
    "meter_key",
    "dimension",
    "dimension_key",
    "hour",
    "quantity",
    "credits",
    "cost_usd",
    "free_units_used",
    "events",
    "unpriced_events",
)


class Event(NamedTuple):
    """A generated event: a `RollupEvent` for `_aggregate`, fields in COPY order."""

    organization_id: str
    idempotency_key: str
    meter_key: str
    quantity: Decimal
    occurred_at: datetime
    received_at: datetime
    cycle_start: datetime
    user_id: str | None
    workspace_id: str | None
    source: UsageSource
    feature: AiFeature | None
    model: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: Decimal | None
    unpriced: bool
    credits: Decimal
    free_units_used: Decimal


@dataclass(frozen=True)
class Chunk:
    """One slice of an organization's events: generated and aggregated in a worker."""

    organization_id: str
    index: int
    start: datetime
    end: datetime
    count: int
    first_key: int
    anchor: datetime
    users: int
    workspaces: int
    operations: tuple[str, ...]


def user_id(org_id: str, index: int) -> str:
    return f"{org_id}_u{index:04}"


def workspace_id(org_id: str, index: int) -> str:
    return f"{org_id}_w{index:03}"


def _quantities() -> list[Decimal]:
    return [Decimal(n) for n in range(1, 21)]


def _ai_costs() -> list[tuple[str, int, int, Decimal]]:
    """A few token mixes per model, priced once (Decimal arithmetic is not free)."""
    mixes = []
    for model, (input_price, output_price) in PRICES.items():
        for tokens_in, tokens_out in ((1_000, 200), (4_000, 800), (20_000, 1_500)):
            cost = (tokens_in * input_price + tokens_out * output_price) / 1_000_000
            mixes.append((model, tokens_in, tokens_out, cost.quantize(Decimal("1e-6"))))
    return mixes


def make_chunk(chunk: Chunk) -> tuple[list[Event], list[tuple[Any, ...]], Decimal]:
    """The chunk's events, their rollup rows, and the credits they spent.

    Chunks are whole hours (the last may end mid-hour), so no rollup row spans two
    chunks and each chunk's rows can be copied as they are.
    """
    rng = random.Random(f"{chunk.organization_id}/{chunk.index}")
    quantities = _quantities()
    ai_mixes = _ai_costs()
    features = list(AiFeature)
    sources = list(UsageSource)
    span = (chunk.end - chunk.start).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(chunk.count))
    cycle_start = cycle_for(chunk.anchor, chunk.start).start
    zero = Decimal(0)
    operations = set(chunk.operations)
    events: list[Event] = []
    credits = zero
    meters = (*EVENT_METERS[:11], *chunk.operations)
    for position, offset in enumerate(offsets):
        at = chunk.start + timedelta(seconds=offset)
        meter = meters[rng.randrange(len(meters))]
        user = user_id(chunk.organization_id, rng.randrange(chunk.users))
        workspace = workspace_id(chunk.organization_id, rng.randrange(chunk.workspaces))
        source = sources[rng.randrange(3)]
        key = f"g{chunk.first_key + position}"
        if meter == "ai_tokens":
            model, tokens_in, tokens_out, cost = ai_mixes[rng.randrange(len(ai_mixes))]
            events.append(
                Event(
                    chunk.organization_id,
                    key,
                    meter,
                    Decimal(tokens_in + tokens_out),
                    at,
                    at,
                    cycle_start,
                    user,
                    workspace,
                    source,
                    features[rng.randrange(len(features))],
                    model,
                    tokens_in,
                    tokens_out,
                    0,
                    0,
                    cost,
                    False,
                    zero,
                    zero,
                )
            )
            continue
        quantity = quantities[rng.randrange(len(quantities))]
        spent = quantity * CREDITS_PER_UNIT if meter in operations else zero
        credits += spent
        events.append(
            Event(
                chunk.organization_id,
                key,
                meter,
                quantity,
                at,
                at,
                cycle_start,
                user,
                workspace,
                source,
                None,
                None,
                0,
                0,
                0,
                0,
                None,
                False,
                spent,
                zero,
            )
        )
    rollups = [
        (*key, t.quantity, t.credits, t.cost_usd, t.free_units_used, t.events, 0)
        for key, t in _aggregate(events).items()
    ]
    return events, rollups, credits


def chunks(
    org_id: str,
    count: int,
    start: datetime,
    end: datetime,
    anchor: datetime,
    users: int,
    workspaces: int,
    operations: tuple[str, ...],
) -> Iterator[Chunk]:
    """Day-long chunks (split at cycle starts), the events spread evenly over time."""
    edges = [start]
    day = start
    while day < end:
        following = min(day + timedelta(days=1), end)
        cycle_end = cycle_for(anchor, day).end
        if day < cycle_end < following:
            edges.append(cycle_end)
        edges.append(following)
        day = following
    total = (end - start).total_seconds()
    placed = 0
    for index, (first, last) in enumerate(pairwise(edges)):
        upto = round(count * (last - start).total_seconds() / total)
        yield Chunk(
            org_id,
            index,
            first,
            last,
            upto - placed,
            placed,
            anchor,
            users,
            workspaces,
            operations,
        )
        placed = upto


async def copy_events(
    pool: asyncpg.Pool,
    org_id: str,
    count: int,
    start: datetime,
    end: datetime,
    anchor: datetime,
    users: int = MEMBERS,
    workspaces: int = WORKSPACES,
    operations: tuple[str, ...] = OPERATIONS,
) -> None:
    """Generate in worker processes, COPY here; two chunks in flight at a time."""
    if count == 0:
        return
    loop = asyncio.get_running_loop()
    credits_by_cycle: dict[datetime, Decimal] = defaultdict(Decimal)
    plan = list(
        chunks(org_id, count, start, end, anchor, users, workspaces, operations)
    )
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as workers:
        pending = [loop.run_in_executor(workers, make_chunk, c) for c in plan[:3]]
        queued = 3
        for chunk in plan:
            events, rollups, credits = await pending.pop(0)
            if queued < len(plan):
                pending.append(loop.run_in_executor(workers, make_chunk, plan[queued]))
                queued += 1
            credits_by_cycle[cycle_for(anchor, chunk.start).start] += credits
            async with pool.acquire() as connection:
                await connection.copy_records_to_table(
                    "usage_events", records=events, columns=EVENT_COLUMNS
                )
                await connection.copy_records_to_table(
                    "usage_rollups", records=rollups, columns=ROLLUP_COLUMNS
                )
    async with pool.acquire() as connection:
        await connection.executemany(
            "INSERT INTO credit_cycle_spend "
            "(organization_id, cycle_start, grant_id, kind, spent) "
            "VALUES ($1, $2, '', 'MONTHLY', $3)",
            [
                (org_id, cycle, spent)
                for cycle, spent in sorted(credits_by_cycle.items())
            ],
        )
        await connection.execute(CYCLE_ROLLUPS, org_id)
    elapsed = time.perf_counter() - started
    print(f"  {org_id}: {count:,} events in {elapsed:.1f} s", flush=True)


CYCLE_ROLLUPS = """
INSERT INTO usage_cycle_rollups (
    organization_id, meter_key, dimension, dimension_key, cycle_start,
    quantity, credits, cost_usd, free_units_used, events, unpriced_events
)
SELECT organization_id, meter_key, dimension, dimension_key,
    date_trunc('month', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
    sum(quantity), sum(credits), sum(cost_usd), sum(free_units_used), sum(events),
    sum(unpriced_events)
FROM usage_rollups WHERE organization_id = $1
GROUP BY 1, 2, 3, 4, 5
"""
"""The per-cycle rows from the hourly ones: the bench plans' cycles are calendar
months starting at midnight UTC (`generate` checks), so each hour lies in the month
it starts in."""
