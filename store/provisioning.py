"""Operators' catalog and customer set-up, and admins' seat changes.

Every function checks its whole input first and raises `Rejected` with every problem
it found before writing anything, so a rejected mutation leaves the database as it
was and the caller can report all errors at once. Upserts are idempotent on their key
or id: the spec is the desired state, and applying it twice changes nothing. Nothing
here commits; the caller owns the transaction.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rules.amounts import (
    MAX_CREDITS,
    MAX_LIMIT,
    MAX_RATE,
    MAX_SEATS,
    amount_problem,
)
from rules.enums import (
    BillingModel,
    BillingState,
    CreditPoolKind,
    Enforcement,
    ModelTier,
    PlanTier,
    ReconciliationStatus,
    Role,
    SeatType,
    SubscriptionStatus,
)
from rules.meters import default_enforcement
from store.catalog import MeterSpec
from store.catalog_cache import catalog_changed
from store.decisions import FUTURE_TOLERANCE
from store.errors import Rejected, UserError
from store.models import (
    CreditGrant,
    Member,
    MemberTeam,
    Meter,
    ModelPrice,
    Organization,
    PersonalAllocation,
    Plan,
    PlanLimit,
    PlanSeatCap,
    Reconciliation,
    Subscription,
    UsageCycleRollup,
    User,
    Workspace,
    WorkspaceGroup,
)

__all__ = [
    "CreditGrantSpec",
    "MemberSpec",
    "MeterSpec",
    "ModelPriceSpec",
    "OrganizationSpec",
    "PlanLimitSpec",
    "PlanSpec",
    "ReconciliationSpec",
    "Rejected",
    "SubscriptionSpec",
    "UserError",
    "WorkspaceSpec",
    "allocate_seat",
    "change_seats",
    "deallocate_seat",
    "grant_credits",
    "set_model_price",
    "set_personal_allocation",
    "set_reconciliation",
    "set_subscription",
    "upsert_member",
    "upsert_meter",
    "upsert_organization",
    "upsert_plan",
    "upsert_workspace",
]

NOT_FOUND = "NOT_FOUND"
INVALID = "INVALID"
NO_SEATS_AVAILABLE = "NO_SEATS_AVAILABLE"
SEATS_IN_USE = "SEATS_IN_USE"

_MAX_INT = 2**31 - 1
"""Counts live in INTEGER columns (32-bit on PostgreSQL)."""
_SEAT_PREFERENCE = (SeatType.POWER, SeatType.COLLABORATOR)
"""Which seat type `allocate_seat` hands out when the caller names none."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_BLANK = re.compile(r"\s")


@dataclass(frozen=True)
class PlanLimitSpec:
    meter: str
    limit: Decimal | None = None
    per_seat: bool = False
    enforcement: Enforcement | None = None
    """None means HARD, except on `ai_tokens` (observability only: NONE)."""
    free_units: Decimal | None = None
    credits_per_unit: Decimal | None = None


@dataclass(frozen=True)
class PlanSpec:
    """A plan as it should be; its limits and seat caps replace the stored ones."""

    key: str
    name: str
    tier: PlanTier
    price_monthly_cents: int | None = None
    price_annual_cents: int | None = None
    currency: str = "USD"
    monthly_credits: Decimal | None = None
    credits_per_seat: Decimal | None = None
    credits_per_usd: Decimal | None = None
    daily_allowance_units: Decimal | None = None
    seat_caps: tuple[tuple[SeatType, int], ...] = ()
    limits: tuple[PlanLimitSpec, ...] = ()


@dataclass(frozen=True)
class OrganizationSpec:
    id: str
    name: str
    billing_model: BillingModel = BillingModel.CREDITS
    billing_state: BillingState = BillingState.NONE
    trial_approved: bool = False
    allowance_ui_details: bool = False
    show_dollars_preview: bool = False
    provider_project_id: str | None = None
    workspace_time_balance_hours: Decimal = Decimal(0)
    managed_ai_balance_usd: Decimal = Decimal(0)


@dataclass(frozen=True)
class SubscriptionSpec:
    organization_id: str
    plan_key: str
    seats: int
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    anchor: datetime | None = None
    """None keeps the stored anchor; a new subscription's cycles then start at `now`."""
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    payment_retries_exhausted: bool = False


