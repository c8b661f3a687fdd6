"""Usage aggregates: rollup sums, credit pools, allocations and prices.

Every rollup sum a request needs goes through `RollupSums`; the loader turns one batch
of (organization, dimension, range) keys into a single SQL statement.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.loaders.base import StoreLoader, many_per_key
from resolvers.loaders.shared import SharedLoader
from store.counters import Batch, CounterStore, CountersUnavailable, Reserved
from store.counters.reads import CounterRead, read_counters
from store.db import SessionFactory
from store.models import (
    CreditCycleSpend,
    CreditDraw,
    CreditGrant,
    PersonalAllocation,
    UsageEvent,
    Workspace,
    WorkspaceGroup,
)
from store.rollup_sums import sum_rollups_many
from store.rollups import RollupRequest, Totals
from store.write_queue import write_queue


class RollupSums(StoreLoader[RollupRequest, dict[tuple[str, str], Totals]]):
    async def fetch(
        self, session: AsyncSession, keys: list[RollupRequest]
    ) -> list[dict[tuple[str, str], Totals]]:
        return await sum_rollups_many(session, keys)


class HotCounters(SharedLoader[CounterRead, dict[str, Decimal] | None]):
    """Current-cycle counters from the counter store (None: read SQL instead).

    A batch costs one script call per organization, sent together, and SQL only
    for fields the counters have not held yet.

    On SQLite (the embedded default) counters found missing or stale are filled
    only when no write is queued or being recorded (`store.write_queue`), holding
    the writer's turn meanwhile: a rebuild then cannot drop a reservation whose
    commit is pending, and a reader, which holds the request's connection, never
    waits for writers. Otherwise those keys read SQL (None). (Only the one reader
    holding the turn takes a second connection: readers cannot exhaust the pool
    waiting for one another, as they did when every page's fill took one.)
    """

    def __init__(self, sessions: SessionFactory, store: CounterStore) -> None:
        super().__init__()
        self.sessions = sessions
        self.store = store
        self.queue = write_queue(sessions)

    async def batch_load_fn(
        self, keys: list[CounterRead]
    ) -> list[dict[str, Decimal] | None]:
        if self.queue is None:
            return await read_counters(self.sessions, self.store, keys)
        found = await asyncio.gather(*(self._held(key) for key in keys))
        pending = [
            key for key, values in zip(keys, found, strict=True) if values is None
        ]
        if pending:
            async with self.queue.turn_if_free() as free:
                if free:
                    filled = await read_counters(self.sessions, self.store, pending)
                    by_key = dict(zip(pending, filled, strict=True))
                    found = [
                        by_key.get(key, values)
                        for key, values in zip(keys, found, strict=True)
                    ]
        return found

    async def _held(self, key: CounterRead) -> dict[str, Decimal] | None:
        """What the counters hold for `key` at its version, without SQL."""
        batch = Batch(key.organization_id, key.version, (), watch=key.fields)
        try:
            outcome = await self.store.check(batch)
        except CountersUnavailable:
            return None
        return outcome.values if isinstance(outcome, Reserved) else None


class GrantsByOrganization(StoreLoader[str, list[CreditGrant]]):
    async def fetch(
        self, session: AsyncSession, keys: list[str]
    ) -> list[list[CreditGrant]]:
        rows = await session.scalars(
            select(CreditGrant)
            .where(CreditGrant.organization_id.in_(keys))
            .order_by(CreditGrant.granted_at, CreditGrant.id)
        )
        return many_per_key(rows, keys, lambda row: row.organization_id)


class CycleSpendByOrganization(
    StoreLoader[tuple[str, datetime], list[CreditCycleSpend]]
):
    """What each pool spent in one cycle of one organization."""

    async def fetch(
        self, session: AsyncSession, keys: list[tuple[str, datetime]]
    ) -> list[list[CreditCycleSpend]]:
        rows = await session.scalars(
            select(CreditCycleSpend).where(
                CreditCycleSpend.organization_id.in_({org for org, _ in keys}),
                CreditCycleSpend.cycle_start.in_({start for _, start in keys}),
            )
        )
        return many_per_key(
            rows, keys, lambda row: (row.organization_id, row.cycle_start)
        )


DrawsByCyclePool = dict[tuple[datetime, str | None], Decimal]


class DrawsFromInstant(StoreLoader[tuple[str, datetime], DrawsByCyclePool]):
    """Credits drawn for an organization's events that occurred at or after an
    instant, by (cycle start, grant id; None for MONTHLY).

    The pools' running totals include every event recorded so far; taking these
    away gives the pools as of the instant. For the present it is empty, and the
    (organization, occurred_at) index keeps it cheap. One statement per batch.
    """

    async def fetch(
        self, session: AsyncSession, keys: list[tuple[str, datetime]]
    ) -> list[DrawsByCyclePool]:
        orgs_by_instant: dict[datetime, set[str]] = defaultdict(set)
        for organization_id, instant in keys:
            orgs_by_instant[instant].add(organization_id)
        instants = list(orgs_by_instant)
        parts = [
            select(
                literal(position, Integer()).label("batch"),
                CreditDraw.organization_id,
                CreditDraw.cycle_start,
                CreditDraw.grant_id,
                func.sum(CreditDraw.amount).label("amount"),
            )
            .join(UsageEvent, UsageEvent.id == CreditDraw.event_id)
            .where(
                UsageEvent.organization_id.in_(sorted(orgs_by_instant[instant])),
                UsageEvent.occurred_at >= instant,
            )
            .group_by(
                CreditDraw.organization_id, CreditDraw.cycle_start, CreditDraw.grant_id
            )
            for position, instant in enumerate(instants)
        ]
        found: dict[tuple[str, datetime], DrawsByCyclePool] = {key: {} for key in keys}
        rows = await session.execute(union_all(*parts))
        for row in rows:
            key = (row.organization_id, instants[row.batch])
            found[key][(row.cycle_start, row.grant_id)] = row.amount
        return [found[key] for key in keys]


class AllocationsByOrganization(StoreLoader[str, list[PersonalAllocation]]):
    async def fetch(
        self, session: AsyncSession, keys: list[str]
    ) -> list[list[PersonalAllocation]]:
        rows = await session.scalars(
            select(PersonalAllocation).where(
                PersonalAllocation.organization_id.in_(keys)
            )
        )
        return many_per_key(rows, keys, lambda row: row.organization_id)


class WorkspacesByOrganization(
    StoreLoader[str, tuple[dict[str, Workspace], dict[str, WorkspaceGroup]]]
):
    async def fetch(
        self, session: AsyncSession, keys: list[str]
    ) -> list[tuple[dict[str, Workspace], dict[str, WorkspaceGroup]]]:
        workspaces = await session.scalars(
            select(Workspace).where(Workspace.organization_id.in_(keys))
        )
        groups = await session.scalars(
            select(WorkspaceGroup).where(WorkspaceGroup.organization_id.in_(keys))
        )
        found: dict[str, tuple[dict[str, Workspace], dict[str, WorkspaceGroup]]] = {
            key: ({}, {}) for key in keys
        }
        for workspace in workspaces:
            found[workspace.organization_id][0][workspace.id] = workspace
        for group in groups:
            found[group.organization_id][1][group.id] = group
        return [found[key] for key in keys]
