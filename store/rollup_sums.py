"""Reading the usage pre-aggregates: any number of range sums in one statement.

`sum_rollups_many` answers a batch of `RollupRequest`s (an organization's events in
[start, end) on one dimension) exactly: whole hours from `usage_rollups`, the partial
hours at a range's edges from the raw `usage_events` in those edges only, or a whole
billing cycle from `usage_cycle_rollups` less the hours of the cycle outside the
range. Each request becomes a few *parts* (`_Part`: a kind of rows, a window, a sign,
the request's position), and one statement reads them all, GROUPed BY position.

A batch of up to `MAX_UNION_PARTS` parts is one select per part, their UNION ALL,
written as SQL text from fixed fragments, its values bound by number. A page asks
the same shapes of sums request after request, so the text repeats and its
`TextClause` (and SQLAlchemy's compiled form) is reused; composing the same union
from Core constructs cost some 40 ms of CPU per page (thousands of clause objects,
then a cache key over all of them). Each select names its values, so the planner
sees them and reads each table by the index that fits (the primary key for one
user's rows).

A larger batch (a partner's thousand organizations, a user in hundreds of them)
would pass what the databases accept: SQLite's 500 terms of a compound SELECT and
its 32,766 variables, PostgreSQL's stack depth. Its parts travel instead as one JSON
document (`json_to_recordset` on PostgreSQL, `json_each` on SQLite) joined to the
tables, one branch per kind of part: the same text and one parameter whatever the
number of organizations. Both forms give the same sums (tests/test_many_parents.py
holds them equal).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

import orjson
from sqlalchemy import BigInteger, Integer, String, TextualSelect, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from rules.cycles import as_utc
from store.rollups import (
    AI_SPEND_METER,
    DIMENSIONS,
    RollupRequest,
    Totals,
    hour_of,
    next_hour_start,
)
from store.types import Amount, UtcDateTime

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
_GROUPED = (
    "SELECT request, meter_key, dimension_key, SUM(quantity) AS quantity, "
    "SUM(credits) AS credits, SUM(cost_usd) AS cost_usd, "
    "SUM(free_units_used) AS free_units_used, SUM(events) AS events, "
    "SUM(unpriced_events) AS unpriced_events FROM ({parts}) AS parts "
    "GROUP BY request, meter_key, dimension_key"
)


# ------------------------------------------------------------------------ the parts


@dataclass(frozen=True, slots=True)
class _Where:
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
class _Part:
    """One kind of rows of one request, added (`sign` 1) or taken back (-1).

    h: whole hours of `usage_rollups` in [lo, hi) (lo None: from the first); c: the
    cycle rows of `usage_cycle_rollups` starting at `hi` (lo None: and every
    earlier cycle's); e: raw events in [lo, hi), each on its meter; a: the same
    events' AI cost on the AI budget meter."""

    position: int
    kind: str
    where: _Where
    lo: datetime | None
    hi: datetime
    sign: int = 1


def _request_parts(position: int, request: RollupRequest) -> list[_Part]:
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
    where = _Where(request.organization_id, request.dimension, meters, keys)
    cycle = request.cycle
    if cycle is None:
        return _hour_parts(position, where, start, end)
    if end > cycle.end or (start is not None and start < cycle.start):
        raise ValueError(f"[{start}, {end}) is not within the cycle {cycle}")
    since = None if start is None else cycle.start
    parts = [_Part(position, "c", where, since, cycle.start)]
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
    where: _Where,
    start: datetime | None,
    end: datetime,
    sign: int = 1,
) -> list[_Part]:
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
    parts: list[_Part] = []
    if whole is not None:
        parts.append(_Part(position, "h", where, *whole, sign=sign))
    for edge_start, edge_end in edges:
        parts.append(_Part(position, "e", where, edge_start, edge_end, sign))
        if where.ai_spend:
            parts.append(_Part(position, "a", where, edge_start, edge_end, sign))
    return parts


# ---------------------------------------------------------------------- the batch


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
        for part in _request_parts(position, request)
    ]
    results: list[dict[tuple[str, str], Totals]] = [{} for _ in requests]
    if not parts:
        return results
    dialect = session.get_bind().dialect.name
    union = None if as_document else _union(parts)
    statement, values = _document(parts, dialect) if union is None else union
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


# ------------------------------------------------------- parts as a UNION ALL of text


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
    return text(sql).bindparams(*binds).columns(**_RESULT_TYPES)


