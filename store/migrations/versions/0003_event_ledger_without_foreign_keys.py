"""usage events and credit draws without foreign keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Drops the four foreign keys of the two append-only tables the write path fills at up
to a thousand rows per call: `usage_events` (organization, meter) and `credit_draws`
(organization, event). Their indexes stay.

Why: checking a foreign key is a trigger that probes the parent table once per
inserted row. At a thousand events PostgreSQL spent ~35 of the write statement's
~46 ms in these triggers (EXPLAIN ANALYZE), most of the insert. They checked nothing
the write path does not already know: `store.recording` decides every event against
the organization row it has locked, the meter catalog and the members and workspaces
it loaded (an unknown one makes the event INVALID before anything is written), and a
draw is inserted in the same statement as the event it joins (`store.usage_writes`).
Events and draws are never updated or deleted by the gateway.

What changes: deleting an organization no longer cascades to its events and draws
(nothing in the gateway deletes organizations; whoever does must delete those rows
first), and a meter can be deleted while events name it.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_NAMING = {
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}
_FOREIGN_KEYS = {
    "usage_events": (
        ("fk_usage_events_meter_key_meters", "meter_key", "meters", "key", None),
        (
            "fk_usage_events_organization_id_organizations",
            "organization_id",
            "organizations",
            "id",
            "CASCADE",
        ),
    ),
    "credit_draws": (
        ("fk_credit_draws_event_id_usage_events", "event_id", "usage_events", "id", None),
        (
            "fk_credit_draws_organization_id_organizations",
            "organization_id",
            "organizations",
            "id",
            "CASCADE",
        ),
    ),
}


def upgrade() -> None:
    for table in ("credit_draws", "usage_events"):
        with op.batch_alter_table(table, naming_convention=_NAMING) as batch:
            for name, *_ in _FOREIGN_KEYS[table]:
                batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    for table in ("usage_events", "credit_draws"):
        with op.batch_alter_table(table, naming_convention=_NAMING) as batch:
            for name, column, parent, key, ondelete in _FOREIGN_KEYS[table]:
                batch.create_foreign_key(
                    name, parent, [column], [key], ondelete=ondelete
                )
