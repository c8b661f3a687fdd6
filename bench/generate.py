"""Benchmark data: organizations with 10k, 1M and 10M usage events over six months.

Every organization has the same shape: one plan with 12 limited meters and 20
operation types (the 8 built-in OPERATIONS meters and 12 added with `upsert_meter`),
500 members, 50 workspaces, a monthly pool and two grants. Catalog and customers go
through `store.provisioning`; the events go in with PostgreSQL COPY, one day per
chunk, with their hourly `usage_rollups` computed by `store.rollups._aggregate` (the
write path's own rule), the per-cycle `usage_cycle_rollups` summed from those in SQL,
and the MONTHLY pool's `credit_cycle_spend` per cycle. Chunks
are generated in worker processes while the main process copies the previous ones.

Also loads `org_partner_000..099` (small organizations a PARTNER key reads), the
`org_ingest` organization recordUsage writes into, and, in a second database, the
`org_rows_{10,100,1000}` organizations with that many members and operation types
(for the statement counts).

    .venv/bin/python -m bench.generate [--sizes 10k,1m[,10m]] [--database ug_bench]

Writes `bench/results/dataset.json` (database URL, organizations, instants, keys)
for `bench.run`. Never run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg

from auth.tokens import issue_jwt
from rules.cycles import cycle_for
from rules.enums import (
    AiFeature,
    ApiKeyKind,
    BillingState,
    CreditPoolKind,
    MeterCategory,
    ModelTier,
    PlanTier,
    ReconciliationStatus,
    Resets,
    Role,
    SeatType,
    UsageSource,
)
from store import provisioning as p
from store.api_keys import create_api_key
from store.catalog import MeterSpec
from store.db import SessionFactory, create_engine, session_factory
from store.migrate import upgrade
from store.rollups import _aggregate

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DATASET = RESULTS / "dataset.json"
SERVER = "postgresql://postgres@127.0.0.1:5432"
JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256"
TOKEN_LIFETIME = timedelta(days=30)
"""A dataset is reused for weeks, so are its users' tokens: the bench's gateways
accept tokens that live this long (JWT_MAX_LIFETIME_SECONDS; 24 h by default)."""
JWT_MAX_LIFETIME_SECONDS = int(TOKEN_LIFETIME.total_seconds()) + 86400

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


# ------------------------------------------------------------------ provisioning


async def catalog(sessions: SessionFactory, extra_operations: Sequence[str]) -> None:
    async with sessions() as session, session.begin():
        for key in extra_operations:
            await p.upsert_meter(
                session,
                MeterSpec(
                    key,
                    f"Operation {key.rsplit('_', 1)[-1]}",
                    MeterCategory.OPERATIONS,
                    "units",
                    Resets.CYCLE,
                ),
            )
        for model, tier in MODELS:
            input_price, output_price = PRICES[model]
            await p.set_model_price(
                session, p.ModelPriceSpec(model, tier, input_price, output_price)
            )


async def plan(sessions: SessionFactory, key: str, operations: Sequence[str]) -> None:
    async with sessions() as session, session.begin():
        await p.upsert_plan(
            session,
            p.PlanSpec(
                key,
                f"Bench {key}",
                PlanTier.BUSINESS,
                price_monthly_cents=49_900,
                price_annual_cents=499_000,
                monthly_credits=Decimal(50_000_000),
                credits_per_usd=Decimal(10),
                daily_allowance_units=Decimal(1_000),
                seat_caps=((SeatType.POWER, 2_000), (SeatType.COLLABORATOR, 2_000)),
                limits=(
                    *(
                        p.PlanLimitSpec(meter, Decimal(1_000_000_000))
                        for meter in LIMITED
                    ),
                    *(
                        p.PlanLimitSpec(
                            meter,
                            free_units=Decimal(100),
                            credits_per_unit=CREDITS_PER_UNIT,
                        )
                        for meter in operations
                    ),
                ),
            ),
        )


async def organization(
    sessions: SessionFactory,
    org_id: str,
    plan_key: str,
    anchor: datetime,
    members: int,
    workspaces: int,
) -> None:
    async with sessions() as session, session.begin():
        await p.upsert_organization(
            session,
            p.OrganizationSpec(
                org_id,
                f"Bench {org_id}",
                billing_state=BillingState.PAID,
                allowance_ui_details=True,
            ),
            anchor,
        )
        await p.set_subscription(
            session,
            p.SubscriptionSpec(org_id, plan_key, members + 10, anchor=anchor),
            anchor,
        )
        for index in range(members):
            await p.upsert_member(
                session,
                p.MemberSpec(
                    org_id,
                    user_id(org_id, index),
                    f"user{index:04}@{org_id}.example.com",
                    f"User {index:04}",
                    Role.ADMIN if index == 0 else Role.MEMBER,
                    teams=(f"Team {index % 7}",),
                    seat_type=SeatType.POWER if index % 3 else SeatType.COLLABORATOR,
                ),
                anchor,
            )
        for index in range(workspaces):
            await p.upsert_workspace(
                session,
                p.WorkspaceSpec(
                    org_id,
                    workspace_id(org_id, index),
                    f"Workspace {index}",
                    f"group_{index % 5}",
                ),
            )
        for grant, kind, expires in (
            ("bonus", CreditPoolKind.BONUS, anchor + timedelta(days=400)),
            ("bought", CreditPoolKind.PURCHASED, None),
        ):
            await p.grant_credits(
                session,
                p.CreditGrantSpec(
                    org_id, kind, Decimal(10_000), expires, id=f"{org_id}_{grant}"
                ),
                anchor,
            )
        await p.set_reconciliation(
            session,
            p.ReconciliationSpec(
                org_id, ReconciliationStatus.RECONCILED, Decimal(3), anchor
            ),
        )


async def key(
    sessions: SessionFactory, kind: ApiKeyKind, name: str, orgs: tuple[str, ...]
) -> str:
    async with sessions() as session, session.begin():
        _, secret = await create_api_key(session, kind, name, orgs, datetime.now(UTC))
    return secret


# ------------------------------------------------------------------------ databases


async def recreate(database: str) -> str:
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


async def drop(database: str) -> None:
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


async def generate(
    sizes: Sequence[str], database: str, output: Path = DATASET
) -> dict[str, Any]:
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end.replace(minute=0) - timedelta(days=DAYS)
    anchor = start.replace(day=1, hour=0)
    assert (anchor.minute, anchor.second, anchor.microsecond) == (0, 0, 0)
    url = await recreate(database)
    rows_url = await recreate(f"{database}_rows")
    engine = create_engine(url)
    sessions = session_factory(engine)
    pool = await asyncpg.create_pool(
        f"{SERVER}/{database}",
        min_size=1,
        max_size=2,
        server_settings={"synchronous_commit": "off"},
    )
    dataset: dict[str, Any] = {
        "database_url": url,
        "rows_database_url": rows_url,
        "jwt_secret": JWT_SECRET,
        "at": end.isoformat(),
        "usage_orgs": {},
    }
    started = time.perf_counter()
    try:
        await catalog(sessions, EXTRA_OPERATIONS)
        await plan(sessions, "bench", OPERATIONS)
        for size in sizes:
            org_id = f"org_events_{size}"
            await organization(sessions, org_id, "bench", anchor, MEMBERS, WORKSPACES)
            await copy_events(pool, org_id, SIZES[size], start, end, anchor)
            dataset["usage_orgs"][size] = {
                "id": org_id,
                "events": SIZES[size],
                "admin": user_id(org_id, 0),
                "token": issue_jwt(
                    user_id(org_id, 0), JWT_SECRET, end + TOKEN_LIFETIME
                ),
            }
        partners = tuple(f"org_partner_{index:03}" for index in range(PARTNER_ORGS))
        for org_id in partners:
            await organization(sessions, org_id, "bench", anchor, 3, 2)
            await copy_events(pool, org_id, 200, start, end, anchor, 3, 2)
        await organization(sessions, "org_ingest", "bench", anchor, 5, 2)
        dataset["partner_orgs"] = list(partners)
        dataset["partner_key"] = await key(
            sessions, ApiKeyKind.PARTNER, "bench partner", partners
        )
        dataset["ingest_org"] = "org_ingest"
        dataset["ingest_users"] = [user_id("org_ingest", i) for i in range(5)]
        dataset["service_key"] = await key(
            sessions, ApiKeyKind.SERVICE, "bench service", ("org_ingest",)
        )
        checked = dataset["usage_orgs"][sizes[-1]]["id"]
        dataset["check_org"] = checked
        dataset["check_key"] = await key(
            sessions, ApiKeyKind.SERVICE, "bench check", (checked,)
        )
        async with pool.acquire() as connection:
            await connection.execute("VACUUM ANALYZE")
        print(f"  {database}: loaded in {time.perf_counter() - started:.1f} s")
        dataset["rows_orgs"] = await generate_rows(rows_url, start, end, anchor)
    finally:
        await pool.close()
        await engine.dispose()
    dataset["generated_in_seconds"] = round(time.perf_counter() - started, 1)
    save_dataset(dataset, output)
    return dataset


def save_dataset(dataset: dict[str, Any], output: Path) -> None:
    """Written once, at the end of a load that took minutes: blocking is harmless."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(dataset, indent=2) + "\n")


