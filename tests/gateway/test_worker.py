"""`usage-gateway worker`: every organization synced once per run, failures isolated."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, text

from gateway.worker import run_instant, sync_all
from store.db import SessionFactory, create_engine, session_factory
from store.models import AllowanceSnapshot
from tests import factories as f

AT = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
CLI = [sys.executable, "-m", "gateway.cli"]


async def _organizations(sessions: SessionFactory, *ids: str) -> None:
    async with sessions() as session:
        await f.add_all(
            session,
            f.plan("pro", daily_allowance_units=Decimal(100)),
            *(f.organization(id) for id in ids),
            *(f.subscription(id, "pro") for id in ids),
        )


def test_runs_align_to_the_interval_so_workers_agree_on_the_instant() -> None:
    assert run_instant(AT + timedelta(seconds=299), 300) == AT
    assert run_instant(AT + timedelta(seconds=300), 300) == AT + timedelta(minutes=5)


async def test_two_workers_at_once_store_one_snapshot_per_organization(
    sessions: SessionFactory,
) -> None:
    await _organizations(sessions, "org_a", "org_b", "org_c")

    results = await asyncio.gather(sync_all(sessions, AT), sync_all(sessions, AT))

    async with sessions() as session:
        stored = await session.execute(
            select(AllowanceSnapshot.organization_id, func.count())
            .group_by(AllowanceSnapshot.organization_id)
            .order_by(AllowanceSnapshot.organization_id)
        )
        assert stored.all() == [("org_a", 1), ("org_b", 1), ("org_c", 1)]
    assert sum(created for created, _ in results) == 3
    assert [failed for _, failed in results] == [0, 0]


async def test_one_organizations_failure_does_not_stop_the_others(
    sqlite_url: str,
) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await _organizations(sessions, "org_a", "org_broken", "org_c")
    async with sessions() as session:
        await f.add_all(
            session,
            *(f.event("org_broken", "ai_tokens", "1", AT, model="m") for _ in range(2)),
        )
        # Two costs whose sum overflows SQLite's 64-bit integers: that sync fails.
        await session.execute(
            text(
                "UPDATE usage_events SET cost_usd = 9000000000000000000 "
                "WHERE organization_id = 'org_broken'"
            )
        )
        await session.commit()

    created, failed = await sync_all(sessions, AT)

    async with sessions() as session:
        synced = list(
            await session.scalars(
                select(AllowanceSnapshot.organization_id).order_by(
                    AllowanceSnapshot.organization_id
                )
            )
        )
    await engine.dispose()
    assert (created, failed) == (2, 1)
    assert synced == ["org_a", "org_c"]


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USAGE_GATEWAY_")}
    env["USAGE_GATEWAY_DATABASE_URL"] = url
    env["USAGE_GATEWAY_WORKER_INTERVAL_SECONDS"] = "3600"
    return env


async def test_two_worker_processes_never_store_a_snapshot_twice(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    sessions = session_factory(engine)
    await _organizations(sessions, "org_a", "org_b")

    processes = [
        subprocess.Popen(
            [*CLI, "worker", "--once"], env=_env(postgres_url), stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err

    async with sessions() as session:
        rows = await session.execute(
            select(
                AllowanceSnapshot.organization_id,
                AllowanceSnapshot.synced_at,
                func.count(),
            ).group_by(AllowanceSnapshot.organization_id, AllowanceSnapshot.synced_at)
        )
        counts = [count for _, _, count in rows]
    await engine.dispose()
    assert counts
    assert set(counts) == {1}
    assert len(counts) in (2, 4)  # 4 only if the two runs straddled an hour boundary


def test_sigterm_stops_the_worker_cleanly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'worker.sqlite3'}"
    process = subprocess.Popen(
        [*CLI, "worker"], env=_env(url), stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    for line in process.stderr:
        if "synced daily allowances" in line or time.monotonic() > deadline:
            break

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=20) == 0
    process.stderr.close()
