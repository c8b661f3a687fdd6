"""counters version

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

`organizations.counters_version`: moved by every write that the hot counters in Redis
did not see (decisions taken from SQL, allocation and subscription changes), so a
counter built at an older version is rebuilt from SQL before it decides anything.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(
            sa.Column(
                "counters_version",
                sa.BigInteger(),
                server_default=sa.text("0"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("counters_version")
