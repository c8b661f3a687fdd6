"""Range sums of a large batch: its parts as the rows of one JSON document.

A batch past `store.rollup_sums.union`'s limits (a partner's thousand organizations,
a user in hundreds of them) would pass what the databases accept: SQLite's 500 terms
of a compound SELECT and its 32,766 variables, PostgreSQL's stack depth. Its parts
travel instead as one JSON document (`json_to_recordset` on PostgreSQL, `json_each`
on SQLite) joined to the tables, one branch per kind of part: the same text and one
parameter whatever the number of organizations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import String, TextualSelect, bindparam, text

from rules.cycles import as_utc
from store.rollup_sums.parts import GROUPED, RESULT_TYPES, Part
from store.rollups import AI_SPEND_METER

_EVENT_KEY = (
    "CASE p.d WHEN 'total' THEN '' WHEN 'source' THEN e.source "
    "WHEN 'user' THEN e.user_id WHEN 'workspace' THEN e.workspace_id "
    "WHEN 'feature' THEN e.feature WHEN 'feature_model' THEN e.feature || '|' || "
    "e.model END"
)
"""`store.rollup_sums.union`'s `_DIMENSION_KEY` by the part's dimension."""
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
(organization), d (dimension), [lo, hi] (the window, as `Part`'s, lo never
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
    sql = f"WITH p AS ({document}) " + GROUPED.format(
        parts="\n    UNION ALL".join(branches)
    )
    return (
        text(sql).bindparams(bindparam("parts", type_=String())).columns(**RESULT_TYPES)
    )


def document_of(
    parts: list[Part], dialect: str
) -> tuple[TextualSelect, dict[str, Any]]:
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
