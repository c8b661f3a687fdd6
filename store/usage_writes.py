"""Writing accepted usage events: the events, the credit ledger, pools and rollups.

PostgreSQL gets one statement per call, whatever the number of events: the events are
inserted from one JSON document (`json_to_recordset`), and data-modifying CTEs add
their draws (joined to the inserted ids), the grants' and cycles' spending, the hourly
and per-cycle rollups and, when asked, the organizations' `counters_version`. It runs
on the asyncpg connection of the session's transaction: SQLAlchemy's per-value bind
processing, and the driver's per-element array encoding, cost more than the
database's work at a thousand events. Amounts travel as decimal strings, never as
floats. SQLite (one writer, the embedded default) uses a few SQLAlchemy Core
statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from rules.amounts import quantize
from rules.credits import Draw
from rules.enums import AiFeature, CreditPoolKind, UsageSource
from store.decisions.events import StoredEvent
from store.models import (
    CreditCycleSpend,
    CreditDraw,
    CreditGrant,
    Organization,
    UsageEvent,
)
from store.rollups import Totals, add_to_rollups, aggregate, aggregate_cycles
from store.types import Amount
from store.usage_loads import MONTHLY_POOL

_EVENTS = cast(Table, UsageEvent.__table__)
_DRAWS = cast(Table, CreditDraw.__table__)
_GRANTS = cast(Table, CreditGrant.__table__)
_CYCLE_SPEND = cast(Table, CreditCycleSpend.__table__)
_ORGANIZATIONS = cast(Table, Organization.__table__)
_ENUM_NAMES: dict[Enum, str] = {
    member: member.name
    for kind in (UsageSource, AiFeature, CreditPoolKind)
    for member in kind
}
"""Enum names without the `name` property's cost, a thousand times per call."""

_POSTGRES = """
WITH events AS (
    INSERT INTO usage_events (
        organization_id, idempotency_key, meter_key, quantity, occurred_at,
        received_at, cycle_start, user_id, workspace_id, source, feature, model,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        cost_usd, unpriced, credits, free_units_used, definition_id, definition_name
    )
    SELECT o, k, m, q, oa, ra, cs, u, w, s, f, md, ti, tt, tr, tw, c, up, cr, fr,
        di, dn
    FROM json_to_recordset($1::json) AS e(
        o varchar, k varchar, m varchar, q numeric, oa timestamptz, ra timestamptz,
        cs timestamptz, u varchar, w varchar, s varchar, f varchar, md varchar,
        ti bigint, tt bigint, tr bigint, tw bigint, c numeric, up boolean,
        cr numeric, fr numeric, di varchar, dn varchar
    )
    RETURNING id, organization_id, idempotency_key
), draws AS (
    INSERT INTO credit_draws (
        organization_id, event_id, cycle_start, kind, grant_id, amount
    )
    SELECT d.o, events.id, d.cs, d.kd, d.g, d.a
    FROM json_to_recordset($2::json) AS d(
        n bigint, o varchar, k varchar, cs timestamptz, kd varchar, g varchar,
        a numeric
    )
    JOIN events ON events.organization_id = d.o AND events.idempotency_key = d.k
    ORDER BY d.n  -- the ledger lists an event's draws in the order they were drawn
), grants AS (
    UPDATE credit_grants SET spent = credit_grants.spent + g.delta
    FROM unnest($3::varchar[], $4::numeric[]) AS g(id, delta)
    WHERE credit_grants.id = g.id
), cycles AS (
    INSERT INTO credit_cycle_spend (organization_id, cycle_start, grant_id, kind, spent)
    SELECT * FROM unnest(
        $5::varchar[], $6::timestamptz[], $7::varchar[], $8::varchar[],
        $9::numeric[]
    )
    ON CONFLICT (organization_id, cycle_start, grant_id)
    DO UPDATE SET spent = credit_cycle_spend.spent + excluded.spent
), rollups AS (
    INSERT INTO usage_rollups (
        organization_id, meter_key, dimension, dimension_key, hour,
        quantity, credits, cost_usd, free_units_used, events, unpriced_events
    )
    SELECT o, m, d, k, h, q, cr, c, fr, n, un
    FROM json_to_recordset($10::json) AS r(
        o varchar, m varchar, d varchar, k varchar, h timestamptz, q numeric,
        cr numeric, c numeric, fr numeric, n bigint, un bigint
    )
    ORDER BY o, m, d, k, h
    ON CONFLICT (organization_id, meter_key, dimension, dimension_key, hour)
    DO UPDATE SET
        quantity = usage_rollups.quantity + excluded.quantity,
        credits = usage_rollups.credits + excluded.credits,
        cost_usd = usage_rollups.cost_usd + excluded.cost_usd,
        free_units_used = usage_rollups.free_units_used + excluded.free_units_used,
        events = usage_rollups.events + excluded.events,
        unpriced_events = usage_rollups.unpriced_events + excluded.unpriced_events
), cycle_rollups AS (
    INSERT INTO usage_cycle_rollups (
        organization_id, meter_key, dimension, dimension_key, cycle_start,
        quantity, credits, cost_usd, free_units_used, events, unpriced_events
    )
    SELECT o, m, d, k, h, q, cr, c, fr, n, un
    FROM json_to_recordset($12::json) AS r(
        o varchar, m varchar, d varchar, k varchar, h timestamptz, q numeric,
        cr numeric, c numeric, fr numeric, n bigint, un bigint
    )
    ORDER BY o, m, d, k, h
    ON CONFLICT (organization_id, meter_key, dimension, dimension_key, cycle_start)
    DO UPDATE SET
        quantity = usage_cycle_rollups.quantity + excluded.quantity,
        credits = usage_cycle_rollups.credits + excluded.credits,
        cost_usd = usage_cycle_rollups.cost_usd + excluded.cost_usd,
        free_units_used = usage_cycle_rollups.free_units_used
            + excluded.free_units_used,
        events = usage_cycle_rollups.events + excluded.events,
        unpriced_events = usage_cycle_rollups.unpriced_events
            + excluded.unpriced_events
), versions AS (
    UPDATE organizations SET counters_version = counters_version + 1
    WHERE id = ANY($11::varchar[])
)
SELECT count(*) FROM events
"""


