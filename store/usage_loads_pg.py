"""What usage decisions read from PostgreSQL, in one statement.

`Books.load` needs the organizations (and their row locks), their subscriptions,
plans and limits, their grants, the call's meters, members, workspaces, model prices
and personal allocations. Read one query at a time that is seven to nine round trips
before anything is decided, which was most of a `usageCheck` and of a one-event
`recordUsage`. Here every part is an `ARRAY(SELECT ROW(...))` column of one row:
asyncpg decodes the anonymous records with the columns' own types (exact `Decimal`,
aware `datetime`), so nothing is parsed from text.

Locking: a deciding call first locks its organization rows in id order (FOR SHARE
or FOR UPDATE: `store.recording`), in a statement of its own, and reads everything
in a second one. The read must start after the lock is held: under READ COMMITTED a
statement sees what committed before it started, so a subscription or version
change that the lock waited out is seen, exactly as when each part was its own
statement. A usage check takes no lock: its one statement is one snapshot.

Only what the call names is read: the meters of its events (and `ai_spend_usd`,
which an AI event's cost also counts on), the members, workspaces and models it
names. SQLite keeps the one-query-per-part loaders of `store.usage_loads`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rules.enums import (
    BillingModel,
    CreditPoolKind,
    Enforcement,
    MeterCategory,
    PlanTier,
    Resets,
    SubscriptionStatus,
)
from rules.pricing import ModelRates
from store.usage_terms import Grant, Limit, Lock, MeterInfo, Org, terms_of

_LOCK = {
    "share": "SELECT id FROM organizations WHERE id = ANY($1::varchar[]) "
    "ORDER BY id FOR SHARE",
    "update": "SELECT id FROM organizations WHERE id = ANY($1::varchar[]) "
    "ORDER BY id FOR UPDATE",
}

_BOOKS = """
SELECT
    ARRAY(
        SELECT ROW(o.id, o.billing_model, o.counters_version)
        FROM organizations o WHERE o.id = ANY($1::varchar[])
    ) AS orgs,
    ARRAY(
        SELECT ROW(
            s.organization_id, s.anchor, s.current_period_start,
            s.current_period_end, s.seats, s.status, s.payment_retries_exhausted,
            p.key, p.tier, p.monthly_credits, p.credits_per_seat, p.credits_per_usd
        )
        FROM subscriptions s JOIN plans p ON p.key = s.plan_key
        WHERE s.organization_id = ANY($1::varchar[])
    ) AS terms,
    ARRAY(
        SELECT ROW(
            l.plan_key, l.meter_key, l."limit", l.per_seat, l.enforcement,
            l.free_units, l.credits_per_unit
        )
        FROM plan_limits l
        WHERE l.plan_key IN (
            SELECT s.plan_key FROM subscriptions s
            WHERE s.organization_id = ANY($1::varchar[])
        )
    ) AS limits,
    ARRAY(
        SELECT ROW(g.organization_id, g.id, g.kind, g.amount, g.spent, g.expires_at)
        FROM credit_grants g
        WHERE g.organization_id = ANY($1::varchar[]) AND g.spent < g.amount
        ORDER BY g.id
    ) AS grants,
    ARRAY(
        SELECT ROW(m.key, m.category, m.resets)
        FROM meters m WHERE m.key = ANY($2::varchar[])
    ) AS meters,
    ARRAY(
        SELECT ROW(m.organization_id, m.user_id)
        FROM members m
        WHERE m.organization_id = ANY($1::varchar[]) AND m.user_id = ANY($3::varchar[])
    ) AS members,
    ARRAY(
        SELECT ROW(w.organization_id, w.id)
        FROM workspaces w
        WHERE w.organization_id = ANY($1::varchar[]) AND w.id = ANY($4::varchar[])
    ) AS workspaces,
    ARRAY(
        SELECT ROW(
            p.model, p.input_per_million_usd, p.output_per_million_usd,
            p.cache_read_per_million_usd, p.cache_write_per_million_usd
        )
        FROM model_prices p WHERE p.model = ANY($5::varchar[])
    ) AS prices,
    ARRAY(
        SELECT ROW(a.organization_id, a.user_id, a.meter_key, a."limit")
        FROM personal_allocations a
        WHERE a.organization_id = ANY($1::varchar[]) AND a.user_id = ANY($3::varchar[])
    ) AS allocations
