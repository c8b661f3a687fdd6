"""Reading the usage pre-aggregates: any number of range sums in one statement.

`sum_rollups_many` answers a batch of `RollupRequest`s (an organization's events in
[start, end) on one dimension) exactly: whole hours from `usage_rollups`, the partial
hours at a range's edges from the raw `usage_events` in those edges only, or a whole
billing cycle from `usage_cycle_rollups` less the hours of the cycle outside the
range. Each request becomes a few *parts* (`Part`: a kind of rows, a window, a sign,
the request's position), and one statement reads them all, GROUPed BY position.

A batch of up to `union.MAX_UNION_PARTS` parts is one select per part, their UNION
ALL, written as SQL text from fixed fragments (`store.rollup_sums.union`); a larger
batch travels as one JSON document joined to the tables
(`store.rollup_sums.document`). Both forms give the same sums
(tests/resolvers/test_many_parents.py holds them equal).

The package follows these parts: `parts` cuts requests into parts and holds what
both forms share (the grouped outer select, the result columns), `union` writes the
UNION ALL form, `document` the JSON-document form; this module chooses between them
and reads the rows back into totals.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.rollup_sums.document import document_of
from store.rollup_sums.parts import request_parts
from store.rollup_sums.union import union_of
from store.rollups import RollupRequest, Totals

_NOTHING = Totals.zero()


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
    session: AsyncSession,
    requests: Sequence[RollupRequest],
    *,
    as_document: bool = False,
) -> list[dict[tuple[str, str], Totals]]:
    """Every request's totals in one statement, in the order asked.

    Each request's parts carry the request's position, and one GROUP BY over what
    they read answers them all: a page's many sums (the cycle, each trend cycle,
    each chart bucket, for any number of organizations) cost one round trip.
    `as_document`: through the JSON document even when the UNION ALL would do
    (tests compare the two)."""
    parts = [
        part
        for position, request in enumerate(requests)
        for part in request_parts(position, request)
    ]
    results: list[dict[tuple[str, str], Totals]] = [{} for _ in requests]
    if not parts:
        return results
    dialect = session.get_bind().dialect.name
    union = None if as_document else union_of(parts)
    statement, values = document_of(parts, dialect) if union is None else union
    for row in await session.execute(statement, values):
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