async def write_accepted(
    session: AsyncSession,
    accepted: list[StoredEvent],
    dialect: str,
    advance: Collection[str] = (),
) -> None:
    """Store the accepted events and everything they change; move the counters
    version of the organizations in `advance`. Nothing is committed here."""
    if not accepted and not advance:
        return
    if dialect == "postgresql":
        await _write_postgres(session, accepted, advance)
        return
    if accepted:
        ids = await _insert_events(session, accepted)
        draws = [(event, draw) for event in accepted for draw in event.draws]
        if draws:
            await _insert_draws(session, draws, ids)
            await _add_grant_spending(session, draws)
            await _add_cycle_spending(session, draws)
        await add_to_rollups(session, accepted)
    if advance:
        await session.execute(
            update(_ORGANIZATIONS)
            .where(_ORGANIZATIONS.c.id.in_(sorted(advance)))
            .values(counters_version=_ORGANIZATIONS.c.counters_version + 1)
        )


# --------------------------------------------------------------------------- postgres


async def _write_postgres(
    session: AsyncSession, accepted: list[StoredEvent], advance: Collection[str]
) -> None:
    """The one statement. Many-row inputs travel as JSON documents: encoding a
    thousand rows of arrays element by element cost the driver more CPU than the
    database spent storing them."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    draws = [(event, draw) for event in accepted for draw in event.draws]
    await driver.fetchval(
        _POSTGRES,
        _json_events(accepted),
        _json_draws(draws),
        *_columns(sorted(_grant_spending(draws).items()), 2),
        *_columns(
            [(*key, amount) for key, amount in sorted(_cycle_spending(draws).items())],
            5,
        ),
        _json_rollups(aggregate(accepted)),
        sorted(advance),
        _json_rollups(aggregate_cycles(accepted)),
    )


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column (what `unnest` takes)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def _json_events(accepted: list[StoredEvent]) -> str:
    """The events' rows (enum names looked up: the `name` property costs more)."""
    names = _ENUM_NAMES
    return orjson.dumps(
        [
            {
                "o": e.organization_id,
                "k": e.idempotency_key,
                "m": e.meter_key,
                "q": str(e.quantity),
                "oa": e.occurred_at,
                "ra": e.received_at,
                "cs": e.cycle_start,
                "u": e.user_id,
                "w": e.workspace_id,
                "s": names[e.source],
                "f": None if e.feature is None else names[e.feature],
                "md": e.model,
                "ti": e.tokens.input,
                "tt": e.tokens.output,
                "tr": e.tokens.cache_read,
                "tw": e.tokens.cache_write,
                "c": None if e.cost_usd is None else str(e.cost_usd),
                "up": e.unpriced,
                "cr": str(e.credits),
                "fr": str(e.free_units_used),
                "di": e.definition_id,
                "dn": e.definition_name,
            }
            for e in accepted
        ]
    ).decode()


