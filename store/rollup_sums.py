"""Reading the usage pre-aggregates: any number of range sums in one statement.

`sum_rollups_many` answers a batch of `RollupRequest`s (an organization's events in
[start, end) on one dimension) exactly: whole hours from `usage_rollups`, the partial
hours at a range's edges from the raw `usage_events` in those edges only, or a whole
billing cycle from `usage_cycle_rollups` less the hours of the cycle outside the
range. Each request's parts carry its position, and one GROUP BY over their union
answers every request in one round trip.

The statement is written as SQL text from fixed fragments, its values bound by
number. A page asks the same shapes of sums request after request, so the text
repeats and its `TextClause` (and SQLAlchemy's compiled form) is reused; composing
the same union from Core constructs cost some 40 ms of CPU per page (thousands of
clause objects, then a cache key over all of them).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Integer, String, TextualSelect, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from rules.cycles import Cycle, as_utc
from store.rollups import (
    AI_SPEND_METER,
    DIMENSIONS,
    RollupRequest,
    Totals,
    hour_of,
    next_hour_start,
)
from store.types import Amount, UtcDateTime

_SUMS = "quantity, credits, cost_usd, free_units_used, events, unpriced_events"
_NEGATED_SUMS = (
    "-quantity AS quantity, -credits AS credits, -cost_usd AS cost_usd, "
    "-free_units_used AS free_units_used, -events AS events, "
    "-unpriced_events AS unpriced_events"
)
_EVENT_SUMS = (
    "quantity, credits, COALESCE(cost_usd, 0) AS cost_usd, free_units_used, "
    "1 AS events, CASE WHEN unpriced THEN 1 ELSE 0 END AS unpriced_events"
)
_AI_SPEND_SUMS = (
    "cost_usd AS quantity, 0 AS credits, 0 AS cost_usd, 0 AS free_units_used, "
    "0 AS events, 0 AS unpriced_events"
)
_DIMENSION_KEY = {
    "total": "''",
    "source": "source",
    "user": "user_id",
    "workspace": "workspace_id",
    "feature": "feature",
    "feature_model": "feature || '|' || model",
}
"""Each dimension's key of a raw event (NULL where the event has none), as
`store.rollups.dimension_keys` writes it."""
assert set(_DIMENSION_KEY) == set(DIMENSIONS)

_RESULT_TYPES: dict[str, TypeEngine[Any]] = {
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
_NOTHING = Totals.zero()


class _Binds:
    """The statement's values, each bound once by number (`:p0`, `:p1`, ...)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._names: dict[tuple[type, Any], str] = {}

    def __call__(self, value: str | datetime | tuple[str, ...]) -> str:
        """The placeholder of `value`; a tuple is an IN list of one placeholder per
        item (an expanding parameter would make SQLAlchemy rewrite the whole
        statement's text at every execution)."""
        if isinstance(value, tuple):
            return "(" + ", ".join(self(item) for item in value) + ")"
        found = self._names.get((type(value), value))
        if found is None:
            found = self._names[(type(value), value)] = f"p{len(self._names)}"
            self.values[found] = value
        return f":{found}"

    def signature(self) -> tuple[tuple[str, str], ...]:
        """Each placeholder's kind: what `_statement` types it by."""
        return tuple((name, _kind(value)) for name, value in self.values.items())


def _kind(value: Any) -> str:
    return "time" if isinstance(value, datetime) else "text"


@lru_cache(maxsize=512)
def _statement(sql: str, signature: tuple[tuple[str, str], ...]) -> TextualSelect:
    """The statement of one shape of sums, built once per process."""
    binds = [
        bindparam(name, type_=UtcDateTime() if kind == "time" else String())
        for name, kind in signature
    ]
    return text(sql).bindparams(*binds).columns(**_RESULT_TYPES)


async def sum_rollups(
    session: AsyncSession,
    organization_id: str,
    dimension: str,
    start: datetime | None,
    end: datetime,
    meter_keys: Collection[str] | None = None,
) -> dict[tuple[str, str], Totals]:
    """Totals per (meter, dimension key) of the events that occurred in [start, end).

    `start` None sums from the beginning. One statement: the whole hours inside the
    range from `usage_rollups`, the partial hours at its edges from `usage_events`.
    """
    meters = None if meter_keys is None else tuple(meter_keys)
    request = RollupRequest(organization_id, dimension, start, end, meters)
    return (await sum_rollups_many(session, [request]))[0]


async def sum_rollups_many(
    session: AsyncSession, requests: Sequence[RollupRequest]
) -> list[dict[tuple[str, str], Totals]]:
    """Every request's totals in one statement, in the order asked.

    Each request's selects (as in `sum_rollups`) carry the request's position, and one
    GROUP BY over their union answers them all: a page's many sums (the cycle, each
    trend cycle, each chart bucket, for any number of organizations) cost one round
    trip.
    """
    binds = _Binds()
    parts: list[str] = []
    for position, request in enumerate(requests):
        parts.extend(_request_parts(binds, position, request))
    results: list[dict[tuple[str, str], Totals]] = [{} for _ in requests]
    if not parts:
        return results
    sql = (
        "SELECT request, meter_key, dimension_key, SUM(quantity) AS quantity, "
        "SUM(credits) AS credits, SUM(cost_usd) AS cost_usd, "
        "SUM(free_units_used) AS free_units_used, SUM(events) AS events, "
        "SUM(unpriced_events) AS unpriced_events FROM ("
        + " UNION ALL ".join(parts)
        + ") AS parts GROUP BY request, meter_key, dimension_key"
    )
    statement = _statement(sql, binds.signature())
    for row in await session.execute(statement, binds.values):
        totals = Totals(
            row.quantity,
            row.credits,
            row.cost_usd,
            row.free_units_used,
            int(row.events),
            int(row.unpriced_events),
        )
        # A key whose events all fell outside the range (taken back from a cycle
        # row) sums to nothing: as if no row had been read, like the hourly path.
        if totals != _NOTHING:
            results[row.request][(row.meter_key, row.dimension_key)] = totals
    return results


