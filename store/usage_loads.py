"""What usage decisions read from SQL: the organizations' terms and catalog, and the
counters' values when a counter store needs them (`load_fields`).

A constant number of statements per call, never one per event: a batch of a thousand
events costs what one costs. What they fill (`Org`, `Terms`, `MeterInfo`, `Grant`) is
defined in `store.usage_terms`, which the PostgreSQL loader shares.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from rules.cycles import Cycle
from rules.enums import BillingModel
from rules.pricing import ModelRates
from store.models import (
    CreditCycleSpend,
    CreditGrant,
    Member,
    Meter,
    ModelPrice,
    Organization,
    PersonalAllocation,
    Plan,
    PlanLimit,
    Subscription,
    UsageEvent,
    Workspace,
)
from store.rollup_sums import sum_rollups_many
from store.rollups import RollupRequest
from store.usage_terms import Grant, Lock, MeterInfo, Org, Terms, terms_of

MONTHLY_POOL = ""
"""`credit_cycle_spend.grant_id` of the cycle's MONTHLY pool."""
END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class FieldSource:
    """Where a counter's value comes from in SQL (see `store.counters` for fields)."""

    meter: str | None = None
    cycle: Cycle | None = None
    """With a meter: usage in this cycle; None: everything recorded."""
    user: str | None = None
    monthly: Cycle | None = None
    """The MONTHLY pool of this cycle."""
    grant: str | None = None


