"""Meters' trends: one value per billing cycle, oldest first.

Every meter's trend over N cycles reads the same sums (each cycle's totals for
resetting meters; everything before the oldest cycle's end, then each cycle's
span, for cumulative ones), so `trend_sums` asks for them once and `trend_of` reads
one meter's values out of them. `Organization.meters` looks ahead at the `months`
its `trend` fields ask for (`trend_months`) and hands each meter its values: a
page's 32 trends cost one batch of sums and no resolver of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import Any

from graphql import (
    FieldNode,
    IntValueNode,
    VariableNode,
)
from strawberry.types.nodes import get_variable_values

from resolvers.access import OrgScope
from resolvers.context import Info
from resolvers.selections import fields_at
from resolvers.usage import basis
from rules.cycles import Cycle
from rules.errors import BadUserInput
from store.rollups import RollupRequest, Totals

MAX_TREND_MONTHS = 36
DEFAULT_TREND_MONTHS = 6
TREND_FIELD = "trend"


@dataclass(frozen=True)
class TrendValue:
    start: datetime
    value: Decimal


@dataclass(frozen=True)
class TrendSums:
    """The sums the trends over `len(cycles)` cycles read, for every meter."""

    cycles: list[Cycle]
    per_cycle: list[dict[tuple[str, str], Totals]]
    """Each cycle's totals up to `at` (resetting meters)."""
    running: list[dict[tuple[str, str], Totals]]
    """Cumulative meters: everything before the oldest cycle's end, then each span
    between consecutive cycle ends."""


def check_months(months: int) -> None:
    if not 1 <= months <= MAX_TREND_MONTHS:
        raise BadUserInput(f"`months` must be between 1 and {MAX_TREND_MONTHS}")


async def trend_sums(
    info: Info, scope: OrgScope, months: Iterable[int]
) -> dict[int, TrendSums]:
    """The sums of every trend length asked, in one batch of the rollup loader
    (a length out of range is left out: each `trend` asking for it refuses it)."""
    base = await basis(info, scope)
    plans: dict[int, tuple[list[Cycle], list[RollupRequest], list[RollupRequest]]] = {}
    for count in sorted(set(months)):
        if not 1 <= count <= MAX_TREND_MONTHS:
            continue
        cycles = base.cycles_back(count)
        per_cycle = [base.cycle_range(cycle) for cycle in cycles]
        # The value at each cycle's end as a running sum: everything before the
        # oldest end, then each span between consecutive ends (the cycles
        # themselves where they match, which the resetting meters ask for too).
        ends = [base.cumulative_range(cycle.end).end for cycle in cycles]
        running = [base.cumulative_range(cycles[0].end)] + [
            request
            if (request.start, request.end) == (start, end)
            else RollupRequest(scope.id, "total", start, end)
            for request, (start, end) in zip(per_cycle[1:], pairwise(ends), strict=True)
        ]
        plans[count] = (cycles, per_cycle, running)
    requests = [
        request for _, per_cycle, running in plans.values() for request in per_cycle
    ] + [request for _, _, running in plans.values() for request in running]
    found = iter(await info.context.loaders.rollup_sums.load_many(requests))
    answered = {
        count: [next(found) for _ in per_cycle]
        for count, (_, per_cycle, _) in plans.items()
    }
    return {
        count: TrendSums(cycles, answered[count], [next(found) for _ in running])
        for count, (cycles, _, running) in plans.items()
    }


def trend_of(sums: TrendSums, meter_key: str, cumulative: bool) -> list[TrendValue]:
    """One meter's trend: each cycle's total, or for a cumulative meter its value at
    each cycle's end (or `at` for the current one)."""
    if not cumulative:
        return [
            TrendValue(cycle.start, _quantity(found, meter_key))
            for cycle, found in zip(sums.cycles, sums.per_cycle, strict=True)
        ]
    values: list[TrendValue] = []
    running = Decimal(0)
    with localcontext() as exact:
        exact.prec = 80  # as exact as the database's NUMERIC(38, 6) sum
        for cycle, found in zip(sums.cycles, sums.running, strict=True):
            running += _quantity(found, meter_key)
            values.append(TrendValue(cycle.start, running))
    return values


def trend_months(info: Info) -> set[int]:
    """The `months` of every `trend` the field being resolved selects on its items
    (aliases, fragments and variables included; the default where not given)."""
    raw = info._raw_info
    variables = get_variable_values(raw)
    return {
        _months(field, variables)
        for node in raw.field_nodes
        if node.selection_set is not None
        for field in fields_at(node.selection_set.selections, raw.fragments)
        if field.name.value == TREND_FIELD
    }


def _months(field: FieldNode, variables: dict[str, Any]) -> int:
    for argument in field.arguments or ():
        if argument.name.value != "months":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return DEFAULT_TREND_MONTHS if given is None else int(given)
    return DEFAULT_TREND_MONTHS


def _quantity(found: dict[tuple[str, str], Totals], meter_key: str) -> Decimal:
    return found.get((meter_key, ""), Totals.zero()).quantity