async def generate_rows(
    url: str, start: datetime, end: datetime, anchor: datetime
) -> dict[str, Any]:
    """org_rows_N: N members and N operation types, 20 events per operation."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    database = url.rsplit("/", 1)[-1]
    pool = await asyncpg.create_pool(f"{SERVER}/{database}", min_size=1, max_size=2)
    extra = tuple(f"op_row_{index:04}" for index in range(max(ROW_COUNTS)))
    orgs: dict[str, Any] = {}
    try:
        await catalog(sessions, extra)
        for count in ROW_COUNTS:
            org_id = f"org_rows_{count}"
            operations = extra[:count]
            await plan(sessions, f"rows_{count}", operations)
            await organization(sessions, org_id, f"rows_{count}", anchor, count, 5)
            await copy_events(
                pool, org_id, 20 * count, start, end, anchor, count, 5, operations
            )
            orgs[str(count)] = {
                "id": org_id,
                "token": issue_jwt(
                    user_id(org_id, 0), JWT_SECRET, end + TOKEN_LIFETIME
                ),
            }
        async with pool.acquire() as connection:
            await connection.execute("VACUUM ANALYZE")
    finally:
        await pool.close()
        await engine.dispose()
    return orgs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,1m")
    parser.add_argument("--database", default="ug_bench")
    parser.add_argument(
        "--output", type=Path, default=DATASET, help="where to write the dataset file"
    )
    args = parser.parse_args()
    sizes = [size.strip().lower() for size in args.sizes.split(",") if size.strip()]
    unknown = set(sizes) - set(SIZES)
    if unknown:
        parser.error(f"unknown sizes: {sorted(unknown)} (known: {list(SIZES)})")
    asyncio.run(generate(sizes, args.database, args.output))


if __name__ == "__main__":
    main()
