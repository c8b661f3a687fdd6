"""Hourly usage pre-aggregates: kept by the write path, summed by every read.

Each accepted event adds to one row per hour, meter and dimension (`total` key '',
`source`, `user`, `workspace`, `feature`, `feature_model` key 'FEATURE|model'; a
dimension the event has no value for is skipped). An AI event whose dollar cost is
known also adds that cost to the `ai_spend_usd` meter (the AI budget), under the same
hour and dimension keys. That derived row carries only `quantity`: its credits, cost,
events and free units stay on the event's own meter, so summing any other column
across meters still counts every event exactly once.

`sum_rollups` is exact for any [start, end): whole hours come from the rollups and the
partial hours at the edges from the raw events in those edges only, aggregated in SQL,
so a read costs the hours it spans, never the number of events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, cast

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.ext.asyncio import AsyncSession

from rules.cycles import UNSUBSCRIBED_ANCHOR, Cycle, as_utc, cycle_for
from rules.enums import AiFeature, UsageSource
from store.models import UsageCycleRollup, UsageRollup

AI_SPEND_METER = "ai_spend_usd"
"""The AI budget meter: every priced AI event's dollar cost counts on it too."""

DIMENSIONS = ("total", "source", "user", "workspace", "feature", "feature_model")

_HOUR = timedelta(hours=1)
_ZERO = Decimal(0)
_ROLLUPS = cast(Table, UsageRollup.__table__)
_CYCLE_ROLLUPS = cast(Table, UsageCycleRollup.__table__)
_KEY_COLUMNS = ("organization_id", "meter_key", "dimension", "dimension_key", "hour")
_CYCLE_KEY_COLUMNS = (*_KEY_COLUMNS[:-1], "cycle_start")
_SUM_COLUMNS = (
    "quantity",
    "credits",
    "cost_usd",
    "free_units_used",
    "events",
    "unpriced_events",
)
# Both databases cap bound parameters near 32,767 per statement.
_ROWS_PER_STATEMENT = 32_000 // (len(_KEY_COLUMNS) + len(_SUM_COLUMNS))


@dataclass(frozen=True, slots=True)
class Totals:
    """What a set of events adds up to on one meter (and one dimension key)."""

    quantity: Decimal
    credits: Decimal
    cost_usd: Decimal
    free_units_used: Decimal
    events: int
    unpriced_events: int

    @classmethod
    def zero(cls) -> Totals:
        return cls(_ZERO, _ZERO, _ZERO, _ZERO, 0, 0)

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.quantity + other.quantity,
            self.credits + other.credits,
            self.cost_usd + other.cost_usd,
            self.free_units_used + other.free_units_used,
            self.events + other.events,
            self.unpriced_events + other.unpriced_events,
        )

    def times(self, count: int) -> Totals:
        """`count` such totals added up (exact only where the sums are: `_aggregate`
        multiplies only amounts whose sums need no rounding)."""
        if count == 1:
            return self
        return Totals(
            self.quantity * count,
            self.credits * count,
            self.cost_usd * count,
            self.free_units_used * count,
            self.events * count,
            self.unpriced_events * count,
        )


