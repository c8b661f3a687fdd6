"""Variables coerced by `schema.variables` are exactly graphql-core's: the same
values, the same sources, and, for input that does not coerce, the same errors.

Both run side by side on the contract's documents against our schema, over
hand-picked edge cases and over events Hypothesis makes up, valid or not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql.execution.values import VariableValues, get_variable_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema import schema
from schema.variables import coerce_variables
from tests.gateway_client import operation

GRAPHQL_SCHEMA = schema._schema


def _definitions(document: str) -> Any:
    [definition] = [
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    ]
    return definition.variable_definitions or ()


def _outcome(found: VariableValues | list[GraphQLError]) -> Any:
    if isinstance(found, list):
        return ("errors", [error.message for error in found])
    return (
        "values",
        found.coerced,
        {name: source.value for name, source in found.sources.items()},
    )


def _both(document: str, variables: dict[str, Any]) -> tuple[Any, Any]:
    definitions = _definitions(document)
    ours = coerce_variables(GRAPHQL_SCHEMA, definitions, variables, 50)
    theirs = get_variable_values(GRAPHQL_SCHEMA, definitions, variables, 50)
    return _outcome(ours), _outcome(theirs)


EVENT: dict[str, Any] = {
    "idempotencyKey": "e1",
    "organizationId": "org_a",
    "meter": "ai_text",
    "quantity": "1.5",
}


@pytest.mark.parametrize(
    "events",
    [
        [EVENT],
        EVENT,  # a single value for a list is a list of one
        [
            EVENT
            | {
                "occurredAt": "2026-12-01T10:00:00+00:00",
                "userId": 7,
                "workspaceId": None,
                "source": "CLI",
                "feature": "AGENT",
                "model": "m",
                "tokens": {"input": 10, "cacheRead": 2},
                "costUsd": 3,
                "definitionId": "d",
                "definitionName": "n",
            }
        ],
        [EVENT | {"tokens": {}}],
        [EVENT | {"quantity": 2.25}],
        [EVENT | {"quantity": "abc"}],
        [EVENT | {"quantity": None}],
        [{k: v for k, v in EVENT.items() if k != "meter"}],
        [EVENT | {"unknown": 1}],
        [EVENT | {"source": "NOPE"}],
        [EVENT | {"tokens": {"input": "ten"}}],
        [EVENT | {"occurredAt": "yesterday"}],
        [EVENT, None],
        None,
        "not an event",
        [],
    ],
)
def test_record_usage_events_coerce_as_graphql_core_does(events: Any) -> None:
    ours, theirs = _both(operation("record_usage"), {"events": events})
    assert ours == theirs


@pytest.mark.parametrize(
    "variables",
    [
        {"org": "org_a"},  # $at absent, $membersFirst from its default
        {"org": "org_a", "at": None, "membersFirst": 5},
        {"org": "org_a", "at": "2026-12-01T00:00:00Z"},
        {"org": 12},
        {},
        {"org": "org_a", "membersFirst": "twenty"},
        {"org": "org_a", "at": "not a time"},
    ],
)
def test_usage_page_variables_coerce_as_graphql_core_does(
    variables: dict[str, Any],
) -> None:
    ours, theirs = _both(operation("usage_page"), variables)
    assert ours == theirs


def test_partner_ids_coerce_as_graphql_core_does() -> None:
    for ids in (["a", "b"], "a", [1, "b"], [None], None):
        ours, theirs = _both(operation("partner_billing_state"), {"ids": ids})
        assert ours == theirs


def test_input_nested_too_deeply_is_graphql_core_s_error() -> None:
    deep: Any = "x"
    for _ in range(250):
        deep = [deep]
    ours, theirs = _both("query($v: [String]) { __typename }", {"v": deep})
    assert ours == theirs
    assert ours[0] == "errors"


_text = st.text(max_size=5)
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    _text,
    st.sampled_from(["API", "WEB", "CHAT", "1.25", "-3", "1e5", "2026-12-01T10:00Z"]),
)
_fields = st.sampled_from(
    [
        "idempotencyKey",
        "organizationId",
        "meter",
        "quantity",
        "occurredAt",
        "userId",
        "source",
        "feature",
        "tokens",
        "costUsd",
        "unknownField",
    ]
)
_events = st.lists(
    st.dictionaries(
        _fields,
        st.one_of(
            _values, st.dictionaries(st.sampled_from(["input", "output"]), _values)
        ),
        max_size=8,
    ).map(lambda event: {**EVENT, **event}),
    max_size=4,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(events=_events)
def test_made_up_events_coerce_as_graphql_core_does(events: list[Any]) -> None:
    ours, theirs = _both(operation("record_usage"), {"events": events})
    assert ours == theirs


def test_values_are_the_scalars_own() -> None:
    ours, _ = _both(
        operation("record_usage"),
        {"events": [EVENT | {"occurredAt": "2026-12-01T10:00:00+00:00"}]},
    )
    [event] = ours[1]["events"]
    assert event["quantity"] == Decimal("1.5")
    assert event["occurredAt"] == datetime(2026, 12, 1, 10, tzinfo=UTC)
