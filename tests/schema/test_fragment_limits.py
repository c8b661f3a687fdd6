"""Query limits stay linear in the document when fragments spread each other."""

from __future__ import annotations

from typing import Any

from graphql import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from schema.limits import MAX_COST, measure
from tests.gateway_client import error_codes, gateway, user_token


def _hostile(levels: int, spreads: int = 10) -> str:
    """Fragment i spreads fragment i+1 `spreads` times: 10^levels fields expanded."""
    body = "".join(
        f"fragment F{i} on Viewer{{" + f"...F{i + 1}" * spreads + "}"
        for i in range(levels)
    )
    return "{viewer{...F0}}" + body + f"fragment F{levels} on Viewer{{id}}"


async def test_the_ten_level_fragment_bomb_is_too_complex_over_http(
    sqlite_url: str,
) -> None:
    async with gateway(sqlite_url) as api:
        body = await api.execute(_hostile(10), token=user_token("u1"))

    assert body["data"] is None
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]


def test_the_walk_visits_each_selection_once_whatever_the_expansion() -> None:
    found = measure(parse(_hostile(10)), {}, None)

    # 1 root field + 1 spread under it + 10 spreads in each of 10 fragments + `id`.
    assert found.visited == 1 + 1 + 10 * 10 + 1
    assert found.cost > MAX_COST


def _document(edges: list[list[int]], leaf_fields: list[int]) -> str:
    fragments = "".join(
        f"fragment F{i} on Viewer{{"
        + " ".join(["id"] * leaf_fields[i] + [f"...F{j}" for j in targets])
        + "}"
        for i, targets in enumerate(edges)
    )
    return "{viewer{...F0}}" + fragments


def _brute_force(edges: list[list[int]], leaf_fields: list[int], node: int) -> int:
    return leaf_fields[node] + sum(
        _brute_force(edges, leaf_fields, target) for target in edges[node]
    )


@st.composite
def _dags(draw: Any) -> tuple[list[list[int]], list[int]]:
    size = draw(st.integers(min_value=1, max_value=6))
    edges = [
        draw(st.lists(st.integers(min_value=i + 1, max_value=size - 1), max_size=4))
        if i < size - 1
        else []
        for i in range(size)
    ]
    leaves = [draw(st.integers(min_value=1, max_value=3)) for _ in range(size)]
    return edges, leaves


@settings(max_examples=60, deadline=None)
@given(_dags())
def test_fragment_dags_cost_what_their_expansion_costs(
    graph: tuple[list[list[int]], list[int]],
) -> None:
    edges, leaves = graph
    found = measure(parse(_document(edges, leaves)), {}, None)

    assert found.cost == 1 + _brute_force(edges, leaves, 0)
    spreads = sum(len(targets) for targets in edges)
    assert found.visited <= 1 + 1 + spreads + sum(leaves)  # each at most once


@settings(max_examples=40, deadline=None)
@given(_dags(), st.data())
def test_fragment_cycles_end_the_walk(
    graph: tuple[list[list[int]], list[int]], data: st.DataObject
) -> None:
    edges, leaves = graph
    last = len(edges) - 1
    back = data.draw(st.integers(min_value=0, max_value=last))
    edges[last] = [*edges[last], back]  # a cycle back to an earlier fragment
    found = measure(parse(_document(edges, leaves)), {}, None)

    assert found.visited <= 1 + 1 + sum(map(len, edges)) + sum(leaves)


async def test_a_fragment_cycle_is_a_validation_error_over_http(
    sqlite_url: str,
) -> None:
    query = "{viewer{...A}} fragment A on Viewer{id ...B} fragment B on Viewer{...A}"
    async with gateway(sqlite_url) as api:
        body = await api.execute(query, token=user_token("u1"))

    assert "errors" in body
    assert body.get("data") is None
    assert "Cannot spread fragment" in body["errors"][0]["message"]