def _union(parts: list[_Part]) -> tuple[TextualSelect, dict[str, Any]] | None:
    """The parts as one select each, or None past the databases' limits."""
    if len(parts) > MAX_UNION_PARTS:
        return None
    binds = _Binds()
    selects = [_select(binds, part) for part in parts]
    if binds.placeholders > MAX_UNION_VALUES:
        return None
    sql = _GROUPED.format(parts=" UNION ALL ".join(selects))
    return _union_statement(sql, binds.signature()), binds.values


def _select(binds: _Binds, part: _Part) -> str:
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

    def __init__(self, binds: _Binds, where: _Where) -> None:
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


# ------------------------------------------------------ parts as one JSON document

_EVENT_KEY = (
    "CASE p.d WHEN 'total' THEN '' WHEN 'source' THEN e.source "
    "WHEN 'user' THEN e.user_id WHEN 'workspace' THEN e.workspace_id "
    "WHEN 'feature' THEN e.feature WHEN 'feature_model' THEN e.feature || '|' || "
    "e.model END"
)
"""`_DIMENSION_KEY` by the part's dimension."""
_SIGNED_ROLLUP_SUMS = (
    "p.s * x.quantity AS quantity, p.s * x.credits AS credits, "
    "p.s * x.cost_usd AS cost_usd, p.s * x.free_units_used AS free_units_used, "
    "p.s * x.events AS events, p.s * x.unpriced_events AS unpriced_events"
)
_SIGNED_EVENT_SUMS = (
    "p.s * e.quantity AS quantity, p.s * e.credits AS credits, "
    "p.s * COALESCE(e.cost_usd, 0) AS cost_usd, "
    "p.s * e.free_units_used AS free_units_used, p.s AS events, "
    "CASE WHEN e.unpriced THEN p.s ELSE 0 END AS unpriced_events"
)
_SIGNED_AI_SPEND_SUMS = (
    "p.s * e.cost_usd AS quantity, 0 AS credits, 0 AS cost_usd, "
    "0 AS free_units_used, 0 AS events, 0 AS unpriced_events"
)
_ROLLUP_BRANCH = """
    SELECT p.r AS request, x.meter_key AS meter_key,
        x.dimension_key AS dimension_key, {sums}
    FROM {table} AS x JOIN p ON x.organization_id = p.o{meter}
        AND x.dimension = p.d{key} AND {window}
    WHERE p.k = '{kind}'"""
_WINDOWS = {
    "h": ("usage_rollups", "x.hour >= p.lo AND x.hour < p.hi"),
    "c": ("usage_cycle_rollups", "x.cycle_start >= p.lo AND x.cycle_start <= p.hi"),
}
_EVENT_BRANCHES = {
    "e": """
    SELECT p.r AS request, e.meter_key AS meter_key,
        {event_key} AS dimension_key, {sums}
    FROM usage_events AS e JOIN p ON e.organization_id = p.o
        AND e.occurred_at >= p.lo AND e.occurred_at < p.hi
    WHERE p.k = 'e' AND (p.m IS NULL OR e.meter_key {in_meters})
        AND (p.ks IS NULL AND {event_key} IS NOT NULL OR {event_key} {in_keys})""",
    "a": """
    SELECT p.r AS request, '{ai_spend}' AS meter_key,
        {event_key} AS dimension_key, {sums}
    FROM usage_events AS e JOIN p ON e.organization_id = p.o
        AND e.occurred_at >= p.lo AND e.occurred_at < p.hi
    WHERE p.k = 'a' AND e.meter_key <> '{ai_spend}' AND e.cost_usd IS NOT NULL
        AND e.cost_usd <> 0
        AND (p.ks IS NULL AND {event_key} IS NOT NULL OR {event_key} {in_keys})""",
}
_DOCUMENT_KINDS = ("h", "hm", "hk", "hmk", "c", "cm", "ck", "cmk", "e", "a")
"""A document's rows: r (the request's position), k (the part's kind), s (sign), o
(organization), d (dimension), [lo, hi] (the window, as `_Part`'s, lo never
NULL), and what it reads of the dimension: rollup rows (h, c) one row per meter
(`mk`, kinds with m) and key (`kk`, kinds with k) asked, so that the primary key
(organization, meter, dimension, key, time) finds exactly those; raw events one row
with the lists `m` and `ks` (NULL: every one), their window (an edge hour) read
once."""
_POSTGRES_DOCUMENT = (
    "SELECT * FROM json_to_recordset(CAST(:parts AS json)) AS p(r integer, k text, "
    "s integer, o varchar, d varchar, lo timestamptz, hi timestamptz, mk varchar, "
    "kk varchar, m text[], ks text[])"
)
_SQLITE_DOCUMENT = (
    "SELECT json_extract(value, '$.r') AS r, json_extract(value, '$.k') AS k, "
    "json_extract(value, '$.s') AS s, json_extract(value, '$.o') AS o, "
    "json_extract(value, '$.d') AS d, json_extract(value, '$.lo') AS lo, "
    "json_extract(value, '$.hi') AS hi, json_extract(value, '$.mk') AS mk, "
    "json_extract(value, '$.kk') AS kk, json_extract(value, '$.m') AS m, "
    "json_extract(value, '$.ks') AS ks FROM json_each(:parts)"
)
_BEFORE_ANYTHING = datetime(1, 1, 1, tzinfo=UTC)
"""`lo` of a window without a start (nothing is stored before 1970)."""