def among(
    column: QueryableAttribute[str], values: Collection[str], dialect: str
) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)` instead.

    One array parameter keeps the statement the same whatever the number of values,
    so the plan PostgreSQL caches for it after five runs still probes the index; with
    a thousand separate parameters the cached generic plan scans the table.
    """
    ordered = sorted(values)
    if dialect == "postgresql":
        array = bindparam(None, ordered, type_=postgresql.ARRAY(String()))
        return column == any_(array)
    return column.in_(ordered)


async def load_orgs(
    session: AsyncSession, org_ids: list[str], lock: Lock | None
) -> dict[str, Org]:
    """The organizations, locked first when deciding: a shared lock lets writers
    that decide in Redis run side by side, while the exclusive one (decisions from
    SQL or in this process, rebuilds) waits for all of them and excludes them."""
    query = (
        select(
            Organization.id, Organization.billing_model, Organization.counters_version
        )
        .where(Organization.id.in_(org_ids))
        .order_by(Organization.id)
    )
    if lock is not None:
        query = query.with_for_update(read=lock == "share")
    rows = {row.id: row for row in await session.execute(query)}
    terms = await _load_terms(session, list(rows))
    return {
        org_id: Org(
            org_id,
            row.billing_model is BillingModel.USD,
            terms.get(org_id),
            row.counters_version,
        )
        for org_id, row in rows.items()
    }


async def _load_terms(session: AsyncSession, org_ids: list[str]) -> dict[str, Terms]:
    if not org_ids:
        return {}
    rows = (
        await session.execute(
            select(Subscription, Plan)
            .join(Plan, Plan.key == Subscription.plan_key)
            .where(Subscription.organization_id.in_(org_ids))
        )
    ).all()
    plan_keys = sorted({plan.key for _, plan in rows})
    limits: dict[str, dict[str, PlanLimit]] = defaultdict(dict)
    if plan_keys:
        for limit in await session.scalars(
            select(PlanLimit).where(PlanLimit.plan_key.in_(plan_keys))
        ):
            limits[limit.plan_key][limit.meter_key] = limit
    return {
        sub.organization_id: terms_of(
            anchor=sub.anchor,
            period_start=sub.current_period_start,
            period_end=sub.current_period_end,
            seats=sub.seats,
            status=sub.status,
            retries_exhausted=sub.payment_retries_exhausted,
            tier=plan.tier,
            monthly_credits=plan.monthly_credits,
            credits_per_seat=plan.credits_per_seat,
            credits_per_usd=plan.credits_per_usd,
            limits=limits[plan.key],
        )
        for sub, plan in rows
    }


async def load_meters(session: AsyncSession) -> dict[str, MeterInfo]:
    rows = await session.execute(select(Meter.key, Meter.category, Meter.resets))
    return {key: MeterInfo(category, resets) for key, category, resets in rows}


async def load_members(
    session: AsyncSession, org_ids: list[str], users: set[str], dialect: str
) -> set[tuple[str, str]]:
    if not org_ids or not users:
        return set()
    rows = await session.execute(
        select(Member.organization_id, Member.user_id).where(
            Member.organization_id.in_(org_ids),
            among(Member.user_id, users, dialect),
        )
    )
    return {(org_id, user_id) for org_id, user_id in rows}


async def load_workspaces(
    session: AsyncSession, org_ids: list[str], workspaces: set[str], dialect: str
) -> set[tuple[str, str]]:
    if not org_ids or not workspaces:
        return set()
    rows = await session.execute(
        select(Workspace.organization_id, Workspace.id).where(
            Workspace.organization_id.in_(org_ids),
            among(Workspace.id, workspaces, dialect),
        )
    )
    return {(org_id, workspace_id) for org_id, workspace_id in rows}


async def load_prices(
    session: AsyncSession, models: set[str], dialect: str
) -> dict[str, ModelRates]:
    if not models:
        return {}
    prices = await session.scalars(
        select(ModelPrice).where(among(ModelPrice.model, models, dialect))
    )
    return {
        price.model: ModelRates(
            price.input_per_million_usd,
            price.output_per_million_usd,
            price.cache_read_per_million_usd,
            price.cache_write_per_million_usd,
        )
        for price in prices
    }


async def load_allocations(
    session: AsyncSession, org_ids: list[str], users: set[str], dialect: str
) -> dict[tuple[str, str, str], Decimal]:
    if not org_ids or not users:
        return {}
    rows = await session.execute(
        select(
            PersonalAllocation.organization_id,
            PersonalAllocation.user_id,
            PersonalAllocation.meter_key,
            PersonalAllocation.limit,
        ).where(
            PersonalAllocation.organization_id.in_(org_ids),
            among(PersonalAllocation.user_id, users, dialect),
        )
    )
    return {(org, user, meter): limit for org, user, meter, limit in rows}


async def load_grants(
    session: AsyncSession, org_ids: list[str]
) -> tuple[dict[str, list[Grant]], dict[str, Decimal]]:
    """BONUS and PURCHASED grants that still hold credits, and what each has spent."""
    grants: dict[str, list[Grant]] = defaultdict(list)
    spent: dict[str, Decimal] = {}
    if not org_ids:
        return grants, spent
    rows = await session.execute(
        select(
            CreditGrant.organization_id,
            CreditGrant.id,
            CreditGrant.kind,
            CreditGrant.amount,
            CreditGrant.spent,
            CreditGrant.expires_at,
        )
        .where(
            CreditGrant.organization_id.in_(org_ids),
            CreditGrant.spent < CreditGrant.amount,
        )
        .order_by(CreditGrant.id)
    )
    for org_id, grant_id, kind, amount, grant_spent, expires_at in rows:
        grants[org_id].append(Grant(grant_id, kind, amount, expires_at))
        spent[grant_id] = grant_spent
    return grants, spent


async def load_recorded(
    session: AsyncSession, pairs: Collection[tuple[str, str]], dialect: str
) -> set[tuple[str, str]]:
    """Which (organization, idempotency key) pairs are recorded already."""
    ordered = sorted(pairs)
    if not ordered:
        return set()
    query = _recorded_pg(ordered) if dialect == "postgresql" else _recorded(ordered)
    return {(org_id, key) for org_id, key in await session.execute(query)}


def _recorded(pairs: list[tuple[str, str]]) -> Select[str, str]:
    """SQLite: the pairs as one JSON array joined to the (organization, key) unique
    index, one probe per pair: a statement of the same text and one parameter for
    any number of organizations (an OR per organization passed SQLite's expression
    depth of 1,000 in a call for a thousand organizations)."""
    probe = (
        func.json_each(bindparam("probe_pairs", orjson.dumps(pairs).decode()))
        .table_valued("value")
        .alias("probe")
    )
    return select(UsageEvent.organization_id, UsageEvent.idempotency_key).join_from(
        probe,
        UsageEvent,
        and_(
            UsageEvent.organization_id == func.json_extract(probe.c.value, "$[0]"),
            UsageEvent.idempotency_key == func.json_extract(probe.c.value, "$[1]"),
        ),
    )


def _recorded_pg(pairs: list[tuple[str, str]]) -> Select[str, str]:
    """The keys as a joined `unnest` of two arrays: one probe of the unique index per
    key (a long IN list may be planned as a scan of the organization's events, each
    compared with every key)."""
    array = postgresql.ARRAY(String())
    probe = (
        func.unnest(
            bindparam("probe_orgs", [org_id for org_id, _ in pairs], type_=array),
            bindparam("probe_keys", [key for _, key in pairs], type_=array),
        )
        .table_valued("organization_id", "idempotency_key")
        .render_derived("probe")
    )
    return select(UsageEvent.organization_id, UsageEvent.idempotency_key).join_from(
        probe,
        UsageEvent,
        and_(
            UsageEvent.organization_id == probe.c.organization_id,
            UsageEvent.idempotency_key == probe.c.idempotency_key,
        ),
    )


# --------------------------------------------------------------------------- counters


async def load_fields(
    session: AsyncSession, wanted: Mapping[str, Mapping[str, FieldSource]]
) -> dict[str, dict[str, Decimal]]:
    """Counter values from SQL, per organization and field: at most three statements
    whatever the number of fields (rollup sums, MONTHLY pools, grants)."""
    requests: list[RollupRequest] = []
    targets: list[tuple[str, dict[tuple[str, str], str]]] = []
    monthly: dict[tuple[str, datetime], str] = {}
    grants: dict[str, tuple[str, str]] = {}
    for org_id, sources in wanted.items():
        for request, names in _rollup_requests(org_id, sources):
            requests.append(request)
            targets.append((org_id, names))
        for name, source in sources.items():
            if source.monthly is not None:
                monthly[(org_id, source.monthly.start)] = name
            elif source.grant is not None:
                grants[source.grant] = (org_id, name)
    found: dict[str, dict[str, Decimal]] = {
        org_id: dict.fromkeys(sources, _ZERO) for org_id, sources in wanted.items()
    }
    for (org_id, names), sums in zip(
        targets, await sum_rollups_many(session, requests), strict=True
    ):
        for meter_key, totals in sums.items():
            if (target := names.get(meter_key)) is not None:
                found[org_id][target] = totals.quantity
    if monthly:
        rows = await session.execute(
            select(
                CreditCycleSpend.organization_id,
                CreditCycleSpend.cycle_start,
                CreditCycleSpend.spent,
            ).where(
                CreditCycleSpend.organization_id.in_({o for o, _ in monthly}),
                CreditCycleSpend.cycle_start.in_({start for _, start in monthly}),
                CreditCycleSpend.grant_id == MONTHLY_POOL,
            )
        )
        for org_id, cycle_start, spent in rows:
            if (target := monthly.get((org_id, cycle_start))) is not None:
                found[org_id][target] = spent
    if grants:
        spent_rows = await session.execute(
            select(CreditGrant.id, CreditGrant.spent).where(
                CreditGrant.id.in_(sorted(grants))
            )
        )
        for grant_id, spent in spent_rows:
            org_id, target = grants[grant_id]
            found[org_id][target] = spent
    return found


def _rollup_requests(
    org_id: str, sources: Mapping[str, FieldSource]
) -> list[tuple[RollupRequest, dict[tuple[str, str], str]]]:
    """One rollup sum for every cumulative meter wanted, and per cycle one for the
    resetting meters and one for the users' usage: (request, (meter, key) -> field)."""
    lifetime: dict[tuple[str, str], str] = {}
    totals: dict[Cycle, dict[tuple[str, str], str]] = defaultdict(dict)
    users: dict[Cycle, dict[tuple[str, str], str]] = defaultdict(dict)
    for name, source in sources.items():
        if source.meter is None:
            continue
        if source.user is not None:
            assert source.cycle is not None  # a user's usage is per cycle
            users[source.cycle][(source.meter, source.user)] = name
        elif source.cycle is None:
            lifetime[(source.meter, "")] = name
        else:
            totals[source.cycle][(source.meter, "")] = name
    requests: list[tuple[RollupRequest, dict[tuple[str, str], str]]] = []

    def add(
        dimension: str,
        start: datetime | None,
        end: datetime,
        names: dict[tuple[str, str], str],
    ) -> None:
        meters = tuple(sorted({meter for meter, _ in names}))
        requests.append(
            (RollupRequest(org_id, dimension, start, end, meters), dict(names))
        )

    if lifetime:
        add("total", None, END_OF_TIME, lifetime)
    for cycle, names in totals.items():
        add("total", cycle.start, cycle.end, names)
    for cycle, names in users.items():
        add("user", cycle.start, cycle.end, names)
    return requests