@dataclass(frozen=True)
class MemberSpec:
    organization_id: str
    user_id: str
    email: str
    name: str
    role: Role = Role.MEMBER
    teams: tuple[str, ...] = ()
    seat_type: SeatType | None = None
    """Given: the member gets (or is re-typed to) a seat of this type. None: the
    member's seat, if any, is left as it is; `deallocate_seat` frees it."""


@dataclass(frozen=True)
class WorkspaceSpec:
    organization_id: str
    id: str
    name: str
    group_id: str | None = None
    group_name: str | None = None
    """Renames the group when given; a new group without a name is named by its id."""


@dataclass(frozen=True)
class CreditGrantSpec:
    organization_id: str
    kind: CreditPoolKind
    amount: Decimal
    expires_at: datetime | None = None
    reason: str | None = None
    id: str | None = None
    """Optional stable id: with it a grant is idempotent (the demo and billing systems
    that retry); without it every call is a new grant, as two referrals are two."""


@dataclass(frozen=True)
class ModelPriceSpec:
    model: str
    tier: ModelTier
    input_per_million_usd: Decimal
    output_per_million_usd: Decimal
    cache_read_per_million_usd: Decimal = Decimal(0)
    cache_write_per_million_usd: Decimal = Decimal(0)


@dataclass(frozen=True)
class ReconciliationSpec:
    organization_id: str
    status: ReconciliationStatus
    managed_ai_usage_usd: Decimal | None = None
    reconciled_at: datetime | None = None


