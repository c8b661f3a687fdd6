"""Basic leaf fields answered directly (`schema.execution`) answer exactly as
graphql-core's own path: values, enums, custom scalars, and the errors and null
propagation of a null or an unserializable value."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution import GatewayExecutionContext
from schema.scalars import DecimalScalar


@strawberry.enum
class Level(enum.Enum):
    NORMAL = "normal"
    WARNING = "warning"


@strawberry.type
class Item:
    name: str
    level: Level
    amount: Decimal
    note: str | None


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [
            Item(name="a", level=Level.NORMAL, amount=Decimal("1.50"), note=None),
            Item(name="b", level=Level.WARNING, amount=Decimal(2), note="x"),
        ]

    @strawberry.field
    def mixed(self) -> list[Item]:
        # A plain item, one with a null non-null name, another plain one.
        return [
            Item(name="a", level=Level.NORMAL, amount=Decimal(1), note=None),
            Item(name=None, level=Level.NORMAL, amount=Decimal(1), note=None),  # type: ignore[arg-type]
            Item(name="c", level=Level.WARNING, amount=Decimal(3), note="z"),
        ]

    @strawberry.field
    def gaps(self) -> list[Item | None]:
        return [None, Item(name="b", level=Level.NORMAL, amount=Decimal(2), note=None)]

    @strawberry.field
    def holes(self) -> list[Item] | None:
        return [Item(name="b", level=Level.NORMAL, amount=Decimal(2), note=None), None]  # type: ignore[list-item]

    @strawberry.field
    def broken(self) -> Item | None:
        # A non-null name that is null, and a level that is no Level at all.
        return Item(name=None, level="nope", amount=Decimal(0), note=None)  # type: ignore[arg-type]


@dataclass
class Outcome:
    data: Any
    errors: list[tuple[str, list[str | int]]]


def run(document: str, *, fast: bool) -> Outcome:
    schema = strawberry.Schema(
        query=Query,
        scalar_overrides={Decimal: DecimalScalar},
        execution_context_class=GatewayExecutionContext
        if fast
        else StrawberryGraphQLCoreExecutionContext,
    )
    result = schema.execute_sync(document)
    return Outcome(
        result.data,
        [(error.message, list(error.path or [])) for error in result.errors or []],
    )


@pytest.mark.parametrize(
    "document",
    [
        "{ items { name level amount note } }",
        "{ broken { name } }",
        "{ broken { level } }",
        "{ broken { amount note } }",
        "{ mixed { name level } }",
        "{ mixed { level amount } }",
        "{ gaps { name } }",
        "{ holes { name } }",
        "{ items { first: name again: name level } }",
        "{ items { __typename name } }",
        "{ items { ... on Item { name } note } }",
    ],
)
def test_the_fast_path_answers_as_graphql_core_does(document: str) -> None:
    assert run(document, fast=True) == run(document, fast=False)


def test_leaf_values_enums_and_decimals_are_serialized() -> None:
    outcome = run("{ items { name level amount note } }", fast=True)
    assert outcome.errors == []
    assert outcome.data == {
        "items": [
            {"name": "a", "level": "NORMAL", "amount": "1.5", "note": None},
            {"name": "b", "level": "WARNING", "amount": "2", "note": "x"},
        ]
    }


def test_a_null_in_a_non_null_leaf_is_an_error_that_nulls_its_parent() -> None:
    outcome = run("{ broken { name } }", fast=True)
    assert outcome.data == {"broken": None}
    assert outcome.errors == [
        ("Cannot return null for non-nullable field Item.name.", ["broken", "name"])
    ]


def test_a_list_of_plain_objects_is_answered_in_one_loop() -> None:
    outcome = run("{ items { n: name amount } }", fast=True)
    assert outcome.errors == []
    assert outcome.data == {
        "items": [{"n": "a", "amount": "1.5"}, {"n": "b", "amount": "2"}]
    }


def test_a_null_item_of_a_non_null_list_nulls_the_list_with_its_error() -> None:
    outcome = run("{ holes { name } }", fast=True)
    assert outcome.data == {"holes": None}
    assert outcome.errors == [
        ("Cannot return null for non-nullable field Query.holes.", ["holes", 1])
    ]
