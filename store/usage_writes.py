"""Writing accepted usage events: the events, the credit ledger, pools and rollups.

PostgreSQL gets one statement per call, whatever the number of events: the events are
inserted from one array per column (`unnest`), and data-modifying CTEs add their draws
(joined to the inserted ids), the grants' and cycles' spending, the hourly rollups and,
when asked, the organizations' `counters_version`. It runs on the asyncpg connection
of the session's transaction: SQLAlchemy's per-value bind processing cost more than
the database's work at a thousand events. SQLite (one writer, the embedded default)
uses a few SQLAlchemy Core statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from rules.amounts import quantize
from rules.credits import Draw
from rules.enums import CreditPoolKind
from store.decisions import StoredEvent
from store.models import (
    CreditCycleSpend,
    CreditDraw,
    CreditGrant,
    Organization,
    UsageEvent,
)
from store.rollups import Totals, add_to_rollups, aggregate
from store.types import Amount
from store.usage_loads import MONTHLY_POOL

_EVENTS = cast(Table, UsageEvent.__table__)
_DRAWS = cast(Table, CreditDraw.__table__)
_GRANTS = cast(Table, CreditGrant.__table__)
_CYCLE_SPEND = cast(Table, CreditCycleSpend.__table__)
_ORGANIZATIONS = cast(Table, Organization.__table__)

_POSTGRES = """
WITH events AS (
    INSERT INTO usage_events (
        organization_id, idempotency_key, meter_key, quantity, occurred_at,
        received_at, cycle_start, user_id, workspace_id, source, feature, model,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        cost_usd, unpriced, credits, free_units_used, definition_id, definition_name
    )
    SELECT * FROM unnest(
        $1::varchar[], $2::varchar[], $3::varchar[], $4::numeric[],
        $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::varchar[],
        $9::varchar[], $10::varchar[], $11::varchar[], $12::varchar[],
        $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[],
        $17::numeric[], $18::boolean[], $19::numeric[], $20::numeric[],
        $21::varchar[], $22::varchar[]
    )
    RETURNING id, organization_id, idempotency_key
), draws AS (
    INSERT INTO credit_draws (
        organization_id, event_id, cycle_start, kind, grant_id, amount
    )
    SELECT d.organization_id, events.id, d.cycle_start, d.kind, d.grant_id, d.amount
    FROM unnest(
        $23::varchar[], $24::varchar[], $25::timestamptz[], $26::varchar[],
        $27::varchar[], $28::numeric[]
    ) AS d(organization_id, idempotency_key, cycle_start, kind, grant_id, amount)
    JOIN events USING (organization_id, idempotency_key)
), grants AS (
    UPDATE credit_grants SET spent = credit_grants.spent + g.delta
    FROM unnest($29::varchar[], $30::numeric[]) AS g(id, delta)
    WHERE credit_grants.id = g.id
), cycles AS (
    INSERT INTO credit_cycle_spend (organization_id, cycle_start, grant_id, kind, spent)
    SELECT * FROM unnest(
        $31::varchar[], $32::timestamptz[], $33::varchar[], $34::varchar[],
        $35::numeric[]
    )
    ON CONFLICT (organization_id, cycle_start, grant_id)
    DO UPDATE SET spent = credit_cycle_spend.spent + excluded.spent
), rollups AS (
    INSERT INTO usage_rollups (
        organization_id, meter_key, dimension, dimension_key, hour,
        quantity, credits, cost_usd, free_units_used, events, unpriced_events
    )
    SELECT * FROM unnest(
        $36::varchar[], $37::varchar[], $38::varchar[], $39::varchar[],
        $40::timestamptz[], $41::numeric[], $42::numeric[], $43::numeric[],
        $44::numeric[], $45::bigint[], $46::bigint[]
    )
    ON CONFLICT (organization_id, meter_key, dimension, dimension_key, hour)
    DO UPDATE SET
        quantity = usage_rollups.quantity + excluded.quantity,
        credits = usage_rollups.credits + excluded.credits,
        cost_usd = usage_rollups.cost_usd + excluded.cost_usd,
        free_units_used = usage_rollups.free_units_used + excluded.free_units_used,
        events = usage_rollups.events + excluded.events,
        unpriced_events = usage_rollups.unpriced_events + excluded.unpriced_events
), versions AS (
    UPDATE organizations SET counters_version = counters_version + 1
    WHERE id = ANY($47::varchar[])
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
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    draws = [(event, draw) for event in accepted for draw in event.draws]
    await driver.fetchval(
        _POSTGRES,
        *_event_columns(accepted),
        *_draw_columns(draws),
        *_columns(sorted(_grant_spending(draws).items()), 2),
        *_columns(
            [(*key, amount) for key, amount in sorted(_cycle_spending(draws).items())],
            5,
        ),
        *_rollup_columns(accepted),
        sorted(advance),
    )


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column (what `unnest` takes)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def _event_columns(accepted: list[StoredEvent]) -> list[list[Any]]:
    return _columns(
        [
            (
                e.organization_id,
                e.idempotency_key,
                e.meter_key,
                e.quantity,
                e.occurred_at,
                e.received_at,
                e.cycle_start,
                e.user_id,
                e.workspace_id,
                e.source.name,
                None if e.feature is None else e.feature.name,
                e.model,
                e.tokens.input,
                e.tokens.output,
                e.tokens.cache_read,
                e.tokens.cache_write,
                e.cost_usd,
                e.unpriced,
                e.credits,
                e.free_units_used,
                e.definition_id,
                e.definition_name,
            )
            for e in accepted
        ],
        22,
    )


def _draw_columns(draws: list[tuple[StoredEvent, Draw]]) -> list[list[Any]]:
    return _columns(
        [
            (
                event.organization_id,
                event.idempotency_key,
                event.cycle.start,
                draw.kind.name,
                draw.grant_id,
                draw.amount,
            )
            for event, draw in draws
        ],
        6,
    )


def _rollup_columns(accepted: list[StoredEvent]) -> list[list[Any]]:
    """One row per hour, meter and dimension key, in key order: racing writers
    lock the rows they share in the same order."""
    totals = aggregate(accepted)
    return _columns(
        [(*key, *_sums(totals[key])) for key in sorted(totals)],
        11,
    )


def _sums(totals: Totals) -> tuple[Any, ...]:
    return (
        quantize(totals.quantity),
        quantize(totals.credits),
        quantize(totals.cost_usd),
        quantize(totals.free_units_used),
        totals.events,
        totals.unpriced_events,
    )


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
        key = (event.organization_id, event.cycle_start, pool, draw.kind.name)
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