def _request_parts(binds: _Binds, position: int, request: RollupRequest) -> list[str]:
    """The selects of one request, each labelled with its position."""
    if request.dimension not in DIMENSIONS:
        raise ValueError(f"unknown rollup dimension: {request.dimension!r}")
    end = as_utc(request.end)
    start = None if request.start is None else as_utc(request.start)
    if start is not None and start >= end:
        return []
    meters = (
        None if request.meter_keys is None else tuple(sorted(set(request.meter_keys)))
    )
    keys = (
        None
        if request.dimension_keys is None
        else tuple(sorted(request.dimension_keys))
    )
    if meters == () or keys == ():
        return []
    where = _Where(binds, request.organization_id, request.dimension, meters, keys)
    cycle = request.cycle
    if cycle is None:
        return [_labelled(part, position) for part in _hour_parts(where, start, end)]
    if end > cycle.end or (start is not None and start < cycle.start):
        raise ValueError(f"[{start}, {end}) is not within the cycle {cycle}")
    parts = [_cycle_rows(where, start, cycle)]
    outside = [(end, cycle.end)]
    if start is not None:
        outside.append((cycle.start, start))
    for span_start, span_end in outside:
        if span_start < span_end:
            parts.extend(
                f"SELECT meter_key, dimension_key, {_NEGATED_SUMS} FROM ({part}) AS n"
                for part in _hour_parts(where, span_start, span_end)
            )
    return [_labelled(part, position) for part in parts]


def _labelled(part: str, position: int) -> str:
    """A part's select with the request's position as its first column."""
    return f"SELECT {position} AS request, " + part.removeprefix("SELECT ")


def _sorted(names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """A request's meters or keys in one order (one statement text per set)."""
    return None if names is None else tuple(sorted(set(names)))


class _Where:
    """The conditions every part of one request shares."""

    def __init__(
        self,
        binds: _Binds,
        organization_id: str,
        dimension: str,
        meters: tuple[str, ...] | None,
        keys: tuple[str, ...] | None,
    ) -> None:
        self.binds = binds
        self.organization = binds(organization_id)
        self.dimension = dimension
        self.meters = None if meters is None else binds(meters)
        self.keys = None if keys is None else binds(keys)
        self.ai_spend = meters is None or AI_SPEND_METER in meters

    def rows(self, time_condition: str) -> str:
        """A rollup table's rows of this request (hours or cycles)."""
        sql = (
            f"organization_id = {self.organization} AND dimension = "
            f"{self.binds(self.dimension)} AND {time_condition}"
        )
        if self.meters is not None:
            sql += f" AND meter_key IN {self.meters}"
        if self.keys is not None:
            sql += f" AND dimension_key IN {self.keys}"
        return sql


def _cycle_rows(where: _Where, start: datetime | None, cycle: Cycle) -> str:
    """The cycle's rows; with `start` None also every earlier cycle's."""
    operator = "=" if start is not None else "<="
    condition = f"cycle_start {operator} {where.binds(cycle.start)}"
    return (
        f"SELECT meter_key, dimension_key, {_SUMS} FROM usage_cycle_rollups "
        f"WHERE {where.rows(condition)}"
    )


def _hour_parts(where: _Where, start: datetime | None, end: datetime) -> list[str]:
    """The selects whose union is [start, end): whole hours, then the edge hours."""
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
    parts: list[str] = []
    if whole is not None:
        parts.append(_whole_hours(where, *whole))
    for edge_start, edge_end in edges:
        parts.extend(_raw(where, edge_start, edge_end))
    return parts


def _whole_hours(where: _Where, start: datetime | None, end: datetime) -> str:
    condition = f"hour < {where.binds(end)}"
    if start is not None:
        condition += f" AND hour >= {where.binds(start)}"
    return (
        f"SELECT meter_key, dimension_key, {_SUMS} FROM usage_rollups "
        f"WHERE {where.rows(condition)}"
    )


def _raw(where: _Where, start: datetime, end: datetime) -> list[str]:
    """The events of one edge, as the same contributions `add_to_rollups` makes:
    each on its own meter, and a priced AI event's cost on the AI budget meter."""
    key = _DIMENSION_KEY[where.dimension]
    window = (
        f"organization_id = {where.organization} AND occurred_at >= "
        f"{where.binds(start)} AND occurred_at < {where.binds(end)} AND "
        + (f"{key} IS NOT NULL" if where.keys is None else f"{key} IN {where.keys}")
    )
    own = (
        window if where.meters is None else f"{window} AND meter_key IN {where.meters}"
    )
    selects = [
        f"SELECT meter_key, {key} AS dimension_key, {_EVENT_SUMS} FROM usage_events "
        f"WHERE {own}"
    ]
    if where.ai_spend:
        selects.append(
            f"SELECT '{AI_SPEND_METER}' AS meter_key, {key} AS dimension_key, "
            f"{_AI_SPEND_SUMS} FROM usage_events WHERE {window} AND meter_key <> "
            f"'{AI_SPEND_METER}' AND cost_usd IS NOT NULL AND cost_usd <> 0"
        )
    return selects
