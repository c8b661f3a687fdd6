"""Migrations build the same schema on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from store.db import create_engine
from store.models import Base
from store.types import Amount

AMOUNT_TYPES = {"sqlite": "BIGINT", "postgresql": "NUMERIC(38, 6)"}
"""Amounts are exact on both: micro-units on SQLite, NUMERIC on PostgreSQL."""


def _is_amount(table: str, column: str) -> bool:
    model = Base.metadata.tables.get(table)
    return (
        model is not None
        and column in model.c
        and isinstance(model.c[column].type, Amount)
    )


def _normalized_type(dialect: str, table: str, column: str, column_type: Any) -> str:
    rendered = str(column_type.compile(dialect=_dialect(dialect))).upper()
    if _is_amount(table, column):
        # The database must hold the exact type the models declare for amounts.
        return (
            "AMOUNT" if rendered == AMOUNT_TYPES[dialect] else f"NOT AMOUNT {rendered}"
        )
    return {
        "TIMESTAMP WITH TIME ZONE": "DATETIME",
        "TIMESTAMP": "DATETIME",
        "DATETIME": "DATETIME",
        "BOOLEAN": "BOOLEAN",
        "JSON": "JSON",
        # SQLite integers are all 64-bit (and an autoincrement key must be INTEGER
        # there), so integer widths are compared only on PostgreSQL, against models.
        "INTEGER": "INTEGER",
        "BIGINT": "INTEGER",
    }.get(rendered, rendered)


def _dialect(name: str) -> Any:  # the dialect classes are untyped
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.dialect()
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect()  # type: ignore[no-untyped-call]


def _describe(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    dialect = connection.dialect.name
    described: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        columns = {
            column["name"]: (
                _normalized_type(dialect, table, column["name"], column["type"]),
                column["nullable"],
            )
            for column in inspector.get_columns(table)
        }
        described[table] = {
            "columns": columns,
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "unique": sorted(
                tuple(unique["column_names"])
                for unique in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (tuple(index["column_names"]), bool(index["unique"]))
                for index in inspector.get_indexes(table)
                # PostgreSQL also lists the index behind each unique constraint.
                if not index.get("duplicates_constraint")
            ),
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
        }
    return described


async def _schema_of(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_describe)
    finally:
        await engine.dispose()


async def test_sqlite_and_postgres_migrate_to_the_same_schema(
    sqlite_url: str, postgres_url: str
) -> None:
    sqlite_schema = await _schema_of(sqlite_url)
    postgres_schema = await _schema_of(postgres_url)

    assert sqlite_schema == postgres_schema


async def test_migrations_create_every_model_table_and_column(sqlite_url: str) -> None:
    migrated = await _schema_of(sqlite_url)

    expected = {
        table.name: sorted(column.name for column in table.columns)
        for table in Base.metadata.sorted_tables
    }
    assert {
        name: sorted(info["columns"]) for name, info in migrated.items()
    } == expected


async def test_amount_columns_are_exact_types(sqlite_url: str) -> None:
    migrated = await _schema_of(sqlite_url)

    amount_columns = {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Amount)
    }
    assert ("usage_events", "quantity") in amount_columns
    for table, column in amount_columns:
        assert migrated[table]["columns"][column][0] == "AMOUNT"


async def test_first_migration_seeds_the_builtin_meter_catalog(sqlite_url: str) -> None:
    from sqlalchemy import select

    from store.catalog import BUILTIN_METERS
    from store.db import session_factory
    from store.models import Meter

    engine = create_engine(sqlite_url)
    try:
        async with session_factory(engine)() as session:
            keys = list(
                await session.scalars(select(Meter.key).order_by(Meter.position))
            )
    finally:
        await engine.dispose()

    assert keys == [spec.key for spec in BUILTIN_METERS]