@cache
def _document_statement(dialect: str, kinds: frozenset[str]) -> TextualSelect:
    """The statement of every document with these kinds of rows, built once (a
    batch that needs no cycle rows does not name their table)."""
    if dialect == "postgresql":
        document, in_meters, in_keys = _POSTGRES_DOCUMENT, "= ANY(p.m)", "= ANY(p.ks)"
    else:
        document = _SQLITE_DOCUMENT
        in_meters = "IN (SELECT value FROM json_each(p.m))"
        in_keys = "IN (SELECT value FROM json_each(p.ks))"
    branches = []
    for kind in _DOCUMENT_KINDS:
        if kind not in kinds:
            continue
        if kind in _EVENT_BRANCHES:
            sums = _SIGNED_EVENT_SUMS if kind == "e" else _SIGNED_AI_SPEND_SUMS
            branch = _EVENT_BRANCHES[kind].format(
                sums=sums,
                event_key=_EVENT_KEY,
                in_meters=in_meters,
                in_keys=in_keys,
                ai_spend=AI_SPEND_METER,
            )
        else:
            table, window = _WINDOWS[kind[0]]
            branch = _ROLLUP_BRANCH.format(
                sums=_SIGNED_ROLLUP_SUMS,
                table=table,
                meter=" AND x.meter_key = p.mk" if "m" in kind else "",
                key=" AND x.dimension_key = p.kk" if "k" in kind else "",
                window=window,
                kind=kind,
            )
        branches.append(branch)
    sql = f"WITH p AS ({document}) " + _GROUPED.format(
        parts="\n    UNION ALL".join(branches)
    )
    return (
        text(sql)
        .bindparams(bindparam("parts", type_=String()))
        .columns(**_RESULT_TYPES)
    )


def _document(parts: list[_Part], dialect: str) -> tuple[TextualSelect, dict[str, Any]]:
    """The parts as the rows of one JSON document, and its statement."""
    # SQLite compares stored instants as text, in SQLAlchemy's format.
    time = _postgres_time if dialect == "postgresql" else _sqlite_time
    rows: list[dict[str, Any]] = []
    for part in parts:
        where = part.where
        row = {
            "r": part.position,
            "k": part.kind,
            "s": part.sign,
            "o": where.organization_id,
            "d": where.dimension,
            "lo": time(part.lo or _BEFORE_ANYTHING),
            "hi": time(part.hi),
            "mk": None,
            "kk": None,
            "m": None,
            "ks": None,
        }
        if part.kind in ("e", "a"):
            rows.append(row | {"m": where.meters, "ks": where.keys})
            continue
        meters: list[str | None] = list(where.meters or ()) or [None]
        # `total` rows have one key, '': naming it lets the primary key find one
        # meter's hours by range.
        keys: list[str | None] = list(where.keys or ()) or [
            "" if where.dimension == "total" else None
        ]
        for meter in meters:
            for key in keys:
                kind = part.kind + ("m" if meter is not None else "")
                kind += "k" if key is not None else ""
                rows.append(row | {"k": kind, "mk": meter, "kk": key})
    statement = _document_statement(dialect, frozenset(row["k"] for row in rows))
    return statement, {"parts": orjson.dumps(rows).decode()}


def _postgres_time(at: datetime) -> str:
    return as_utc(at).isoformat()


def _sqlite_time(at: datetime) -> str:
    at = as_utc(at)
    return (
        f"{at.year:04}-{at.month:02}-{at.day:02} {at.hour:02}:{at.minute:02}:"
        f"{at.second:02}.{at.microsecond:06}"
    )
