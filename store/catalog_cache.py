"""The catalog every page reads, kept per process: meters, model prices and plans.

Meters, prices, plans, their limits and seat caps change only when an operator
provisions them, yet every usage page needs them: reading them once per process
instead of once per request takes five statements off each page.

A cached catalog is used only while it is current:
- this process: `catalog_changed` (called by every provisioning function that writes
  them) moves a process-wide generation once the transaction commits;
- other processes: the gateway then moves `ug:catalog:version` in Redis
  (`announce_change`), and every request compares it (one GET) with the version the
  cache was loaded at;
- and at most `CATALOG_TTL_SECONDS` old, in case an announcement was lost (Redis
  unreachable just then) or a row was changed outside the gateway.
With Redis configured but unreachable nothing is cached: each request reads SQL.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import SessionFactory
from store.models import Meter, ModelPrice, Plan, PlanLimit, PlanSeatCap

CATALOG_TTL_SECONDS = 30.0
VERSION_KEY = "ug:catalog:version"

_generations = itertools.count(1)
_generation = 0


def local_generation() -> int:
    """Moves every time this process commits a catalog change."""
    return _generation


def _advance(*_: object) -> None:
    global _generation
    _generation = next(_generations)


def catalog_changed(session: AsyncSession) -> None:
    """The session writes meters, prices or plans: once it commits, this process's
    cached catalog is no longer current (a rollback changes nothing)."""
    event.listen(session.sync_session, "after_commit", _advance, once=True)


async def announce_change(redis: Redis | None) -> None:
    """Tell the other gateway processes (never raises: the TTL is the backstop)."""
    if redis is None:
        return
    try:
        await redis.incr(VERSION_KEY)
    except (RedisError, OSError):
        return


@dataclass(frozen=True)
class Catalog:
    """Everything provisioned that pages read, as of one load."""

    meters: list[Meter]
    """In catalog order."""
    prices: dict[str, ModelPrice]
    plans: dict[str, Plan]
    limits: dict[str, list[PlanLimit]] = field(default_factory=dict)
    seat_caps: dict[str, list[PlanSeatCap]] = field(default_factory=dict)


async def load_catalog(session: AsyncSession) -> Catalog:
    """Five small tables, read whole."""
    meters = list(await session.scalars(select(Meter).order_by(Meter.position)))
    prices = {row.model: row for row in await session.scalars(select(ModelPrice))}
    plans = {row.key: row for row in await session.scalars(select(Plan))}
    limits: dict[str, list[PlanLimit]] = defaultdict(list)
    for limit in await session.scalars(select(PlanLimit)):
        limits[limit.plan_key].append(limit)
    caps: dict[str, list[PlanSeatCap]] = defaultdict(list)
    for cap in await session.scalars(select(PlanSeatCap)):
        caps[cap.plan_key].append(cap)
    return Catalog(meters, prices, plans, dict(limits), dict(caps))


@dataclass
class _Entry:
    version: tuple[int, int]
    catalog: Catalog
    loaded: float


class CatalogCache:
    """One process's catalog, shared by its requests."""

    def __init__(
        self, redis: Redis | None, ttl_seconds: float = CATALOG_TTL_SECONDS
    ) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self._entry: _Entry | None = None

    async def catalog(self, sessions: SessionFactory) -> Catalog:
        version = await self._version()
        entry = self._entry
        if (
            version is not None
            and entry is not None
            and entry.version == version
            and time.monotonic() - entry.loaded < self.ttl_seconds
        ):
            return entry.catalog
        async with sessions() as session:
            catalog = await load_catalog(session)
        if version is not None:
            self._entry = _Entry(version, catalog, time.monotonic())
        return catalog

    async def _version(self) -> tuple[int, int] | None:
        """(this process's generation, the shared version); None: do not cache."""
        generation = local_generation()
        if self.redis is None:
            return generation, 0
        try:
            shared = await self.redis.get(VERSION_KEY)
        except (RedisError, OSError):
            return None
        return generation, int(shared or 0)
