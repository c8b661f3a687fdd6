"""The gateway's tables: SQL is the source of truth for every usage and billing fact.

Usage events are append-only; everything a page reads in bulk comes from the hourly
`usage_rollups` and the credit pre-aggregates, which the write path maintains in the
same transaction as the event itself.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from rules.enums import (
    AiFeature,
    AllowanceStatus,
    ApiKeyKind,
    BillingModel,
    BillingState,
    CreditPoolKind,
    Enforcement,
    MeterCategory,
    ModelTier,
    PlanTier,
    PricingCoverage,
    ReconciliationStatus,
    Resets,
    Role,
    SeatType,
    SubscriptionStatus,
    UsageSource,
)
from store.types import Amount, UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(enum: type[Enum]) -> SqlEnum:
    """Enums are stored as their names in plain strings: portable and migration-free."""
    return SqlEnum(enum, native_enum=False, create_constraint=False, length=32)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Meter(Base):
    """Anything counted. The built-in catalog is seeded by the first migration."""

    __tablename__ = "meters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(128))
    category: Mapped[MeterCategory] = mapped_column(_enum(MeterCategory))
    unit_label: Mapped[str] = mapped_column(String(64))
    display_multiplier: Mapped[int] = mapped_column(Integer, default=1)
    resets: Mapped[Resets] = mapped_column(_enum(Resets))
    position: Mapped[int] = mapped_column(Integer)
    """Catalog order: pages list meters in this order."""
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class Plan(Base):
    __tablename__ = "plans"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    tier: Mapped[PlanTier] = mapped_column(_enum(PlanTier))
    price_monthly_cents: Mapped[int | None] = mapped_column(Integer)
    price_annual_cents: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    monthly_credits: Mapped[Decimal | None] = mapped_column(Amount)
    credits_per_seat: Mapped[Decimal | None] = mapped_column(Amount)
    credits_per_usd: Mapped[Decimal | None] = mapped_column(Amount)
    daily_allowance_units: Mapped[Decimal | None] = mapped_column(Amount)


class PlanLimit(Base):
    """What a plan allows on one meter; a meter the plan does not name is unlimited."""

    __tablename__ = "plan_limits"

    plan_key: Mapped[str] = mapped_column(
        ForeignKey("plans.key", ondelete="CASCADE"), primary_key=True
    )
    meter_key: Mapped[str] = mapped_column(ForeignKey("meters.key"), primary_key=True)
    limit: Mapped[Decimal | None] = mapped_column(Amount)
    per_seat: Mapped[bool] = mapped_column(Boolean, default=False)
    enforcement: Mapped[Enforcement] = mapped_column(_enum(Enforcement))
    free_units: Mapped[Decimal | None] = mapped_column(Amount)
    credits_per_unit: Mapped[Decimal | None] = mapped_column(Amount)


class PlanSeatCap(Base):
    __tablename__ = "plan_seat_caps"

    plan_key: Mapped[str] = mapped_column(
        ForeignKey("plans.key", ondelete="CASCADE"), primary_key=True
    )
    seat_type: Mapped[SeatType] = mapped_column(_enum(SeatType), primary_key=True)
    cap: Mapped[int] = mapped_column(Integer)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    billing_model: Mapped[BillingModel] = mapped_column(_enum(BillingModel))
    billing_state: Mapped[BillingState] = mapped_column(_enum(BillingState))
    trial_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    allowance_ui_details: Mapped[bool] = mapped_column(Boolean, default=False)
    show_dollars_preview: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_project_id: Mapped[str | None] = mapped_column(String(128))
    workspace_time_balance_hours: Mapped[Decimal] = mapped_column(Amount)
    managed_ai_balance_usd: Mapped[Decimal] = mapped_column(Amount)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    counters_version: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default=text("0")
    )
    """Moved by every usage write the hot counters did not see (decisions taken from
    SQL, allocation and subscription changes): counters built at another version are
    rebuilt from SQL before they decide (`store.counters`)."""
    cycle_rollups_from: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """`usage_cycle_rollups` hold every event of the cycles starting at or after this
    instant (None: of every cycle). Moved forward when the subscription changes its
    cycles after usage was recorded: rows written before were keyed by the old ones."""


class Subscription(Base):
    """An organization's one subscription, as synced from the payment provider."""

    __tablename__ = "subscriptions"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    plan_key: Mapped[str] = mapped_column(ForeignKey("plans.key"))
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[SubscriptionStatus] = mapped_column(_enum(SubscriptionStatus))
    anchor: Mapped[datetime] = mapped_column(UtcDateTime)
    current_period_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    current_period_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    payment_retries_exhausted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class User(Base):
    """A person, identified by the `sub` of their token, across organizations."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))


class Member(Base):
    """A user's membership of one organization: role and seat."""

    __tablename__ = "members"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    seat_type: Mapped[SeatType | None] = mapped_column(_enum(SeatType))
    """The allocated seat's type; no seat while null."""
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index(None, "user_id"),)


