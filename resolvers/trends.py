"""A meter's trend: one value per billing cycle, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from resolvers.access import OrgScope
from resolvers.context import Info
from resolvers.usage import basis
from schema.errors import BadUserInput
from store.rollups import Totals

MAX_TREND_MONTHS = 36


@dataclass(frozen=True)
class MeterTrendScope:
    org: OrgScope
    meter_key: str
    cumulative: bool


@dataclass(frozen=True)
class TrendValue:
    start: datetime
    value: Decimal


async def meter_trend(
    info: Info, scope: MeterTrendScope, months: int
) -> list[TrendValue]:
    """Resetting meters: each cycle's total; cumulative: the value at each cycle's
    end (or `at` for the current one). All cycles load in one batch."""
    if not 1 <= months <= MAX_TREND_MONTHS:
        raise BadUserInput(f"`months` must be between 1 and {MAX_TREND_MONTHS}")
    base = await basis(info, scope.org)
    cycles = base.cycles_back(months)
    requests = [
        base.cumulative_range(cycle.end)
        if scope.cumulative
        else base.cycle_range(cycle)
        for cycle in cycles
    ]
    sums = await info.context.loaders.rollup_sums.load_many(requests)
    return [
        TrendValue(
            cycle.start, found.get((scope.meter_key, ""), Totals.zero()).quantity
        )
        for cycle, found in zip(cycles, sums, strict=True)
    ]