"""


@dataclass
class Loaded:
    """Everything `Books` decides with, as `store.usage_loads` loads it."""

    orgs: dict[str, Org]
    meters: dict[str, MeterInfo]
    members: set[tuple[str, str]]
    workspaces: set[tuple[str, str]]
    prices: dict[str, ModelRates]
    allocations: dict[tuple[str, str, str], Decimal]
    grants: dict[str, list[Grant]]
    grant_spent: dict[str, Decimal]


async def load_books_postgres(
    session: AsyncSession,
    org_ids: Collection[str],
    meters: Collection[str],
    users: Collection[str],
    workspaces: Collection[str],
    models: Collection[str],
    lock: Lock | None,
) -> Loaded:
    """The organizations (locked first when `lock` says so) and what their events
    name, in one statement after the lock; grants only for credit organizations."""
    connection = await session.connection()
    ids = sorted(org_ids)
    if lock is not None:
        await connection.exec_driver_sql(_LOCK[lock], (ids,))
    row: Any = (
        await connection.exec_driver_sql(
            _BOOKS,
            (ids, sorted(meters), sorted(users), sorted(workspaces), sorted(models)),
        )
    ).one()
    orgs = _orgs(row.orgs, row.terms, row.limits)
    grants: dict[str, list[Grant]] = defaultdict(list)
    spent: dict[str, Decimal] = {}
    for org_id, grant_id, kind, amount, grant_spent, expires_at in row.grants:
        org = orgs.get(org_id)
        if org is None or org.usd or org.terms is None:
            continue  # only credit organizations draw from grants
        grants[org_id].append(
            Grant(grant_id, CreditPoolKind[kind], amount, _at(expires_at))
        )
        spent[grant_id] = grant_spent
    return Loaded(
        orgs=orgs,
        meters={
            key: MeterInfo(MeterCategory[category], Resets[resets])
            for key, category, resets in row.meters
        },
        members={(org_id, user_id) for org_id, user_id in row.members},
        workspaces={(org_id, ws) for org_id, ws in row.workspaces},
        prices={
            model: ModelRates(inputs, outputs, cache_read, cache_write)
            for model, inputs, outputs, cache_read, cache_write in row.prices
        },
        allocations={
            (org_id, user_id, meter): limit
            for org_id, user_id, meter, limit in row.allocations
        },
        grants=grants,
        grant_spent=spent,
    )


def _orgs(
    org_rows: list[tuple[Any, ...]],
    term_rows: list[tuple[Any, ...]],
    limit_rows: list[tuple[Any, ...]],
) -> dict[str, Org]:
    limits: dict[str, dict[str, Limit]] = defaultdict(dict)
    for plan_key, meter_key, limit, per_seat, enforcement, free, per_unit in limit_rows:
        limits[plan_key][meter_key] = Limit(
            limit, per_seat, Enforcement[enforcement], free, per_unit
        )
    terms = {}
    for row in term_rows:
        (org_id, anchor, start, end, seats, status, exhausted) = row[:7]
        plan_key, tier, monthly, per_seat_credits, per_usd = row[7:]
        terms[org_id] = terms_of(
            anchor=anchor.astimezone(UTC),
            period_start=_at(start),
            period_end=_at(end),
            seats=seats,
            status=SubscriptionStatus[status],
            retries_exhausted=exhausted,
            tier=PlanTier[tier],
            monthly_credits=monthly,
            credits_per_seat=per_seat_credits,
            credits_per_usd=per_usd,
            limits=limits[plan_key],
        )
    return {
        org_id: Org(
            org_id,
            BillingModel[billing_model] is BillingModel.USD,
            terms.get(org_id),
            version,
        )
        for org_id, billing_model, version in sorted(org_rows)
    }


def _at(value: datetime | None) -> datetime | None:
    """As `store.types.UtcDateTime` reads it: an aware UTC instant."""
    return None if value is None else value.astimezone(UTC)
