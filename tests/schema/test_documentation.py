"""GraphiQL is the documentation: everything a client can name says what it means.

Read from the code's schema (what introspection serves), not from schema.graphql, so
a description that only the checked-in file carries does not count.
"""

from __future__ import annotations

from decimal import Decimal

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

# The schema first: `resolvers.pagination` imports `schema.errors`, whose package
# imports the resolvers back.
from schema import schema

# isort: split
from resolvers.pagination import MAX_PAGE_SIZE
from resolvers.trends import MAX_TREND_MONTHS
from rules.amounts import (
    MAX_COST_USD,
    MAX_CREDITS,
    MAX_LIMIT,
    MAX_QUANTITY,
    MAX_RATE,
    MAX_SEATS,
    MAX_TOKENS,
)

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}
GRAPHQL = schema._schema


def _named_types() -> list[GraphQLNamedType]:
    return [
        named
        for name, named in sorted(GRAPHQL.type_map.items())
        if not name.startswith("__") and name not in BUILT_IN
    ]


def _object_types() -> list[GraphQLObjectType | GraphQLInterfaceType]:
    return [
        named
        for named in _named_types()
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType)
    ]


def _arguments() -> dict[str, GraphQLArgument]:
    """Every field argument, by its schema coordinate (`Type.field(argument:)`)."""
    return {
        f"{named.name}.{field_name}({argument_name}:)": argument
        for named in _object_types()
        for field_name, field in named.fields.items()
        for argument_name, argument in field.args.items()
    }


def _input_fields() -> dict[str, GraphQLInputField]:
    return {
        f"{named.name}.{field_name}": field
        for named in _named_types()
        if isinstance(named, GraphQLInputObjectType)
        for field_name, field in named.fields.items()
    }


def _undescribed(described: dict[str, str | None]) -> list[str]:
    return [name for name, text in described.items() if not (text or "").strip()]


def test_every_type_has_a_description() -> None:
    missing = _undescribed({named.name: named.description for named in _named_types()})

    assert missing == [], f"types without a description: {missing}"


def test_every_field_has_a_description() -> None:
    missing = _undescribed(
        {
            f"{named.name}.{field_name}": field.description
            for named in _object_types()
            for field_name, field in named.fields.items()
        }
    )

    assert missing == [], f"fields without a description: {missing}"


def test_every_argument_has_a_description() -> None:
    arguments = _arguments()
    missing = _undescribed({name: arg.description for name, arg in arguments.items()})

    assert len(arguments) >= 50  # the count this test was written against
    assert missing == [], f"arguments without a description: {missing}"


def test_every_input_field_has_a_description() -> None:
    fields = _input_fields()
    missing = _undescribed({name: field.description for name, field in fields.items()})

    assert missing == [], f"input fields without a description: {missing}"


def test_every_enum_value_has_a_description() -> None:
    values = {
        f"{named.name}.{value_name}": value.description
        for named in _named_types()
        if isinstance(named, GraphQLEnumType)
        for value_name, value in named.values.items()
    }
    missing = _undescribed(values)

    assert len(values) >= 100  # the count this test was written against
    assert missing == [], f"enum values without a description: {missing}"


def test_no_description_merely_names_the_thing() -> None:
    """`The X.` says nothing GraphiQL does not show already."""
    described: dict[str, str | None] = {
        name: arg.description for name, arg in _arguments().items()
    }
    described |= {name: field.description for name, field in _input_fields().items()}
    described |= {
        f"{named.name}.{value_name}": value.description
        for named in _named_types()
        if isinstance(named, GraphQLEnumType)
        for value_name, value in named.values.items()
    }
    empty = [
        name
        for name, text in described.items()
        if text is not None
        and len(text.removeprefix("The ").rstrip(".").split()) <= 1
        and text.startswith("The ")
    ]

    assert empty == [], f"descriptions that only name the thing: {empty}"


