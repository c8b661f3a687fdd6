"""Range sums cut into parts, and the statement pieces both forms of reading share.

A request (an organization's events in [start, end) on one dimension) becomes a few
parts: whole hours of `usage_rollups`, a cycle's rows of `usage_cycle_rollups` less
the hours outside the range, the raw events of the partial hours at the edges. Kept
apart from the two ways of writing the statement (`store.rollup_sums.union`,
`store.rollup_sums.document`) because the cutting is the arithmetic of exactness
and does not depend on the SQL that reads it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.types import TypeEngine

from rules.cycles import as_utc
from store.rollups import (
    AI_SPEND_METER,
    DIMENSIONS,
    RollupRequest,
    hour_of,
    next_hour_start,
)
from store.types import Amount

RESULT_TYPES: dict[str, TypeEngine[Any]] = {
    "request": Integer(),
    "meter_key": String(),
    "dimension_key": String(),
    "quantity": Amount(),
    "credits": Amount(),
    "cost_usd": Amount(),
    "free_units_used": Amount(),
    "events": BigInteger(),
    "unpriced_events": BigInteger(),
}
GROUPED = (
    "SELECT request, meter_key, dimension_key, SUM(quantity) AS quantity, "
    "SUM(credits) AS credits, SUM(cost_usd) AS cost_usd, "
    "SUM(free_units_used) AS free_units_used, SUM(events) AS events, "
    "SUM(unpriced_events) AS unpriced_events FROM ({parts}) AS parts "
    "GROUP BY request, meter_key, dimension_key"
)


@dataclass(frozen=True, slots=True)
class Where:
    """What every part of one request shares."""

    organization_id: str
    dimension: str
    meters: tuple[str, ...] | None
    """None: every meter."""
    keys: tuple[str, ...] | None
    """None: every key of the dimension."""

    @property
    def ai_spend(self) -> bool:
        return self.meters is None or AI_SPEND_METER in self.meters


@dataclass(frozen=True, slots=True)
class Part:
    """One kind of rows of one request, added (`sign` 1) or taken back (-1).

    h: whole hours of `usage_rollups` in [lo, hi) (lo None: from the first); c: the
    cycle rows of `usage_cycle_rollups` starting at `hi` (lo None: and every
    earlier cycle's); e: raw events in [lo, hi), each on its meter; a: the same
    events' AI cost on the AI budget meter."""

    position: int
    kind: str
    where: Where
    lo: datetime | None
    hi: datetime
    sign: int = 1


def request_parts(position: int, request: RollupRequest) -> list[Part]:
    """The parts of one request."""
    if request.dimension not in DIMENSIONS:
        raise ValueError(f"unknown rollup dimension: {request.dimension!r}")
    end = as_utc(request.end)
    start = None if request.start is None else as_utc(request.start)
    if start is not None and start >= end:
        return []
    meters = _sorted(request.meter_keys)
    keys = _sorted(request.dimension_keys)
    if meters == () or keys == ():
        return []
    where = Where(request.organization_id, request.dimension, meters, keys)
    cycle = request.cycle
    if cycle is None:
        return _hour_parts(position, where, start, end)
    if end > cycle.end or (start is not None and start < cycle.start):
        raise ValueError(f"[{start}, {end}) is not within the cycle {cycle}")
    since = None if start is None else cycle.start
    parts = [Part(position, "c", where, since, cycle.start)]
    outside = [(end, cycle.end)]
    if start is not None:
        outside.append((cycle.start, start))
    for span_start, span_end in outside:
        if span_start < span_end:
            parts.extend(_hour_parts(position, where, span_start, span_end, sign=-1))
    return parts


def _sorted(names: Collection[str] | None) -> tuple[str, ...] | None:
    """A request's meters or keys in one order (one statement text per set)."""
    return None if names is None else tuple(sorted(set(names)))


def _hour_parts(
    position: int,
    where: Where,
    start: datetime | None,
    end: datetime,
    sign: int = 1,
) -> list[Part]:
    """The parts whose union is [start, end): whole hours, then the edge hours (as
    the same contributions `add_to_rollups` makes: each event on its own meter, and
    a priced AI event's cost on the AI budget meter)."""
    last_hour = hour_of(end)
    if start is None:
        whole: tuple[datetime | None, datetime] | None = (None, last_hour)
        edges = [(last_hour, end)] if last_hour < end else []
    else:
        first_hour = next_hour_start(start)
        if first_hour >= last_hour:
            whole, edges = None, [(start, end)]
        else:
            whole = (first_hour, last_hour)
            edges = [(start, first_hour)] if start < first_hour else []
            if last_hour < end:
                edges.append((last_hour, end))
    parts: list[Part] = []
    if whole is not None:
        parts.append(Part(position, "h", where, *whole, sign=sign))
    for edge_start, edge_end in edges:
        parts.append(Part(position, "e", where, edge_start, edge_end, sign))
        if where.ai_spend:
            parts.append(Part(position, "a", where, edge_start, edge_end, sign))
    return parts