class MemberTeam(Base):
    __tablename__ = "member_teams"

    organization_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team: Mapped[str] = mapped_column(String(128), primary_key=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["members.organization_id", "members.user_id"],
            ondelete="CASCADE",
        ),
        Index(None, "organization_id", "team"),
    )


class WorkspaceGroup(Base):
    __tablename__ = "workspace_groups"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Workspace(Base):
    __tablename__ = "workspaces"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    group_id: Mapped[str | None] = mapped_column(String(64))


class UsageEvent(Base):
    """One accepted usage event, append-only. Never holds prompts or payloads.

    No foreign keys (migration 0003): the write path validates the organization (its
    row locked), the meter, the user's membership and the workspace before inserting,
    and a key's check per row cost most of a thousand-event insert. Deleting an
    organization does not cascade here: delete its events first.
    """

    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    organization_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    meter_key: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[Decimal] = mapped_column(Amount)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cycle_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """The billing cycle the event was decided against (null without subscription)."""
    user_id: Mapped[str | None] = mapped_column(String(64))
    workspace_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[UsageSource] = mapped_column(_enum(UsageSource))
    feature: Mapped[AiFeature | None] = mapped_column(_enum(AiFeature))
    model: Mapped[str | None] = mapped_column(String(128))
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Decimal | None] = mapped_column(Amount)
    """Priced dollar cost of an AI event; null when unpriced or not an AI event."""
    unpriced: Mapped[bool] = mapped_column(Boolean, default=False)
    credits: Mapped[Decimal] = mapped_column(Amount)
    free_units_used: Mapped[Decimal] = mapped_column(Amount)
    definition_id: Mapped[str | None] = mapped_column(String(64))
    definition_name: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key"),
        Index(None, "organization_id", "occurred_at"),
    )


class UsageRollup(Base):
    """Hourly pre-aggregates of accepted events, one row per hour, meter and dimension.

    `dimension` names what the row is split by: `total` (key ''), `source`, `user`,
    `workspace`, `feature`, `feature_model` (key 'FEATURE|model'). Reads sum these rows,
    so their cost follows the hours and rows shown, never the number of events.
    """

    __tablename__ = "usage_rollups"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    meter_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    dimension_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Amount)
    credits: Mapped[Decimal] = mapped_column(Amount)
    cost_usd: Mapped[Decimal] = mapped_column(Amount)
    free_units_used: Mapped[Decimal] = mapped_column(Amount)
    events: Mapped[int] = mapped_column(BigInteger)
    unpriced_events: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index(None, "organization_id", "dimension", "hour"),)