ACCEPTED_RANGES: dict[str, Decimal | int] = {
    # store/provisioning.py
    "PlanLimitInput.limit": MAX_LIMIT,
    "PlanLimitInput.freeUnits": MAX_LIMIT,
    "PlanLimitInput.creditsPerUnit": MAX_RATE,
    "PlanInput.monthlyCredits": MAX_CREDITS,
    "PlanInput.creditsPerSeat": MAX_RATE,
    "PlanInput.creditsPerUsd": MAX_RATE,
    "PlanInput.dailyAllowanceUnits": MAX_LIMIT,
    "OrganizationInput.workspaceTimeBalanceHours": MAX_CREDITS,
    "OrganizationInput.managedAiBalanceUsd": MAX_CREDITS,
    "SubscriptionInput.seats": MAX_SEATS,
    "CreditGrantInput.amount": MAX_CREDITS,
    "ModelPriceInput.inputPerMillionUsd": MAX_RATE,
    "ModelPriceInput.outputPerMillionUsd": MAX_RATE,
    "ModelPriceInput.cacheReadPerMillionUsd": MAX_RATE,
    "ModelPriceInput.cacheWritePerMillionUsd": MAX_RATE,
    "ReconciliationInput.managedAiUsageUsd": MAX_CREDITS,
    "Mutation.changeSeats(total:)": MAX_SEATS,
    "Mutation.setPersonalAllocation(limit:)": MAX_LIMIT,
    # store/decisions.py
    "UsageEventInput.quantity": MAX_QUANTITY,
    "UsageEventInput.costUsd": MAX_COST_USD,
    "TokenCountsInput.input": MAX_TOKENS,
    "TokenCountsInput.output": MAX_TOKENS,
    "TokenCountsInput.cacheRead": MAX_TOKENS,
    "TokenCountsInput.cacheWrite": MAX_TOKENS,
    "Query.usageCheck(quantity:)": MAX_QUANTITY,
    # resolvers/pagination.py, resolvers/trends.py
    "Organization.members(first:)": MAX_PAGE_SIZE,
    "Organization.topWorkspaces(first:)": MAX_PAGE_SIZE,
    "Organization.topWorkspaceGroups(first:)": MAX_PAGE_SIZE,
    "Organization.topUsers(first:)": MAX_PAGE_SIZE,
    "Meter.trend(months:)": MAX_TREND_MONTHS,
}
"""The bound each amount input is checked against, as `rules.amounts` defines it."""


def test_every_amount_input_states_its_accepted_range() -> None:
    described = {name: arg.description for name, arg in _arguments().items()}
    described |= {name: field.description for name, field in _input_fields().items()}
    wrong = {
        name: described.get(name)
        for name, bound in ACCEPTED_RANGES.items()
        if f"{bound:,}" not in (described.get(name) or "")
    }

    assert wrong == {}, f"descriptions without their bound: {wrong}"


def test_every_decimal_input_is_among_the_bounded_ones() -> None:
    """A new Decimal input must state its range (and be added above)."""
    inputs: dict[str, GraphQLArgument | GraphQLInputField] = {**_arguments()}
    inputs |= _input_fields()
    decimal = {
        name
        for name, value in inputs.items()
        if get_named_type(value.type).name == "Decimal"
    }

    assert decimal - set(ACCEPTED_RANGES) == set()


def test_page_info_has_the_four_relay_fields() -> None:
    page_info = GRAPHQL.type_map["PageInfo"]
    assert isinstance(page_info, GraphQLObjectType)

    assert {name: str(field.type) for name, field in page_info.fields.items()} == {
        "hasNextPage": "Boolean!",
        "hasPreviousPage": "Boolean!",
        "startCursor": "String",
        "endCursor": "String",
    }


def test_date_time_and_decimal_name_their_specification() -> None:
    specified = {}
    for name in ("DateTime", "Decimal"):
        scalar = GRAPHQL.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        specified[name] = scalar.specified_by_url

    assert specified == {
        "DateTime": "https://scalars.graphql.org/andimarek/date-time",
        "Decimal": "https://speleotrove.com/decimal/daconvs.html",
    }
