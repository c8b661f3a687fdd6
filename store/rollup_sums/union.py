"""Range sums as a UNION ALL of selects, one per part, written as SQL text.

The form for batches of up to `MAX_UNION_PARTS` parts. The text comes from fixed
fragments, its values bound by number. A page asks the same shapes of sums request
after request, so the text repeats and its `TextClause` (and SQLAlchemy's compiled
form) is reused; composing the same union from Core constructs cost some 40 ms of
CPU per page (thousands of clause objects, then a cache key over all of them). Each
select names its values, so the planner sees them and reads each table by the index
that fits (the primary key for one user's rows). Past the limits the databases set
on a compound SELECT, `union_of` answers None and `store.rollup_sums.document` reads
the batch.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import String, TextualSelect, bindparam, text

from store.rollup_sums.parts import GROUPED, RESULT_TYPES, Part, Where
from store.rollups import AI_SPEND_METER, DIMENSIONS
from store.types import UtcDateTime

MAX_UNION_PARTS = 300
"""Parts a batch may have to be read as a UNION ALL of selects (SQLite refuses more
than 500 terms); a larger batch is read through a JSON document of its parts."""
MAX_UNION_VALUES = 20_000
"""Placeholders the UNION ALL may hold (SQLite binds each occurrence: at most
32,766); past it, the JSON document."""

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


class _Binds:
    """The statement's values, each bound once by number (`:p0`, `:p1`, ...)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._names: dict[tuple[type, Any], str] = {}
        self.placeholders = 0

    def __call__(self, value: str | datetime | tuple[str, ...]) -> str:
        """The placeholder of `value`; a tuple is an IN list of one placeholder per
        item (an expanding parameter would make SQLAlchemy rewrite the whole
        statement's text at every execution)."""
        if isinstance(value, tuple):
            return "(" + ", ".join(self(item) for item in value) + ")"
        self.placeholders += 1
        found = self._names.get((type(value), value))
        if found is None:
            found = self._names[(type(value), value)] = f"p{len(self._names)}"
            self.values[found] = value
        return f":{found}"

    def signature(self) -> tuple[tuple[str, str], ...]:
        """Each placeholder's kind: what `_union_statement` types it by."""
        return tuple((name, _kind(value)) for name, value in self.values.items())


def _kind(value: Any) -> str:
    return "time" if isinstance(value, datetime) else "text"


@lru_cache(maxsize=512)
def _union_statement(sql: str, signature: tuple[tuple[str, str], ...]) -> TextualSelect:
    """The statement of one shape of sums, built once per process."""
    binds = [
        bindparam(name, type_=UtcDateTime() if kind == "time" else String())
        for name, kind in signature
    ]
    return text(sql).bindparams(*binds).columns(**RESULT_TYPES)


def union_of(parts: list[Part]) -> tuple[TextualSelect, dict[str, Any]] | None:
    """The parts as one select each, or None past the databases' limits."""
    if len(parts) > MAX_UNION_PARTS:
        return None
    binds = _Binds()
    selects = [_select(binds, part) for part in parts]
    if binds.placeholders > MAX_UNION_VALUES:
        return None
    sql = GROUPED.format(parts=" UNION ALL ".join(selects))
    return _union_statement(sql, binds.signature()), binds.values


def _select(binds: _Binds, part: Part) -> str:
    where = _Conditions(binds, part.where)
    if part.kind == "h":
        sql = _whole_hours(where, part.lo, part.hi)
    elif part.kind == "c":
        sql = _cycle_rows(where, part.lo, part.hi)
    else:
        assert part.lo is not None
        sql = _raw(where, part.lo, part.hi, ai_spend=part.kind == "a")
    if part.sign < 0:
        sql = f"SELECT meter_key, dimension_key, {_NEGATED_SUMS} FROM ({sql}) AS n"
    # The request's position as the first column.
    return f"SELECT {part.position} AS request, " + sql.removeprefix("SELECT ")


class _Conditions:
    """The conditions every select of one request shares."""

    def __init__(self, binds: _Binds, where: Where) -> None:
        self.binds = binds
        self.organization = binds(where.organization_id)
        self.dimension = where.dimension
        self.meters = None if where.meters is None else binds(where.meters)
        self.keys = None if where.keys is None else binds(where.keys)

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


def _cycle_rows(where: _Conditions, lo: datetime | None, cycle_start: datetime) -> str:
    """The cycle's rows; with `lo` None also every earlier cycle's."""
    operator = "=" if lo is not None else "<="
    condition = f"cycle_start {operator} {where.binds(cycle_start)}"
    return (
        f"SELECT meter_key, dimension_key, {_SUMS} FROM usage_cycle_rollups "
        f"WHERE {where.rows(condition)}"
    )


def _whole_hours(where: _Conditions, start: datetime | None, end: datetime) -> str:
    condition = f"hour < {where.binds(end)}"
    if start is not None:
        condition += f" AND hour >= {where.binds(start)}"
    return (
        f"SELECT meter_key, dimension_key, {_SUMS} FROM usage_rollups "
        f"WHERE {where.rows(condition)}"
    )


def _raw(where: _Conditions, start: datetime, end: datetime, ai_spend: bool) -> str:
    """The events of one edge, each on its own meter, or (`ai_spend`) their cost
    on the AI budget meter."""
    key = _DIMENSION_KEY[where.dimension]
    window = (
        f"organization_id = {where.organization} AND occurred_at >= "
        f"{where.binds(start)} AND occurred_at < {where.binds(end)} AND "
        + (f"{key} IS NOT NULL" if where.keys is None else f"{key} IN {where.keys}")
    )
    if ai_spend:
        return (
            f"SELECT '{AI_SPEND_METER}' AS meter_key, {key} AS dimension_key, "
            f"{_AI_SPEND_SUMS} FROM usage_events WHERE {window} AND meter_key <> "
            f"'{AI_SPEND_METER}' AND cost_usd IS NOT NULL AND cost_usd <> 0"
        )
    own = (
        window if where.meters is None else f"{window} AND meter_key IN {where.meters}"
    )
    return (
        f"SELECT meter_key, {key} AS dimension_key, {_EVENT_SUMS} FROM usage_events "
        f"WHERE {own}"
    )