def _json_draws(draws: list[tuple[StoredEvent, Draw]]) -> str:
    return orjson.dumps(
        [
            {
                "n": position,
                "o": event.organization_id,
                "k": event.idempotency_key,
                "cs": event.cycle.start,
                "kd": _ENUM_NAMES[draw.kind],
                "g": draw.grant_id,
                "a": str(draw.amount),
            }
            for position, (event, draw) in enumerate(draws)
        ]
    ).decode()


def _json_rollups(rows: dict[tuple[str, str, str, str, datetime], Totals]) -> str:
    """One row per hour (or cycle), meter and dimension key; the statement writes
    them in key order, so racing writers lock the rows they share in the same
    order."""
    return orjson.dumps(
        [
            {
                "o": org,
                "m": meter,
                "d": dimension,
                "k": key,
                "h": hour,
                "q": str(quantize(totals.quantity)),
                "cr": str(quantize(totals.credits)),
                "c": str(quantize(totals.cost_usd)),
                "fr": str(quantize(totals.free_units_used)),
                "n": totals.events,
                "un": totals.unpriced_events,
            }
            for (org, meter, dimension, key, hour), totals in rows.items()
        ]
    ).decode()


# --------------------------------------------------------------------------- shared


def _grant_spending(draws: list[tuple[StoredEvent, Draw]]) -> dict[str, Decimal]:
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for _, draw in draws:
        if draw.grant_id is not None:
            spent[draw.grant_id] += draw.amount
    return spent


def _cycle_spending(
    draws: list[tuple[StoredEvent, Draw]],
) -> dict[tuple[str, datetime, str, str], Decimal]:
    """What each pool spent per cycle ('' is the MONTHLY pool)."""
    spent: dict[tuple[str, datetime, str, str], Decimal] = defaultdict(Decimal)
    for event, draw in draws:
        assert event.cycle_start is not None  # only subscriptions draw credits
        pool = draw.grant_id if draw.grant_id is not None else MONTHLY_POOL
        key = (event.organization_id, event.cycle_start, pool, _ENUM_NAMES[draw.kind])
        spent[key] += draw.amount
    return spent


# --------------------------------------------------------------------------- sqlite


async def _insert_events(
    session: AsyncSession, accepted: list[StoredEvent]
) -> dict[tuple[str, str], int]:
    """Insert the events; their ids by (organization, idempotency key)."""
    rows = [event.row() for event in accepted]
    returning = (_EVENTS.c.id, _EVENTS.c.organization_id, _EVENTS.c.idempotency_key)
    result = await session.execute(_EVENTS.insert().returning(*returning), rows)
    return {(org_id, key): event_id for event_id, org_id, key in result}


async def _insert_draws(
    session: AsyncSession,
    draws: list[tuple[StoredEvent, Draw]],
    ids: dict[tuple[str, str], int],
) -> None:
    await session.execute(
        _DRAWS.insert(),
        [
            {
                "organization_id": event.organization_id,
                "event_id": ids[(event.organization_id, event.idempotency_key)],
                "cycle_start": event.cycle.start,
                "kind": draw.kind,
                "grant_id": draw.grant_id,
                "amount": draw.amount,
            }
            for event, draw in draws
        ],
    )


async def _add_grant_spending(
    session: AsyncSession, draws: list[tuple[StoredEvent, Draw]]
) -> None:
    spent = _grant_spending(draws)
    if not spent:
        return
    await session.execute(
        update(_GRANTS)
        .where(_GRANTS.c.id == bindparam("grant"))
        .values(spent=_GRANTS.c.spent + bindparam("delta", type_=Amount())),
        [{"grant": grant, "delta": delta} for grant, delta in sorted(spent.items())],
    )


async def _add_cycle_spending(
    session: AsyncSession, draws: list[tuple[StoredEvent, Draw]]
) -> None:
    statement = sqlite.insert(_CYCLE_SPEND).values(
        [
            {
                "organization_id": org_id,
                "cycle_start": cycle_start,
                "grant_id": pool,
                "kind": CreditPoolKind[kind],
                "spent": amount,
            }
            for (org_id, cycle_start, pool, kind), amount in sorted(
                _cycle_spending(draws).items()
            )
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["organization_id", "cycle_start", "grant_id"],
            set_={"spent": _CYCLE_SPEND.c.spent + statement.excluded.spent},
        )
    )
