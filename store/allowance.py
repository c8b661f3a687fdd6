"""Daily allowance snapshots: what the worker saw, kept as history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rules import allowance
from rules.amounts import quantize
from rules.meters import percent
from rules.pricing import cost_units
from store.models import AllowanceSnapshot, Plan, Subscription, UsageEvent

_AI_EVENT = or_(UsageEvent.cost_usd.is_not(None), UsageEvent.unpriced.is_(True))


async def compute_snapshot(
    session: AsyncSession, organization_id: str, at: datetime
) -> AllowanceSnapshot:
    """A snapshot of the 24 h ending at `at` (not yet stored)."""
    start, end = allowance.window(at, allowance.ALLOWANCE_WINDOW)
    in_window = and_(
        UsageEvent.organization_id == organization_id,
        UsageEvent.occurred_at > start,
        UsageEvent.occurred_at <= end,
        _AI_EVENT,
    )
    cost, unpriced = (
        await session.execute(
            select(
                func.coalesce(func.sum(UsageEvent.cost_usd), 0),
                func.count().filter(UsageEvent.unpriced.is_(True)),
            ).where(in_window)
        )
    ).one()
    used_units = quantize(cost_units(Decimal(cost or 0)))
    limit_units = await session.scalar(
        select(Plan.daily_allowance_units)
        .join(Subscription, Subscription.plan_key == Plan.key)
        .where(Subscription.organization_id == organization_id)
    )
    limit = None if limit_units is None else Decimal(limit_units)
    return AllowanceSnapshot(
        organization_id=organization_id,
        synced_at=at,
        window_start=start,
        window_end=end,
        used_units=used_units,
        limit_units=limit,
        status=allowance.allowance_status(used_units, limit),
        coverage=allowance.coverage(int(unpriced)),
        unpriced_event_count=int(unpriced),
        top_definitions=[
            {
                "definitionId": ranked.definition_id,
                "name": ranked.name,
                "relativeCostPercent": ranked.relative_cost_percent,
            }
            for ranked in allowance.rank_definitions(
                await _definition_costs(session, organization_id, at)
            )
        ],
    )


async def _definition_costs(
    session: AsyncSession, organization_id: str, at: datetime
) -> list[allowance.DefinitionCost]:
    start, end = allowance.window(at, allowance.DEFINITION_WINDOW)
    rows = await session.execute(
        select(
            UsageEvent.definition_id,
            func.max(UsageEvent.definition_name),
            func.coalesce(func.sum(UsageEvent.cost_usd), 0),
        )
        .where(
            UsageEvent.organization_id == organization_id,
            UsageEvent.occurred_at > start,
            UsageEvent.occurred_at <= end,
            UsageEvent.definition_id.is_not(None),
        )
        .group_by(UsageEvent.definition_id)
    )
    return [
        allowance.DefinitionCost(str(definition_id), name, Decimal(cost or 0))
        for definition_id, name, cost in rows
    ]


async def sync_daily_allowance(
    session: AsyncSession, organization_id: str, at: datetime
) -> tuple[AllowanceSnapshot, bool]:
    """Store and commit the snapshot for `at`; a sync for an instant already synced
    recomputes it, so events that arrived late inside the window count.

    The unique (organization, synced_at) index keeps one snapshot per instant: a
    second insert fails, rolls back, and the stored snapshot takes the values just
    computed (racing workers each write what the window held when they looked).
    Returns (snapshot, created). The session must hold no other pending work.
    """
    snapshot = await compute_snapshot(session, organization_id, at)
    session.add(snapshot)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
    else:
        return snapshot, True
    fresh = await compute_snapshot(session, organization_id, at)
    existing = await session.scalar(
        select(AllowanceSnapshot)
        .where(
            AllowanceSnapshot.organization_id == organization_id,
            AllowanceSnapshot.synced_at == at,
        )
        .with_for_update()
    )
    assert existing is not None
    for column in _COMPUTED:
        setattr(existing, column, getattr(fresh, column))
    await session.commit()
    return existing, False


_COMPUTED = (
    "window_start",
    "window_end",
    "used_units",
    "limit_units",
    "status",
    "coverage",
    "unpriced_event_count",
    "top_definitions",
)
"""What a sync computes (all but the row's identity)."""


async def latest_snapshots(
    session: AsyncSession, organization_ids: Sequence[str], at: datetime
) -> dict[str, AllowanceSnapshot]:
    """Each organization's latest snapshot taken at or before `at`."""
    latest = (
        select(
            AllowanceSnapshot.organization_id,
            func.max(AllowanceSnapshot.synced_at).label("synced_at"),
        )
        .where(
            AllowanceSnapshot.organization_id.in_(organization_ids),
            AllowanceSnapshot.synced_at <= at,
        )
        .group_by(AllowanceSnapshot.organization_id)
        .subquery()
    )
    rows = await session.scalars(
        select(AllowanceSnapshot).join(
            latest,
            and_(
                AllowanceSnapshot.organization_id == latest.c.organization_id,
                AllowanceSnapshot.synced_at == latest.c.synced_at,
            ),
        )
    )
    return {row.organization_id: row for row in rows}


def usage_percent(snapshot: AllowanceSnapshot) -> float | None:
    return percent(snapshot.used_units, snapshot.limit_units)