class UsageCycleRollup(Base):
    """Per billing cycle pre-aggregates: the hourly rows' sums per cycle.

    Same dimensions and sums as `UsageRollup`, keyed by the start of the cycle each
    event was decided in (UTC calendar months without a subscription). A page's
    figures for a cycle read one row per meter and key instead of ~720 hourly ones,
    so their cost no longer follows the history's length
    (`Organization.cycle_rollups_from` says which cycles are complete).
    """

    __tablename__ = "usage_cycle_rollups"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    meter_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    dimension_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    cycle_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Amount)
    credits: Mapped[Decimal] = mapped_column(Amount)
    cost_usd: Mapped[Decimal] = mapped_column(Amount)
    free_units_used: Mapped[Decimal] = mapped_column(Amount)
    events: Mapped[int] = mapped_column(BigInteger)
    unpriced_events: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index(None, "organization_id", "dimension", "cycle_start"),)


class CreditGrant(Base):
    """A BONUS or PURCHASED credit grant; `spent` is kept with every draw from it."""

    __tablename__ = "credit_grants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[CreditPoolKind] = mapped_column(_enum(CreditPoolKind))
    amount: Mapped[Decimal] = mapped_column(Amount)
    spent: Mapped[Decimal] = mapped_column(Amount)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(String(500))


class CreditDraw(Base):
    """The spending ledger: which pool paid how much of which event (append-only).

    No foreign keys (migration 0003): a draw is inserted by the statement that
    inserts its event (joined to the new event ids), for an organization the write
    path has validated and locked; a key's check per row cost most of the insert.
    """

    __tablename__ = "credit_draws"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    organization_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), index=True
    )
    cycle_start: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[CreditPoolKind] = mapped_column(_enum(CreditPoolKind))
    grant_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Amount)

    __table_args__ = (Index(None, "organization_id", "cycle_start"),)


class CreditCycleSpend(Base):
    """What each pool spent in one cycle (pool key '' = the MONTHLY pool)."""

    __tablename__ = "credit_cycle_spend"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    cycle_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    grant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[CreditPoolKind] = mapped_column(_enum(CreditPoolKind))
    spent: Mapped[Decimal] = mapped_column(Amount)


class PersonalAllocation(Base):
    __tablename__ = "personal_allocations"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    meter_key: Mapped[str] = mapped_column(ForeignKey("meters.key"), primary_key=True)
    limit: Mapped[Decimal] = mapped_column(Amount)


class ModelPrice(Base):
    """Dollar prices per million tokens, and the tier a model belongs to."""

    __tablename__ = "model_prices"

    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    tier: Mapped[ModelTier] = mapped_column(_enum(ModelTier))
    input_per_million_usd: Mapped[Decimal] = mapped_column(Amount)
    output_per_million_usd: Mapped[Decimal] = mapped_column(Amount)
    cache_read_per_million_usd: Mapped[Decimal] = mapped_column(Amount)
    cache_write_per_million_usd: Mapped[Decimal] = mapped_column(Amount)


class AllowanceSnapshot(Base):
    """What one daily-allowance sync saw; kept as history, the latest is shown."""

    __tablename__ = "allowance_snapshots"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    window_end: Mapped[datetime] = mapped_column(UtcDateTime)
    used_units: Mapped[Decimal] = mapped_column(Amount)
    limit_units: Mapped[Decimal | None] = mapped_column(Amount)
    status: Mapped[AllowanceStatus] = mapped_column(_enum(AllowanceStatus))
    coverage: Mapped[PricingCoverage] = mapped_column(_enum(PricingCoverage))
    unpriced_event_count: Mapped[int] = mapped_column(Integer)
    top_definitions: Mapped[list[dict[str, object]]] = mapped_column(JSON)

    # One snapshot per organization and sync instant: racing workers cannot double it.
    __table_args__ = (Index(None, "organization_id", "synced_at", unique=True),)


class Reconciliation(Base):
    __tablename__ = "reconciliations"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[ReconciliationStatus] = mapped_column(_enum(ReconciliationStatus))
    managed_ai_usage_usd: Mapped[Decimal | None] = mapped_column(Amount)
    reconciled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiKey(Base):
    """An API key: only a hash of the secret is kept, the secret is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[ApiKeyKind] = mapped_column(_enum(ApiKeyKind))
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiKeyOrganization(Base):
    __tablename__ = "api_key_organizations"

    api_key_id: Mapped[str] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
