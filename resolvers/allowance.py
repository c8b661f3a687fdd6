"""The daily allowance panel and its sync."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.access import OrgScope
from resolvers.context import Info
from resolvers.organizations import organization_scope
from rules import allowance
from schema.types.reports import AllowanceSnapshot, DailyAllowancePanel, DefinitionCost
from store import allowance as store_allowance
from store.models import AllowanceSnapshot as SnapshotRow


def snapshot_type(row: SnapshotRow) -> AllowanceSnapshot:
    return AllowanceSnapshot(
        status=row.status,
        coverage=row.coverage,
        usage_percent=store_allowance.usage_percent(row),
        window_start=row.window_start,
        window_end=row.window_end,
        last_synced_at=row.synced_at,
        unpriced_event_count=row.unpriced_event_count,
        top_definitions=[
            DefinitionCost(
                definition_id=strawberry.ID(str(entry["definitionId"])),
                name=None if entry.get("name") is None else str(entry["name"]),
                relative_cost_percent=int(str(entry["relativeCostPercent"])),
            )
            for entry in row.top_definitions
        ],
    )


async def daily_allowance(info: Info, scope: OrgScope) -> DailyAllowancePanel | None:
    row = await info.context.loaders.latest_snapshot.load((scope.id, scope.at))
    if row is None:
        return DailyAllowancePanel(message=allowance.NO_SNAPSHOT_MESSAGE, snapshot=None)
    return DailyAllowancePanel(
        message=allowance.coverage_message(row.unpriced_event_count),
        snapshot=snapshot_type(row),
    )


async def sync(info: Info, organization_id: str, at: datetime | None) -> SnapshotRow:
    scope = await organization_scope(info, organization_id, at)
    await info.context.release_reads()  # the write takes a connection of its own
    async with info.context.sessions() as session:
        row, _ = await store_allowance.sync_daily_allowance(session, scope.id, scope.at)
    return row
