"""Benchmark data: organizations with 10k, 1M and 10M usage events over six months.

Every organization has the same shape: one plan with 12 limited meters and 20
operation types (the 8 built-in OPERATIONS meters and 12 added with `upsert_meter`),
500 members, 50 workspaces, a monthly pool and two grants. Catalog and customers go
through `store.provisioning`; the events (`bench.events`) go in with PostgreSQL
COPY, one day per chunk, with their hourly `usage_rollups` computed by
`store.rollups._aggregate` (the write path's own rule), the per-cycle
`usage_cycle_rollups` summed from those in SQL, and the MONTHLY pool's
`credit_cycle_spend` per cycle. Chunks
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
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from auth.tokens import issue_jwt
from bench.events import (
    CREDITS_PER_UNIT,
    DAYS,
    EXTRA_OPERATIONS,
    LIMITED,
    MEMBERS,
    MODELS,
    OPERATIONS,
    PARTNER_ORGS,
    PRICES,
    ROW_COUNTS,
    SIZES,
    WORKSPACES,
    copy_events,
    user_id,
    workspace_id,
)
from rules.enums import (
    ApiKeyKind,
    BillingState,
    CreditPoolKind,
    MeterCategory,
    PlanTier,
    ReconciliationStatus,
    Resets,
    Role,
    SeatType,
)
from store import provisioning as p
from store.api_keys import create_api_key
from store.catalog import MeterSpec
from store.db import SessionFactory, create_engine, session_factory
from store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DATASET = RESULTS / "dataset.json"
SERVER = "postgresql://postgres@127.0.0.1:5432"
JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256"
TOKEN_LIFETIME = timedelta(days=30)
"""A dataset is reused for weeks, so are its users' tokens: the bench's gateways
accept tokens that live this long (JWT_MAX_LIFETIME_SECONDS; 24 h by default)."""
JWT_MAX_LIFETIME_SECONDS = int(TOKEN_LIFETIME.total_seconds()) + 86400


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
