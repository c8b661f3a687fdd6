"""A meter's trend: one value per billing cycle, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from itertools import pairwise

from resolvers.access import OrgScope
from resolvers.context import Info
from resolvers.usage import basis
from rules.cycles import Cycle
from schema.errors import BadUserInput
from store.rollups import RollupRequest, Totals

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
    if scope.cumulative:
        return await _cumulative_trend(info, scope, cycles)
    requests = [base.cycle_range(cycle) for cycle in cycles]
    sums = await info.context.loaders.rollup_sums.load_many(requests)
    return [
        TrendValue(cycle.start, _quantity(found, scope.meter_key))
        for cycle, found in zip(cycles, sums, strict=True)
    ]


async def _cumulative_trend(
    info: Info, scope: MeterTrendScope, cycles: list[Cycle]
) -> list[TrendValue]:
    """The value at each cycle's end as a running sum: everything before the oldest
    end, then each span between consecutive ends. Summing from the beginning once,
    not once per cycle, keeps the cost at one pass over the history; the spans are
    the cycles themselves, which resetting meters' trends ask for too."""
    base = await basis(info, scope.org)
    ends = [base.cumulative_range(cycle.end).end for cycle in cycles]
    requests = [base.cumulative_range(cycles[0].end)] + [
        base.cycle_range(cycle)
        if (cycle.start, base.cycle_range(cycle).end) == (start, end)
        else RollupRequest(scope.org.id, "total", start, end)
        for cycle, (start, end) in zip(cycles[1:], pairwise(ends), strict=True)
    ]
    sums = await info.context.loaders.rollup_sums.load_many(requests)
    values: list[TrendValue] = []
    running = Decimal(0)
    with localcontext() as exact:
        exact.prec = 80  # as exact as the database's NUMERIC(38, 6) sum
        for cycle, found in zip(cycles, sums, strict=True):
            running += _quantity(found, scope.meter_key)
            values.append(TrendValue(cycle.start, running))
    return values


def _quantity(found: dict[tuple[str, str], Totals], meter_key: str) -> Decimal:
    return found.get((meter_key, ""), Totals.zero()).quantity