class _Checks:
    """Collects every problem with an input, so one reply can list them all."""

    def __init__(self) -> None:
        self.errors: list[UserError] = []

    def fail(self, field: str, code: str, message: str) -> None:
        self.errors.append(UserError(field, code, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise Rejected(self.errors)

    def identifier(self, field: str, value: str, max_length: int) -> bool:
        """Keys and ids: compared byte for byte, so no blanks that hide in a UI."""
        if not value:
            self.fail(field, INVALID, f"{field} must not be empty")
        elif _BLANK.search(value):
            self.fail(field, INVALID, f"{field} must not contain whitespace")
        elif len(value) > max_length:
            self.fail(field, INVALID, f"{field} is longer than {max_length} characters")
        else:
            return True
        return False

    def text(self, field: str, value: str, max_length: int) -> None:
        """Display text: stored stripped, so it must say something."""
        if not value.strip():
            self.fail(field, INVALID, f"{field} must not be empty")
        elif len(value.strip()) > max_length:
            self.fail(field, INVALID, f"{field} is longer than {max_length} characters")

    def amount(
        self,
        field: str,
        value: Decimal | None,
        *,
        maximum: Decimal,
        positive: bool = False,
    ) -> None:
        """A stored amount: exact at six places, never negative, at most `maximum`
        (one of `rules.amounts`' bounds, which keep every sum storable)."""
        if value is None:
            return
        problem = amount_problem(value, maximum)
        if problem is not None:
            self.fail(field, INVALID, f"{field} {problem.removeprefix('quantity ')}")
        elif value < 0 or (positive and value == 0):
            wanted = "greater than zero" if positive else "zero or more"
            self.fail(field, INVALID, f"{field} must be {wanted}, got {value}")

    def count(
        self,
        field: str,
        value: int | None,
        *,
        minimum: int = 0,
        maximum: int = _MAX_INT,
    ) -> None:
        if value is None:
            return
        if value < minimum:
            self.fail(
                field, INVALID, f"{field} must be at least {minimum}, got {value}"
            )
        elif value > maximum:
            self.fail(field, INVALID, f"{field} is larger than {maximum}")

    def instant(self, field: str, value: datetime | None) -> None:
        """Naive datetimes would be guessed into a zone: refuse them instead."""
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            self.fail(field, INVALID, f"{field} must carry a time zone (UTC)")


async def _checks(session: AsyncSession) -> _Checks:
    """The checks of one provisioning call (the same bounds on every database)."""
    return _Checks()


def _clean_text(value: str | None) -> str | None:
    return None if value is None else value.strip()


async def _organization(
    session: AsyncSession, checks: _Checks, organization_id: str
) -> Organization | None:
    if not checks.identifier("organizationId", organization_id, 64):
        return None
    organization = await session.get(Organization, organization_id)
    if organization is None:
        checks.fail("organizationId", NOT_FOUND, f"no organization {organization_id!r}")
    return organization


async def _member(
    session: AsyncSession,
    checks: _Checks,
    organization: Organization | None,
    user_id: str,
) -> Member | None:
    if not checks.identifier("userId", user_id, 64) or organization is None:
        return None
    member = await session.get(Member, (organization.id, user_id))
    if member is None:
        checks.fail(
            "userId",
            NOT_FOUND,
            f"no member {user_id!r} in organization {organization.id!r}",
        )
    return member


async def _existing_meters(session: AsyncSession, keys: Iterable[str]) -> set[str]:
    wanted = set(keys)
    if not wanted:
        return set()
    return set(await session.scalars(select(Meter.key).where(Meter.key.in_(wanted))))


async def _locked_subscription(
    session: AsyncSession, organization_id: str
) -> Subscription | None:
    """The subscription row, locked on PostgreSQL so seat counts cannot race.

    Two admins seating people at once would both see one free seat; holding the
    subscription row until commit serialises them. SQLite serialises writers anyway.
    """
    return await session.scalar(
        select(Subscription)
        .where(Subscription.organization_id == organization_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _allocated_by_type(
    session: AsyncSession, organization_id: str, excluding_user: str | None = None
) -> dict[SeatType, int]:
    query = (
        select(Member.seat_type, func.count())
        .where(Member.organization_id == organization_id, Member.seat_type.is_not(None))
        .group_by(Member.seat_type)
    )
    if excluding_user is not None:
        query = query.where(Member.user_id != excluding_user)
    rows = (await session.execute(query)).all()
    return {seat_type: count for seat_type, count in rows if seat_type is not None}


async def _seat_caps(session: AsyncSession, plan_key: str) -> dict[SeatType, int]:
    rows = await session.execute(
        select(PlanSeatCap.seat_type, PlanSeatCap.cap).where(
            PlanSeatCap.plan_key == plan_key
        )
    )
    return dict(rows.all())


async def _seat_for(
    session: AsyncSession,
    checks: _Checks,
    field: str,
    member: Member | None,
    organization_id: str,
    user_id: str,
    wanted: SeatType | None,
) -> SeatType | None:
    """The seat type the member may hold after this change, or None with an error.

    A member who already holds a seat keeps counting against the total once, so
    re-typing never needs a free seat, only room under the new type's cap.
    """
    current = member.seat_type if member is not None else None
    if current is not None and wanted in (None, current):
        return current
    subscription = await _locked_subscription(session, organization_id)
    total = subscription.seats if subscription is not None else 0
    caps = await _seat_caps(session, subscription.plan_key) if subscription else {}
    others = await _allocated_by_type(session, organization_id, excluding_user=user_id)
    if sum(others.values()) + 1 > total:
        checks.fail(
            field,
            NO_SEATS_AVAILABLE,
            f"all {total} seats are allocated"
            if total
            else "the organization has no seats",
        )
        return None
    candidates = (wanted,) if wanted is not None else _SEAT_PREFERENCE
    for seat_type in candidates:
        cap = caps.get(seat_type)
        if cap is None or others.get(seat_type, 0) + 1 <= cap:
            return seat_type
    if wanted is not None:
        message = f"the plan's cap of {caps[wanted]} {wanted.value} seats is reached"
    else:
        message = "every seat type's cap on the plan is reached"
    checks.fail(field, NO_SEATS_AVAILABLE, message)
    return None


async def _counters_changed(session: AsyncSession, organization_id: str | None) -> None:
    """Hot counters built before this change must be rebuilt from SQL (one
    organization's, or every one's with None): it changes what they count.

    Moving `counters_version` waits for the writers holding the organization's row
    lock, so none of them reserves against the old definition afterwards.
    """
    statement = update(Organization).values(
        counters_version=Organization.counters_version + 1
    )
    if organization_id is not None:
        statement = statement.where(Organization.id == organization_id)
    await session.execute(statement)


async def upsert_meter(session: AsyncSession, spec: MeterSpec) -> Meter:
    """Add a meter to the catalog (after the built-in ones) or relabel one.

    A built-in meter keeps its category, reset and display multiplier: the rules
    (cumulative releases, operation breakdowns, AI meters) are written against them.
    """
    catalog_changed(session)
    checks = await _checks(session)
    checks.identifier("key", spec.key, 64)
    checks.text("label", spec.label, 128)
    checks.text("unitLabel", spec.unit_label, 64)
    checks.count("displayMultiplier", spec.display_multiplier, minimum=1)
    meter = await session.get(Meter, spec.key) if spec.key else None
    if meter is not None and meter.builtin:
        for field, stored, given in (
            ("category", meter.category, spec.category),
            ("resets", meter.resets, spec.resets),
            ("displayMultiplier", meter.display_multiplier, spec.display_multiplier),
        ):
            if stored != given:
                checks.fail(
                    field, INVALID, f"built-in meter {spec.key!r} keeps its {field}"
                )
    checks.raise_if_any()

    if meter is None:
        last = await session.scalar(select(func.max(Meter.position)))
        meter = Meter(key=spec.key, position=(last or 0) + 1, builtin=False)
        session.add(meter)
    elif meter.resets != spec.resets:
        await _counters_changed(session, None)  # counted per cycle, or ever
    meter.label = spec.label.strip()
    meter.category = spec.category
    meter.unit_label = spec.unit_label.strip()
    meter.resets = spec.resets
    meter.display_multiplier = spec.display_multiplier
    await session.flush()
    return meter


async def upsert_plan(session: AsyncSession, spec: PlanSpec) -> Plan:
    """Create or change a plan; its limits and seat caps become exactly the spec's.

    Stored rows are updated in place and only the missing ones deleted, so applying
    the same spec again issues no writes.
    """
    catalog_changed(session)
    checks = await _checks(session)
    checks.identifier("key", spec.key, 64)
    checks.text("name", spec.name, 128)
    checks.count("priceMonthlyCents", spec.price_monthly_cents)
    checks.count("priceAnnualCents", spec.price_annual_cents)
    if not re.fullmatch(r"[A-Z]{3}", spec.currency):
        checks.fail("currency", INVALID, "currency is a 3-letter ISO 4217 code")
    checks.amount("monthlyCredits", spec.monthly_credits, maximum=MAX_CREDITS)
    checks.amount("creditsPerSeat", spec.credits_per_seat, maximum=MAX_RATE)
    checks.amount("creditsPerUsd", spec.credits_per_usd, maximum=MAX_RATE)
    checks.amount("dailyAllowanceUnits", spec.daily_allowance_units, maximum=MAX_LIMIT)
    seen_types: set[SeatType] = set()
    for position, (seat_type, cap) in enumerate(spec.seat_caps):
        if seat_type in seen_types:
            checks.fail(
                f"seatCaps.{position}.seatType",
                INVALID,
                f"seat type {seat_type.value} is capped twice",
            )
        seen_types.add(seat_type)
        checks.count(f"seatCaps.{position}.cap", cap)
    known = await _existing_meters(session, (limit.meter for limit in spec.limits))
    seen_meters: set[str] = set()
    for position, limit in enumerate(spec.limits):
        prefix = f"limits.{position}"
        if limit.meter not in known:
            checks.fail(f"{prefix}.meter", NOT_FOUND, f"no meter {limit.meter!r}")
        elif limit.meter in seen_meters:
            checks.fail(
                f"{prefix}.meter", INVALID, f"meter {limit.meter!r} is limited twice"
            )
        seen_meters.add(limit.meter)
        checks.amount(f"{prefix}.limit", limit.limit, maximum=MAX_LIMIT)
        checks.amount(f"{prefix}.freeUnits", limit.free_units, maximum=MAX_LIMIT)
        checks.amount(
            f"{prefix}.creditsPerUnit", limit.credits_per_unit, maximum=MAX_RATE
        )
    checks.raise_if_any()

    plan = await session.get(Plan, spec.key)
    if plan is None:
        plan = Plan(key=spec.key)
        session.add(plan)
    plan.name = spec.name.strip()
    plan.tier = spec.tier
    plan.price_monthly_cents = spec.price_monthly_cents
    plan.price_annual_cents = spec.price_annual_cents
    plan.currency = spec.currency
    plan.monthly_credits = spec.monthly_credits
    plan.credits_per_seat = spec.credits_per_seat
    plan.credits_per_usd = spec.credits_per_usd
    plan.daily_allowance_units = spec.daily_allowance_units
    await session.flush()

    stored_limits = {
        row.meter_key: row
        for row in await session.scalars(
            select(PlanLimit).where(PlanLimit.plan_key == spec.key)
        )
    }
    for limit in spec.limits:
        row = stored_limits.pop(limit.meter, None)
        if row is None:
            row = PlanLimit(plan_key=spec.key, meter_key=limit.meter)
            session.add(row)
        row.limit = limit.limit
        row.per_seat = limit.per_seat
        row.enforcement = limit.enforcement or default_enforcement(limit.meter)
        row.free_units = limit.free_units
        row.credits_per_unit = limit.credits_per_unit
    for row in stored_limits.values():
        await session.delete(row)

    stored_caps = {
        row.seat_type: row
        for row in await session.scalars(
            select(PlanSeatCap).where(PlanSeatCap.plan_key == spec.key)
        )
    }
    for seat_type, cap in spec.seat_caps:
        cap_row = stored_caps.pop(seat_type, None)
        if cap_row is None:
            cap_row = PlanSeatCap(plan_key=spec.key, seat_type=seat_type)
            session.add(cap_row)
        cap_row.cap = cap
    for cap_row in stored_caps.values():
        await session.delete(cap_row)
    await session.flush()
    return plan


async def upsert_organization(
    session: AsyncSession, spec: OrganizationSpec, now: datetime
) -> Organization:
    """Create or change an organization; `created_at` is kept from its creation."""
    checks = await _checks(session)
    checks.identifier("id", spec.id, 64)
    checks.text("name", spec.name, 200)
    if spec.provider_project_id is not None:
        checks.identifier("providerProjectId", spec.provider_project_id, 128)
    checks.amount(
        "workspaceTimeBalanceHours",
        spec.workspace_time_balance_hours,
        maximum=MAX_CREDITS,
    )
    checks.amount(
        "managedAiBalanceUsd", spec.managed_ai_balance_usd, maximum=MAX_CREDITS
    )
    checks.raise_if_any()

    organization = await session.get(Organization, spec.id)
    if organization is None:
        organization = Organization(id=spec.id, created_at=now)
        session.add(organization)
    organization.name = spec.name.strip()
    organization.billing_model = spec.billing_model
    organization.billing_state = spec.billing_state
    organization.trial_approved = spec.trial_approved
    organization.allowance_ui_details = spec.allowance_ui_details
    organization.show_dollars_preview = spec.show_dollars_preview
    organization.provider_project_id = spec.provider_project_id
    organization.workspace_time_balance_hours = spec.workspace_time_balance_hours
    organization.managed_ai_balance_usd = spec.managed_ai_balance_usd
    await session.flush()
    return organization


async def set_subscription(
    session: AsyncSession, spec: SubscriptionSpec, now: datetime
) -> Subscription:
    """Record the organization's subscription as the payment provider has it.

    This mirrors the provider, so it is not refused when the seats drop below the
    allocated count (a refused sync would also drop a PAST_DUE status); admins'
    `change_seats` is where SEATS_IN_USE applies. `updated_at` moves only when
    something changed, so a repeated sync is a no-op.
    """
    checks = await _checks(session)
    await _organization(session, checks, spec.organization_id)
    if checks.identifier("planKey", spec.plan_key, 64) and (
        await session.get(Plan, spec.plan_key) is None
    ):
        checks.fail("planKey", NOT_FOUND, f"no plan {spec.plan_key!r}")
    checks.count("seats", spec.seats, maximum=MAX_SEATS)
    checks.instant("anchor", spec.anchor)
    checks.instant("currentPeriodStart", spec.current_period_start)
    checks.instant("currentPeriodEnd", spec.current_period_end)
    start, end = spec.current_period_start, spec.current_period_end
    if (start is None) != (end is None):
        checks.fail(
            "currentPeriodEnd" if end is None else "currentPeriodStart",
            INVALID,
            "currentPeriodStart and currentPeriodEnd are given together",
        )
    elif start is not None and end is not None and not checks.errors and end <= start:
        checks.fail("currentPeriodEnd", INVALID, "the period must end after it starts")
    checks.raise_if_any()

    subscription = await _locked_subscription(session, spec.organization_id)
    cycles_before = _cycles_of(subscription)
    if subscription is None:
        subscription = Subscription(
            organization_id=spec.organization_id, anchor=spec.anchor or now
        )
        session.add(subscription)
    elif spec.anchor is not None:
        subscription.anchor = spec.anchor
    subscription.plan_key = spec.plan_key
    subscription.seats = spec.seats
    subscription.status = spec.status
    subscription.current_period_start = spec.current_period_start
    subscription.current_period_end = spec.current_period_end
    subscription.payment_retries_exhausted = spec.payment_retries_exhausted
    if subscription.updated_at is None or session.is_modified(subscription):
        subscription.updated_at = now
        await _counters_changed(session, spec.organization_id)  # cycles may move
    if _cycles_of(subscription) != cycles_before:
        await _cycle_rollups_changed(session, spec.organization_id, now)
    await session.flush()
    return subscription


def _cycles_of(
    subscription: Subscription | None,
) -> tuple[datetime | None, datetime | None, datetime | None] | None:
    """What defines an organization's billing cycles (None: calendar months)."""
    if subscription is None:
        return None
    return (
        subscription.anchor,
        subscription.current_period_start,
        subscription.current_period_end,
    )


async def _cycle_rollups_changed(
    session: AsyncSession, organization_id: str, now: datetime
) -> None:
    """The cycles moved: cycle rows written so far are keyed by the old ones, so
    only cycles starting after every such event (stamped up to five minutes ahead)
    are complete. Without usage yet there is nothing to redo."""
    recorded = await session.scalar(
        select(exists().where(UsageCycleRollup.organization_id == organization_id))
    )
    if not recorded:
        return
    organization = await session.get(Organization, organization_id)
    assert organization is not None  # checked by `_organization`
    complete_from = now + FUTURE_TOLERANCE
    if (
        organization.cycle_rollups_from is None
        or organization.cycle_rollups_from < complete_from
    ):
        organization.cycle_rollups_from = complete_from


async def upsert_member(
    session: AsyncSession, spec: MemberSpec, now: datetime
) -> Member:
    """Create or change a user and their membership: role, teams (replaced), seat.

    The `users` row is shared by every organization the person belongs to, so the
    latest email and name given win everywhere.
    """
    checks = await _checks(session)
    organization = await _organization(session, checks, spec.organization_id)
    checks.identifier("userId", spec.user_id, 64)
    email = spec.email.strip()
    if not _EMAIL.fullmatch(email):
        checks.fail("email", INVALID, f"{spec.email!r} is not an email address")
    elif len(email) > 254:
        checks.fail("email", INVALID, "email is longer than 254 characters")
    checks.text("name", spec.name, 200)
    for position, team in enumerate(spec.teams):
        checks.text(f"teams.{position}", team, 128)
    member = None
    seat_type: SeatType | None = None
    if organization is not None and spec.user_id and not checks.errors:
        member = await session.get(Member, (spec.organization_id, spec.user_id))
        if spec.seat_type is not None:
            seat_type = await _seat_for(
                session,
                checks,
                "seatType",
                member,
                spec.organization_id,
                spec.user_id,
                spec.seat_type,
            )
    checks.raise_if_any()

    user = await session.get(User, spec.user_id)
    if user is None:
        user = User(id=spec.user_id)
        session.add(user)
    user.email = email
    user.name = spec.name.strip()
    # Flushed first: with no ORM relationship between them, the unit of work does
    # not promise to insert the user before the member that references it.
    await session.flush()
    if member is None:
        member = Member(
            organization_id=spec.organization_id, user_id=spec.user_id, joined_at=now
        )
        session.add(member)
    member.role = spec.role
    if spec.seat_type is not None:
        member.seat_type = seat_type
    await session.flush()
    await _replace_teams(session, member, spec.teams)
    return member


async def _replace_teams(
    session: AsyncSession, member: Member, teams: Iterable[str]
) -> None:
    wanted = {team.strip() for team in teams}
    stored = {
        row.team: row
        for row in await session.scalars(
            select(MemberTeam).where(
                MemberTeam.organization_id == member.organization_id,
                MemberTeam.user_id == member.user_id,
            )
        )
    }
    for team in sorted(wanted - stored.keys()):
        session.add(
            MemberTeam(
                organization_id=member.organization_id,
                user_id=member.user_id,
                team=team,
            )
        )
    for team in stored.keys() - wanted:
        await session.delete(stored[team])
    await session.flush()


async def upsert_workspace(session: AsyncSession, spec: WorkspaceSpec) -> Workspace:
    """Create or change a workspace; no group id takes it out of its group."""
    checks = await _checks(session)
    await _organization(session, checks, spec.organization_id)
    checks.identifier("id", spec.id, 64)
    checks.text("name", spec.name, 200)
    if spec.group_id is not None:
        checks.identifier("groupId", spec.group_id, 64)
    if spec.group_name is not None:
        checks.text("groupName", spec.group_name, 200)
        if spec.group_id is None:
            checks.fail("groupName", INVALID, "a group name needs a groupId")
    checks.raise_if_any()

    if spec.group_id is not None:
        group = await session.get(WorkspaceGroup, (spec.organization_id, spec.group_id))
        if group is None:
            group = WorkspaceGroup(
                organization_id=spec.organization_id,
                id=spec.group_id,
                name=_clean_text(spec.group_name) or spec.group_id,
            )
            session.add(group)
        elif spec.group_name is not None:
            group.name = spec.group_name.strip()
    workspace = await session.get(Workspace, (spec.organization_id, spec.id))
    if workspace is None:
        workspace = Workspace(organization_id=spec.organization_id, id=spec.id)
        session.add(workspace)
    workspace.name = spec.name.strip()
    workspace.group_id = spec.group_id
    await session.flush()
    return workspace


async def grant_credits(
    session: AsyncSession, spec: CreditGrantSpec, now: datetime
) -> CreditGrant:
    """Add a BONUS or PURCHASED grant (or, given a known id, bring it to the spec).

    A grant already drawn from may change its amount and expiry, but never below
    what was spent nor into another kind or organization: the ledger points at it.
    """
    checks = await _checks(session)
    await _organization(session, checks, spec.organization_id)
    if spec.kind not in (CreditPoolKind.BONUS, CreditPoolKind.PURCHASED):
        checks.fail(
            "kind", INVALID, "grants are BONUS or PURCHASED; MONTHLY is the plan's"
        )
    checks.amount("amount", spec.amount, maximum=MAX_CREDITS, positive=True)
    checks.instant("expiresAt", spec.expires_at)
    if spec.reason is not None and len(spec.reason.strip()) > 500:
        checks.fail("reason", INVALID, "reason is longer than 500 characters")
    grant = None
    if spec.id is not None and checks.identifier("id", spec.id, 64):
        grant = await session.get(CreditGrant, spec.id)
    if grant is not None:
        if grant.organization_id != spec.organization_id or grant.kind != spec.kind:
            checks.fail(
                "id", INVALID, f"grant {spec.id!r} is another organization's or kind's"
            )
        elif not checks.errors and spec.amount < grant.spent:
            checks.fail(
                "amount", INVALID, f"{grant.spent} credits of it are spent already"
            )
    elif not checks.errors and spec.expires_at is not None and spec.expires_at <= now:
        checks.fail("expiresAt", INVALID, "a new grant must expire in the future")
    checks.raise_if_any()

    if grant is None:
        grant = CreditGrant(
            # Time-ordered ids: among grants expiring together the oldest draws first.
            id=spec.id or f"grant_{now:%Y%m%d%H%M%S%f}_{secrets.token_hex(4)}",
            organization_id=spec.organization_id,
            kind=spec.kind,
            spent=Decimal(0),
            granted_at=now,
        )
        session.add(grant)
    grant.amount = spec.amount
    grant.expires_at = spec.expires_at
    grant.reason = _clean_text(spec.reason) or None
    await session.flush()
    return grant


async def set_model_price(session: AsyncSession, spec: ModelPriceSpec) -> ModelPrice:
    """Price a model per million tokens; later events are priced with it."""
    catalog_changed(session)
    checks = await _checks(session)
    checks.identifier("model", spec.model, 128)
    checks.amount("inputPerMillionUsd", spec.input_per_million_usd, maximum=MAX_RATE)
    checks.amount("outputPerMillionUsd", spec.output_per_million_usd, maximum=MAX_RATE)
    checks.amount(
        "cacheReadPerMillionUsd", spec.cache_read_per_million_usd, maximum=MAX_RATE
    )
    checks.amount(
        "cacheWritePerMillionUsd", spec.cache_write_per_million_usd, maximum=MAX_RATE
    )
    checks.raise_if_any()

    price = await session.get(ModelPrice, spec.model)
    if price is None:
        price = ModelPrice(model=spec.model)
        session.add(price)
    price.tier = spec.tier
    price.input_per_million_usd = spec.input_per_million_usd
    price.output_per_million_usd = spec.output_per_million_usd
    price.cache_read_per_million_usd = spec.cache_read_per_million_usd
    price.cache_write_per_million_usd = spec.cache_write_per_million_usd
    await session.flush()
    return price


async def set_reconciliation(
    session: AsyncSession, spec: ReconciliationSpec
) -> Reconciliation:
    """Record the managed-AI reconciliation state reported for an organization."""
    checks = await _checks(session)
    await _organization(session, checks, spec.organization_id)
    checks.amount("managedAiUsageUsd", spec.managed_ai_usage_usd, maximum=MAX_CREDITS)
    checks.instant("reconciledAt", spec.reconciled_at)
    checks.raise_if_any()

    row = await session.get(Reconciliation, spec.organization_id)
    if row is None:
        row = Reconciliation(organization_id=spec.organization_id)
        session.add(row)
    row.status = spec.status
    row.managed_ai_usage_usd = spec.managed_ai_usage_usd
    row.reconciled_at = spec.reconciled_at
    await session.flush()
    return row


async def allocate_seat(
    session: AsyncSession,
    organization_id: str,
    user_id: str,
    seat_type: SeatType | None,
    now: datetime,
) -> Member:
    """Give a member a seat, or re-type the one they hold.

    Without a seat type a seated member keeps theirs and an unseated one gets the
    first type with room (POWER, then COLLABORATOR). `now` is part of the shared
    signature; seats carry no timestamp today.
    """
    checks = await _checks(session)
    organization = await _organization(session, checks, organization_id)
    member = await _member(session, checks, organization, user_id)
    checks.raise_if_any()
    assert member is not None
    granted = await _seat_for(
        session, checks, "seatType", member, organization_id, user_id, seat_type
    )
    checks.raise_if_any()

    member.seat_type = granted
    await session.flush()
    return member


async def deallocate_seat(
    session: AsyncSession, organization_id: str, user_id: str
) -> Member:
    """Free a member's seat; freeing a seat the member does not hold is a no-op."""
    checks = await _checks(session)
    organization = await _organization(session, checks, organization_id)
    member = await _member(session, checks, organization, user_id)
    checks.raise_if_any()
    assert member is not None

    member.seat_type = None
    await session.flush()
    return member


async def change_seats(
    session: AsyncSession, organization_id: str, total: int, now: datetime
) -> Subscription:
    """Change the seats paid for; never below the seats allocated (SEATS_IN_USE)."""
    checks = await _checks(session)
    organization = await _organization(session, checks, organization_id)
    checks.count("total", total, maximum=MAX_SEATS)
    subscription = None
    if organization is not None:
        subscription = await _locked_subscription(session, organization_id)
        if subscription is None:
            checks.fail(
                "organizationId",
                NOT_FOUND,
                f"organization {organization_id!r} has no subscription",
            )
    if subscription is not None and not checks.errors:
        allocated = sum((await _allocated_by_type(session, organization_id)).values())
        if total < allocated:
            checks.fail(
                "total",
                SEATS_IN_USE,
                f"{allocated} seats are allocated; free some before going to {total}",
            )
    checks.raise_if_any()
    assert subscription is not None

    if subscription.seats != total:
        subscription.seats = total
        subscription.updated_at = now
    await session.flush()
    return subscription


async def set_personal_allocation(
    session: AsyncSession,
    organization_id: str,
    user_id: str,
    meter: str,
    limit: Decimal | None,
) -> PersonalAllocation | None:
    """Set a member's own limit on a meter; a None limit removes it (returns None)."""
    checks = await _checks(session)
    organization = await _organization(session, checks, organization_id)
    await _member(session, checks, organization, user_id)
    if checks.identifier("meter", meter, 64) and not await _existing_meters(
        session, (meter,)
    ):
        checks.fail("meter", NOT_FOUND, f"no meter {meter!r}")
    checks.amount("limit", limit, maximum=MAX_LIMIT)
    checks.raise_if_any()

    allocation = await session.get(
        PersonalAllocation, (organization_id, user_id, meter)
    )
    # Counters keep a user's usage only where the user has an allocation.
    await _counters_changed(session, organization_id)
    if limit is None:
        if allocation is not None:
            await session.delete(allocation)
            await session.flush()
        return None
    if allocation is None:
        allocation = PersonalAllocation(
            organization_id=organization_id, user_id=user_id, meter_key=meter
        )
        session.add(allocation)
    allocation.limit = limit
    await session.flush()
    return allocation
