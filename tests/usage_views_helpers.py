"""Provisioning and reading for the usage-view tests: an organization built with
`store.provisioning`, usage through the real write path, and a GraphQL read as its
ADMIN. Shared by `tests/resolvers/test_usage_views.py` and
`tests/schema/test_page_info.py`; the defaults are those test_usage_views.py's
docstring names (`org_a` on `pro`, anchored on 2026-01-01)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import count
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rules.enums import (
    BillingModel,
    BillingState,
    Enforcement,
    PlanTier,
    Role,
    SeatType,
    SubscriptionStatus,
    UsageStatus,
)
from store import provisioning as p
from store.db import SessionFactory
from store.recording import UsageEventSpec, record_usage
from tests.gateway_client import gateway, user_token

ADMIN = "admin"
SETUP = datetime(2025, 12, 1, tzinfo=UTC)
"""The provisioning clock: before every cycle the tests read (grants must expire
after it)."""
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
MARCH_END = "2026-04-01T00:00:00+00:00"

Spec = (
    p.PlanSpec
    | p.OrganizationSpec
    | p.SubscriptionSpec
    | p.MemberSpec
    | p.CreditGrantSpec
    | p.WorkspaceSpec
    | p.ModelPriceSpec
    | p.ReconciliationSpec
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def limit(
    meter: str,
    value: str | None = None,
    *,
    per_seat: bool = False,
    enforcement: Enforcement | None = None,
    free_units: str | None = None,
    credits_per_unit: str | None = None,
) -> p.PlanLimitSpec:
    return p.PlanLimitSpec(
        meter,
        dec(value),
        per_seat=per_seat,
        enforcement=enforcement,
        free_units=dec(free_units),
        credits_per_unit=dec(credits_per_unit),
    )


def plan(
    *limits: p.PlanLimitSpec,
    key: str = "pro",
    tier: PlanTier = PlanTier.PRO,
    monthly_credits: str | None = "1000",
    credits_per_seat: str | None = None,
    credits_per_usd: str | None = None,
) -> p.PlanSpec:
    return p.PlanSpec(
        key,
        key.title(),
        tier,
        monthly_credits=dec(monthly_credits),
        credits_per_seat=dec(credits_per_seat),
        credits_per_usd=dec(credits_per_usd),
        limits=limits,
    )


def customer(
    plan_spec: p.PlanSpec,
    *,
    org_id: str = "org_a",
    seats: int = 5,
    anchor: datetime = JAN_1,
    billing_model: BillingModel = BillingModel.CREDITS,
    billing_state: BillingState = BillingState.PAID,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    period: tuple[datetime, datetime] | None = None,
    retries_exhausted: bool = False,
) -> list[Spec]:
    """A plan, an organization subscribed to it, and its ADMIN `admin`."""
    return [
        plan_spec,
        p.OrganizationSpec(
            org_id,
            f"Org {org_id.removeprefix('org_').upper()}",
            billing_model=billing_model,
            billing_state=billing_state,
        ),
        p.SubscriptionSpec(
            org_id,
            plan_spec.key,
            seats,
            status=status,
            anchor=anchor,
            current_period_start=period[0] if period else None,
            current_period_end=period[1] if period else None,
            payment_retries_exhausted=retries_exhausted,
        ),
        member(ADMIN, "Admin", role=Role.ADMIN, org_id=org_id),
    ]


def member(
    user_id: str,
    name: str,
    *,
    role: Role = Role.MEMBER,
    email: str | None = None,
    teams: tuple[str, ...] = (),
    seat_type: SeatType | None = None,
    org_id: str = "org_a",
) -> p.MemberSpec:
    return p.MemberSpec(
        org_id,
        user_id,
        email or f"{user_id}@example.com",
        name,
        role=role,
        teams=teams,
        seat_type=seat_type,
    )


async def _apply(session: AsyncSession, spec: Spec, now: datetime) -> None:
    if isinstance(spec, p.PlanSpec):
        await p.upsert_plan(session, spec)
    elif isinstance(spec, p.OrganizationSpec):
        await p.upsert_organization(session, spec, now)
    elif isinstance(spec, p.SubscriptionSpec):
        await p.set_subscription(session, spec, now)
    elif isinstance(spec, p.MemberSpec):
        await p.upsert_member(session, spec, now)
    elif isinstance(spec, p.CreditGrantSpec):
        await p.grant_credits(session, spec, now)
    elif isinstance(spec, p.WorkspaceSpec):
        await p.upsert_workspace(session, spec)
    elif isinstance(spec, p.ModelPriceSpec):
        await p.set_model_price(session, spec)
    else:
        await p.set_reconciliation(session, spec)


async def provision(sessions: SessionFactory, *specs: Spec) -> None:
    async with sessions() as session, session.begin():
        for spec in specs:
            await _apply(session, spec, SETUP)


_keys = count(1)


def event(
    meter: str, quantity: str, occurred_at: str, org_id: str = "org_a", **fields: Any
) -> UsageEventSpec:
    return UsageEventSpec(
        idempotency_key=f"view-{next(_keys)}",
        organization_id=org_id,
        meter=meter,
        quantity=Decimal(quantity),
        occurred_at=utc(occurred_at),
        **fields,
    )


async def record(sessions: SessionFactory, *events: UsageEventSpec) -> None:
    """Record through the write path, received when the latest event occurred."""
    now = max(spec.occurred_at for spec in events if spec.occurred_at is not None)
    outcomes = await record_usage(sessions, list(events), now)
    assert [o.status for o in outcomes] == [UsageStatus.ACCEPTED] * len(events), [
        o.message for o in outcomes if o.status is not UsageStatus.ACCEPTED
    ]


async def execute(
    database_url: str,
    document: str,
    variables: dict[str, Any],
    *,
    token: str | None = None,
    operation_name: str | None = None,
) -> dict[str, Any]:
    async with gateway(database_url) as api:
        body = await api.execute(
            document,
            variables,
            token=token or user_token(ADMIN),
            operation_name=operation_name,
        )
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data
