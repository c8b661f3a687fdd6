"""`usage-gateway worker`: sync every organization's daily allowance on an interval.

Runs are aligned to the interval (a run at 10:05 with a 5-minute interval syncs "as of
10:05:00"), so several worker processes agree on the instant and the unique snapshot
index lets exactly one of them store each organization's snapshot. One organization's
failure is logged and the others go on. SIGTERM/SIGINT finish the current organization
and stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime

from sqlalchemy import select

from gateway.logs import configure_logging
from gateway.settings import Settings
from store.allowance import sync_daily_allowance
from store.db import SessionFactory, create_engine, session_factory
from store.generations import Generations
from store.models import Organization
from store.redis_client import redis_client

log = logging.getLogger("usage_gateway.worker")


def run_instant(now: datetime, interval_seconds: float) -> datetime:
    """The interval boundary at or before `now`: what every worker agrees to sync."""
    seconds = int(interval_seconds) or 1
    stamp = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(stamp, UTC)


async def sync_all(
    sessions: SessionFactory, at: datetime, generations: Generations | None = None
) -> tuple[int, int]:
    """One pass over every organization; returns (created, failed). A new snapshot
    moves its organization's write generation: gateways' cached answers show it."""
    async with sessions() as session:
        organization_ids = list(
            await session.scalars(select(Organization.id).order_by(Organization.id))
        )
    created = failed = 0
    for organization_id in organization_ids:
        try:
            async with sessions() as session:
                _, was_created = await sync_daily_allowance(
                    session, organization_id, at
                )
            created += was_created
            if was_created and generations is not None:
                await generations.move([organization_id])
        except Exception:
            failed += 1
            log.exception("daily allowance sync failed for %s", organization_id)
    return created, failed


async def run_worker(settings: Settings, *, once: bool = False) -> int:
    configure_logging(settings.log_level, settings.log_format)
    engine = create_engine(settings.database_url, parallel_scans=True)
    sessions = session_factory(engine)
    redis = None if settings.redis_url is None else redis_client(settings.redis_url)
    generations = None if redis is None else Generations(redis)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        while not stopping.is_set():
            at = run_instant(datetime.now(UTC), settings.worker_interval_seconds)
            created, failed = await sync_all(sessions, at, generations)
            log.info(
                "synced daily allowances as of %s: %d new, %d failed",
                at,
                created,
                failed,
            )
            if once:
                break
            next_run = at.timestamp() + settings.worker_interval_seconds
            delay = max(0.0, next_run - datetime.now(UTC).timestamp())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=delay)
    finally:
        await engine.dispose()
        if redis is not None:
            await redis.aclose()
    return 0
