"""Alembic environment: always runs on a connection handed over by store.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from store.models import Base

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `usage-gateway migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
