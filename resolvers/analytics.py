"""Customer analytics for admins and operators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from resolvers.access import OrgScope
from resolvers.context import Info
from rules.enums import ReconciliationStatus
from rules.errors import BadUserInput
from store.rollups import RollupRequest, Totals

RUNTIME_METER = "workspace_runtime_hours"


@dataclass(frozen=True)
class AnalyticsView:
    workspace_runtime_hours: Decimal
    managed_ai_usage_usd: Decimal | None
    provider_project_id: str | None


async def analytics(
    info: Info, scope: OrgScope, start: datetime, end: datetime
) -> AnalyticsView:
    """Provider project ids for operators only (the field's permission denies the
    rest of analytics to viewers without analytics:read)."""
    for name, instant in (("start", start), ("end", end)):
        if instant.utcoffset() is None:
            raise BadUserInput(f"`{name}` must carry a time zone (UTC)")
    if start >= end:
        raise BadUserInput("`start` must be before `end`")
    loaders = info.context.loaders
    found = await loaders.rollup_sums.load(
        RollupRequest(scope.id, "total", start, end, (RUNTIME_METER,))
    )
    reconciliation = await loaders.reconciliation.load(scope.id)
    configured = (
        reconciliation is not None
        and reconciliation.status is not ReconciliationStatus.NOT_CONFIGURED
    )
    return AnalyticsView(
        workspace_runtime_hours=found.get((RUNTIME_METER, ""), Totals.zero()).quantity,
        managed_ai_usage_usd=(reconciliation.managed_ai_usage_usd or Decimal(0))
        if configured and reconciliation is not None
        else None,
        provider_project_id=scope.organization.provider_project_id
        if scope.access.is_operator
        else None,
    )