class RollupEvent(Protocol):
    """The fields of an accepted event that rollups read (a `UsageEvent` has them)."""

    @property
    def organization_id(self) -> str: ...
    @property
    def meter_key(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def cycle_start(self) -> datetime | None: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def credits(self) -> Decimal: ...
    @property
    def cost_usd(self) -> Decimal | None: ...
    @property
    def free_units_used(self) -> Decimal: ...
    @property
    def unpriced(self) -> bool: ...
    @property
    def source(self) -> UsageSource: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def workspace_id(self) -> str | None: ...
    @property
    def feature(self) -> AiFeature | None: ...
    @property
    def model(self) -> str | None: ...


def hour_of(at: datetime) -> datetime:
    """The UTC hour an instant falls in: the `hour` of its rollup rows."""
    return as_utc(at).replace(minute=0, second=0, microsecond=0)


def next_hour_start(at: datetime) -> datetime:
    """The first hour start at or after `at`."""
    hour = hour_of(at)
    return hour if hour == at else hour + _HOUR


def meter_contributions(event: RollupEvent) -> Iterator[tuple[str, Totals]]:
    """What one event adds, per meter: its own meter, and the AI budget for its cost."""
    yield (
        event.meter_key,
        Totals(
            event.quantity,
            event.credits,
            event.cost_usd if event.cost_usd is not None else _ZERO,
            event.free_units_used,
            1,
            1 if event.unpriced else 0,
        ),
    )
    if event.meter_key != AI_SPEND_METER and event.cost_usd:
        yield AI_SPEND_METER, Totals(event.cost_usd, _ZERO, _ZERO, _ZERO, 0, 0)


def dimension_keys(event: RollupEvent) -> Iterator[tuple[str, str]]:
    """(dimension, key) pairs an event is counted under; absent values are skipped."""
    yield "total", ""
    yield "source", event.source.name
    if event.user_id is not None:
        yield "user", event.user_id
    if event.workspace_id is not None:
        yield "workspace", event.workspace_id
    if event.feature is not None:
        yield "feature", event.feature.name
        if event.model is not None:
            yield "feature_model", f"{event.feature.name}|{event.model}"


def cycle_of(event: RollupEvent) -> datetime:
    """The start of the cycle an event counts in: its billing cycle, or the UTC
    calendar month without a subscription (as pages and decisions count it)."""
    if event.cycle_start is not None:
        return as_utc(event.cycle_start)
    return cycle_for(UNSUBSCRIBED_ANCHOR, as_utc(event.occurred_at)).start


def _hour_of_event(event: RollupEvent) -> datetime:
    return hour_of(event.occurred_at)


_EXACT_BELOW = Decimal(10) ** 20
"""Sums of amounts of at most six places stay below 26 digits under this bound, so
the default context (28 digits) adds and multiplies them exactly, in any order."""


def _aggregate(
    events: Sequence[RollupEvent],
    period_of: Callable[[RollupEvent], datetime] = _hour_of_event,
) -> dict[tuple[str, str, str, str, datetime], Totals]:
    # Events equal in every key and amount are counted first (a bulk batch of a
    # thousand events is mostly a few such kinds), and each kind's totals multiplied
    # by its count, where that is exact; else they are added event by event.
    kinds: dict[tuple[Any, ...], list[Any]] = {}
    # The built-in periods read only the event's time and cycle: computed once each.
    cached = period_of is _hour_of_event or period_of is cycle_of
    periods: dict[tuple[datetime, datetime | None], datetime] = {}
    for event in events:
        if cached:
            at = (event.occurred_at, event.cycle_start)
            period = periods.get(at)
            if period is None:
                period = periods[at] = period_of(event)
        else:
            period = period_of(event)
        kind = (
            *_group(event, period),
            event.meter_key,
            event.quantity,
            event.credits,
            event.cost_usd,
            event.free_units_used,
            event.unpriced,
        )
        found = kinds.get(kind)
        if found is None:
            kinds[kind] = [event, 1]
        else:
            found[1] += 1
    if not _exact(list(kinds), len(events)):
        return _aggregate_each(events, period_of)
    alike: dict[tuple[Any, ...], tuple[RollupEvent, dict[str, Totals]]] = {}
    for kind, (event, count) in kinds.items():
        group = kind[:7]
        found_group = alike.get(group)
        if found_group is None:
            found_group = alike[group] = (event, defaultdict(Totals.zero))
        sums = found_group[1]
        for meter, totals in meter_contributions(event):
            sums[meter] = sums[meter] + totals.times(count)
    return _rows(alike)


def _group(event: RollupEvent, period: datetime) -> tuple[Any, ...]:
    """What events must share to add to the same rollup rows: organization, period
    and every dimension's value (`kind[:7]` in `_aggregate`)."""
    return (
        event.organization_id,
        period,
        event.source,
        event.user_id,
        event.workspace_id,
        event.feature,
        event.model,
    )


def _exact(kinds: list[tuple[Any, ...]], count: int) -> bool:
    """Whether every sum of these amounts (up to `count` of each) is exact."""
    for kind in kinds:
        for amount in kind[8:12]:
            if amount is None:
                continue
            exponent = amount.as_tuple().exponent
            if (
                not isinstance(exponent, int)
                or exponent < -6
                or abs(amount) * count >= _EXACT_BELOW
            ):
                return False
    return True


def _aggregate_each(
    events: Sequence[RollupEvent],
    period_of: Callable[[RollupEvent], datetime],
) -> dict[tuple[str, str, str, str, datetime], Totals]:
    """`_aggregate` adding event by event, in order (amounts too large to sum in
    any order without rounding)."""
    alike: dict[tuple[Any, ...], tuple[RollupEvent, dict[str, Totals]]] = {}
    for event in events:
        group = _group(event, period_of(event))
        found = alike.get(group)
        if found is None:
            found = alike[group] = (event, defaultdict(Totals.zero))
        sums = found[1]
        for meter, totals in meter_contributions(event):
            sums[meter] = sums[meter] + totals
    return _rows(alike)


def _rows(
    alike: dict[tuple[Any, ...], tuple[RollupEvent, dict[str, Totals]]],
) -> dict[tuple[str, str, str, str, datetime], Totals]:
    """Each group's sums under each of its dimension keys."""
    rows: dict[tuple[str, str, str, str, datetime], Totals] = defaultdict(Totals.zero)
    for (org_id, period, *_), (first, sums) in alike.items():
        keys = list(dimension_keys(first))
        for meter, totals in sums.items():
            for dimension, key in keys:
                row = (org_id, meter, dimension, key, period)
                rows[row] = rows[row] + totals
    return rows


def aggregate(
    events: Sequence[RollupEvent],
) -> dict[tuple[str, str, str, str, datetime], Totals]:
    """What a batch of events adds to each rollup row, keyed (organization, meter,
    dimension, dimension key, hour): the rows `add_to_rollups` writes."""
    return _aggregate(events)


def aggregate_cycles(
    events: Sequence[RollupEvent],
) -> dict[tuple[str, str, str, str, datetime], Totals]:
    """The same per cycle, keyed (organization, meter, dimension, dimension key,
    cycle start): the `usage_cycle_rollups` rows."""
    return _aggregate(events, cycle_of)


async def add_to_rollups(session: AsyncSession, events: Sequence[RollupEvent]) -> None:
    """Add accepted events to their hourly and cycle rows: one multi-row upsert per
    table and call.

    Events are aggregated in Python first, so a batch of a thousand events in one hour
    writes a handful of rows. Rows are written in key order so concurrent writers
    touching the same rows always lock them in the same order. On SQLite a call with
    more rows than one statement's parameters allow is split into several upserts.
    """
    dialect = (await session.connection()).dialect.name
    for table, key_columns, aggregated in (
        (_ROLLUPS, _KEY_COLUMNS, _aggregate(events)),
        (_CYCLE_ROLLUPS, _CYCLE_KEY_COLUMNS, aggregate_cycles(events)),
    ):
        if not aggregated:
            continue
        rows = [
            dict(zip(key_columns, key, strict=True)) | _totals_row(aggregated[key])
            for key in sorted(aggregated)
        ]
        if dialect == "postgresql":
            statement = postgresql.insert(table).from_select(
                list(rows[0]), unnested_rows(table, rows)
            )
            await session.execute(_adding(statement, table, key_columns))
            continue
        for first in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[first : first + _ROWS_PER_STATEMENT]
            await session.execute(
                _adding(sqlite.insert(table).values(chunk), table, key_columns)
            )


def _totals_row(totals: Totals) -> dict[str, Any]:
    return {
        "quantity": totals.quantity,
        "credits": totals.credits,
        "cost_usd": totals.cost_usd,
        "free_units_used": totals.free_units_used,
        "events": totals.events,
        "unpriced_events": totals.unpriced_events,
    }


def _adding(
    statement: PgInsert | SqliteInsert, table: Table, key_columns: Sequence[str]
) -> PgInsert | SqliteInsert:
    """ON CONFLICT DO UPDATE adding the new sums to the existing ones."""
    return statement.on_conflict_do_update(
        index_elements=list(key_columns),
        set_={name: table.c[name] + statement.excluded[name] for name in _SUM_COLUMNS},
    )


def unnested_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> Select[Any]:
    """Rows as one SELECT over `unnest` of one array per column (PostgreSQL).

    The bulk-insert source of the write path: one parameter per column however many
    rows, so the statement is prepared once and its arrays travel in binary, where a
    multi-row VALUES would carry thousands of parameters and be prepared anew for
    every row count. Each column's type still converts its values.
    """
    names = list(rows[0])
    arrays = [
        bindparam(
            f"rows_{name}",
            [row[name] for row in rows],
            type_=postgresql.ARRAY(table.c[name].type),
        )
        for name in names
    ]
    unnested = func.unnest(*arrays).table_valued(*names).render_derived("batch")
    return select(*unnested.c)


@dataclass(frozen=True)
class RollupRequest:
    """One sum a reader needs: an organization's events in [start, end) on a dimension.

    Hashable, so per-request loaders batch and deduplicate identical requests.
    """

    organization_id: str
    dimension: str
    start: datetime | None
    end: datetime
    meter_keys: tuple[str, ...] | None = None
    dimension_keys: tuple[str, ...] | None = None
    """Only these keys of the dimension (e.g. one user's); None: every key."""
    cycle: Cycle | None = None
    """Read through this cycle's rows (`usage_cycle_rollups`): the range lies in the
    cycle (with `start` None: ends in it), and the caller knows its rows, and with
    `start` None every earlier cycle's, are complete. The sum is then the cycle rows
    less the parts of the cycle outside the range, read hour by hour: cheap when the
    range covers most of the cycle (a past cycle, the current one up to now)."""

    def on(
        self,
        dimension: str,
        meter_keys: tuple[str, ...] | None = None,
        dimension_keys: tuple[str, ...] | None = None,
    ) -> RollupRequest:
        """The same range (and cycle) on another dimension, meters or keys."""
        return replace(
            self,
            dimension=dimension,
            meter_keys=meter_keys,
            dimension_keys=dimension_keys,
        )
