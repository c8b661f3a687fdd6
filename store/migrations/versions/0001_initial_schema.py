"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Every table of the domain, and the built-in meter catalog.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types
from store.catalog import BUILTIN_METERS


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "OPERATOR",
                "SERVICE",
                "PARTNER",
                name="apikeykind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_used_at", store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    op.create_table(
        "meters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "CORE_LIMITS",
                "MONTHLY_ACTIVITY",
                "DATA_OPERATIONS",
                "QUOTA",
                "AI_BUDGET",
                "OPERATIONS",
                "RUNTIME",
                name="metercategory",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("unit_label", sa.String(length=64), nullable=False),
        sa.Column("display_multiplier", sa.Integer(), nullable=False),
        sa.Column(
            "resets",
            sa.Enum("CYCLE", "NEVER", name="resets", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meters")),
    )
    op.create_table(
        "model_prices",
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column(
            "tier",
            sa.Enum(
                "ADVANCED_REASONING",
                "STANDARD",
                "FAST",
                "LIGHT",
                name="modeltier",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "input_per_million_usd",
            store.types.Amount(precision=38, scale=6),
            nullable=False,
        ),
        sa.Column(
            "output_per_million_usd",
            store.types.Amount(precision=38, scale=6),
            nullable=False,
        ),
        sa.Column(
            "cache_read_per_million_usd",
            store.types.Amount(precision=38, scale=6),
            nullable=False,
        ),
        sa.Column(
            "cache_write_per_million_usd",
            store.types.Amount(precision=38, scale=6),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("model", name=op.f("pk_model_prices")),
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "billing_model",
            sa.Enum(
                "CREDITS", "USD", name="billingmodel", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "billing_state",
            sa.Enum(
                "NONE",
                "TRIAL",
                "PAID",
                "PREPAID",
                name="billingstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("trial_approved", sa.Boolean(), nullable=False),
        sa.Column("allowance_ui_details", sa.Boolean(), nullable=False),
        sa.Column("show_dollars_preview", sa.Boolean(), nullable=False),
        sa.Column("provider_project_id", sa.String(length=128), nullable=True),
        sa.Column(
            "workspace_time_balance_hours",
            store.types.Amount(precision=38, scale=6),
            nullable=False,
        ),
        sa.Column(
            "managed_ai_balance_usd",
            store.types.Amount(precision=38, scale=6),
            nullable=False,
        ),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "plans",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "tier",
            sa.Enum(
                "FREE",
                "STARTER",
                "PRO",
                "BUSINESS",
                "ENTERPRISE",
                "ULTRA",
                name="plantier",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("price_monthly_cents", sa.Integer(), nullable=True),
        sa.Column("price_annual_cents", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "monthly_credits", store.types.Amount(precision=38, scale=6), nullable=True
        ),
        sa.Column(
            "credits_per_seat", store.types.Amount(precision=38, scale=6), nullable=True
        ),
        sa.Column(
            "credits_per_usd", store.types.Amount(precision=38, scale=6), nullable=True
        ),
        sa.Column(
            "daily_allowance_units",
            store.types.Amount(precision=38, scale=6),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_plans")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_email"), ["email"], unique=False)

    op.create_table(
        "allowance_snapshots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("synced_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "window_start", store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("window_end", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "used_units", store.types.Amount(precision=38, scale=6), nullable=False
        ),
        sa.Column(
            "limit_units", store.types.Amount(precision=38, scale=6), nullable=True
        ),
        sa.Column(
            "status",
            sa.Enum(
                "WITHIN_LIMIT",
                "OVER_LIMIT",
                "UNLIMITED",
                name="allowancestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "coverage",
            sa.Enum(
                "COMPLETE",
                "PARTIAL",
                name="pricingcoverage",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("unpriced_event_count", sa.Integer(), nullable=False),
        sa.Column("top_definitions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_allowance_snapshots_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowance_snapshots")),
    )
    with op.batch_alter_table("allowance_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allowance_snapshots_organization_id_synced_at"),
            ["organization_id", "synced_at"],
            unique=True,
        )

    op.create_table(
        "api_key_organizations",
        sa.Column("api_key_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_key_organizations_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_key_organizations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "api_key_id", "organization_id", name=op.f("pk_api_key_organizations")
        ),
    )
    op.create_table(
        "credit_cycle_spend",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column(
            "cycle_start", store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("grant_id", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "MONTHLY",
                "BONUS",
                "PURCHASED",
                name="creditpoolkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("spent", store.types.Amount(precision=38, scale=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_credit_cycle_spend_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id",
            "cycle_start",
            "grant_id",
            name=op.f("pk_credit_cycle_spend"),
        ),
    )
    op.create_table(
        "credit_grants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "MONTHLY",
                "BONUS",
                "PURCHASED",
                name="creditpoolkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount", store.types.Amount(precision=38, scale=6), nullable=False),
        sa.Column("spent", store.types.Amount(precision=38, scale=6), nullable=False),
        sa.Column("granted_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_credit_grants_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_grants")),
    )
    with op.batch_alter_table("credit_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_grants_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "members",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "MEMBER",
                "MANAGER",
                "ADMIN",
                "SUPER_ADMIN",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "seat_type",
            sa.Enum(
                "POWER", "COLLABORATOR", name="seattype", native_enum=False, length=32
            ),
            nullable=True,
        ),
        sa.Column("joined_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_members_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("organization_id", "user_id", name=op.f("pk_members")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_members_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "personal_allocations",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("meter_key", sa.String(length=64), nullable=False),
        sa.Column("limit", store.types.Amount(precision=38, scale=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_key"],
            ["meters.key"],
            name=op.f("fk_personal_allocations_meter_key_meters"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_personal_allocations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id",
            "user_id",
            "meter_key",
            name=op.f("pk_personal_allocations"),
        ),
    )
    op.create_table(
        "plan_limits",
        sa.Column("plan_key", sa.String(length=64), nullable=False),
        sa.Column("meter_key", sa.String(length=64), nullable=False),
        sa.Column("limit", store.types.Amount(precision=38, scale=6), nullable=True),
        sa.Column("per_seat", sa.Boolean(), nullable=False),
        sa.Column(
            "enforcement",
            sa.Enum(
                "HARD", "SOFT", "NONE", name="enforcement", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "free_units", store.types.Amount(precision=38, scale=6), nullable=True
        ),
        sa.Column(
            "credits_per_unit", store.types.Amount(precision=38, scale=6), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["meter_key"], ["meters.key"], name=op.f("fk_plan_limits_meter_key_meters")
        ),
        sa.ForeignKeyConstraint(
            ["plan_key"],
            ["plans.key"],
            name=op.f("fk_plan_limits_plan_key_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_key", "meter_key", name=op.f("pk_plan_limits")),
    )
    op.create_table(
        "plan_seat_caps",
        sa.Column("plan_key", sa.String(length=64), nullable=False),
        sa.Column(
            "seat_type",
            sa.Enum(
                "POWER", "COLLABORATOR", name="seattype", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("cap", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_key"],
            ["plans.key"],
            name=op.f("fk_plan_seat_caps_plan_key_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "plan_key", "seat_type", name=op.f("pk_plan_seat_caps")
        ),
    )
    op.create_table(
        "reconciliations",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "NOT_CONFIGURED",
                "PENDING",
                "RECONCILED",
                "MISMATCH",
                name="reconciliationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "managed_ai_usage_usd",
            store.types.Amount(precision=38, scale=6),
            nullable=True,
        ),
        sa.Column(
            "reconciled_at", store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_reconciliations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_reconciliations")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("plan_key", sa.String(length=64), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "TRIALING",
                "PAST_DUE",
                "CANCELED",
                name="subscriptionstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("anchor", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "current_period_start",
            store.types.UtcDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "current_period_end", store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("payment_retries_exhausted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_subscriptions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_key"], ["plans.key"], name=op.f("fk_subscriptions_plan_key_plans")
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_subscriptions")),
    )
    op.create_table(
        "usage_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("meter_key", sa.String(length=64), nullable=False),
        sa.Column(
            "quantity", store.types.Amount(precision=38, scale=6), nullable=False
        ),
        sa.Column(
            "occurred_at", store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "received_at", store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("cycle_start", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("workspace_id", sa.String(length=64), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "WEB", "CLI", "API", name="usagesource", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "feature",
            sa.Enum(
                "EMAIL",
                "CHIPS",
                "SUMMARY",
                "AGENT",
                "COACHING",
                "CHAT",
                name="aifeature",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", store.types.Amount(precision=38, scale=6), nullable=True),
        sa.Column("unpriced", sa.Boolean(), nullable=False),
        sa.Column("credits", store.types.Amount(precision=38, scale=6), nullable=False),
        sa.Column(
            "free_units_used", store.types.Amount(precision=38, scale=6), nullable=False
        ),
        sa.Column("definition_id", sa.String(length=64), nullable=True),
        sa.Column("definition_name", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["meter_key"], ["meters.key"], name=op.f("fk_usage_events_meter_key_meters")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_usage_events_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
        sa.UniqueConstraint(
            "organization_id",
            "idempotency_key",
            name=op.f("uq_usage_events_organization_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_events_organization_id_occurred_at"),
            ["organization_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "usage_rollups",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("meter_key", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("dimension_key", sa.String(length=200), nullable=False),
        sa.Column("hour", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "quantity", store.types.Amount(precision=38, scale=6), nullable=False
        ),
        sa.Column("credits", store.types.Amount(precision=38, scale=6), nullable=False),
        sa.Column(
            "cost_usd", store.types.Amount(precision=38, scale=6), nullable=False
        ),
        sa.Column(
            "free_units_used", store.types.Amount(precision=38, scale=6), nullable=False
        ),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("unpriced_events", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_usage_rollups_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id",
            "meter_key",
            "dimension",
            "dimension_key",
            "hour",
            name=op.f("pk_usage_rollups"),
        ),
    )
    with op.batch_alter_table("usage_rollups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_rollups_organization_id_dimension_hour"),
            ["organization_id", "dimension", "hour"],
            unique=False,
        )

    op.create_table(
        "workspace_groups",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_workspace_groups_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "id", name=op.f("pk_workspace_groups")
        ),
    )
    op.create_table(
        "workspaces",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_workspaces_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", "id", name=op.f("pk_workspaces")),
    )
    op.create_table(
        "credit_draws",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "cycle_start", store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "MONTHLY",
                "BONUS",
                "PURCHASED",
                name="creditpoolkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("grant_id", sa.String(length=64), nullable=True),
        sa.Column("amount", store.types.Amount(precision=38, scale=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["usage_events.id"],
            name=op.f("fk_credit_draws_event_id_usage_events"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_credit_draws_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_draws")),
    )
    with op.batch_alter_table("credit_draws", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_draws_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_draws_organization_id_cycle_start"),
            ["organization_id", "cycle_start"],
            unique=False,
        )

    op.create_table(
        "member_teams",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id", "user_id"],
            ["members.organization_id", "members.user_id"],
            name=op.f("fk_member_teams_organization_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "user_id", "team", name=op.f("pk_member_teams")
        ),
    )
    with op.batch_alter_table("member_teams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_teams_organization_id_team"),
            ["organization_id", "team"],
            unique=False,
        )
    meters = sa.table(
        "meters",
        sa.column("key", sa.String),
        sa.column("label", sa.String),
        sa.column("category", sa.String),
        sa.column("unit_label", sa.String),
        sa.column("display_multiplier", sa.Integer),
        sa.column("resets", sa.String),
        sa.column("position", sa.Integer),
        sa.column("builtin", sa.Boolean),
    )
    op.bulk_insert(
        meters,
        [
            {
                "key": spec.key,
                "label": spec.label,
                "category": spec.category.value,
                "unit_label": spec.unit_label,
                "display_multiplier": spec.display_multiplier,
                "resets": spec.resets.value,
                "position": (position + 1) * 10,
                "builtin": True,
            }
            for position, spec in enumerate(BUILTIN_METERS)
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("member_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_teams_organization_id_team"))

    op.drop_table("member_teams")
    with op.batch_alter_table("credit_draws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_draws_organization_id_cycle_start"))
        batch_op.drop_index(batch_op.f("ix_credit_draws_event_id"))

    op.drop_table("credit_draws")
    op.drop_table("workspaces")
    op.drop_table("workspace_groups")
    with op.batch_alter_table("usage_rollups", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_usage_rollups_organization_id_dimension_hour")
        )

    op.drop_table("usage_rollups")
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_events_organization_id_occurred_at"))

    op.drop_table("usage_events")
    op.drop_table("subscriptions")
    op.drop_table("reconciliations")
    op.drop_table("plan_seat_caps")
    op.drop_table("plan_limits")
    op.drop_table("personal_allocations")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_user_id"))

    op.drop_table("members")
    with op.batch_alter_table("credit_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_grants_organization_id"))

    op.drop_table("credit_grants")
    op.drop_table("credit_cycle_spend")
    op.drop_table("api_key_organizations")
    with op.batch_alter_table("allowance_snapshots", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_allowance_snapshots_organization_id_synced_at")
        )

    op.drop_table("allowance_snapshots")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_email"))

    op.drop_table("users")
    op.drop_table("plans")
    op.drop_table("organizations")
    op.drop_table("model_prices")
    op.drop_table("meters")
    op.drop_table("api_keys")
