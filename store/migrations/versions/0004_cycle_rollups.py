"""per-cycle rollups

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

`usage_cycle_rollups`: the hourly rollups' sums per billing cycle, so that a page's
figures for a cycle (meters, operations, top tables, own usage, trends) read one row
per meter and key, whatever the history's length. `organizations.cycle_rollups_from`
says from which cycle start they are complete: existing organizations start with an
empty table, so it is set to five minutes after the upgrade (events may be stamped
up to five minutes ahead); their earlier cycles keep reading the hourly rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(
            sa.Column(
                "cycle_rollups_from",
                store.types.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
    op.execute(
        sa.text("UPDATE organizations SET cycle_rollups_from = :start")
        .bindparams(sa.bindparam("start", type_=store.types.UtcDateTime(timezone=True)))
        .params(start=_five_minutes_from_now())
    )
    op.create_table(
        "usage_cycle_rollups",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("meter_key", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("dimension_key", sa.String(length=200), nullable=False),
        sa.Column(
            "cycle_start", store.types.UtcDateTime(timezone=True), nullable=False
        ),
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
            name=op.f("fk_usage_cycle_rollups_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id",
            "meter_key",
            "dimension",
            "dimension_key",
            "cycle_start",
            name=op.f("pk_usage_cycle_rollups"),
        ),
    )
    with op.batch_alter_table("usage_cycle_rollups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_cycle_rollups_organization_id_dimension_cycle_start"),
            ["organization_id", "dimension", "cycle_start"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("usage_cycle_rollups")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("cycle_rollups_from")


def _five_minutes_from_now() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=5)
