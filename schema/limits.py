"""Abuse limits checked before execution: depth, aliases and query cost.

Cost follows the large public GraphQL APIs: every field costs one point, and a list
multiplies what it holds by how many items it may return: `first` on connections,
`len(ids)` on `organizations` (10 for the viewer's own), `months` on `trend`, the
catalog size on `meters`. The cost of each request is reported in `extensions.cost`,
and a query over the maximum is refused (QUERY_TOO_COMPLEX) before anything runs.
Introspection costs one point per field, so GraphiQL can document the schema; its
nesting counts towards the depth (our own types do not nest deeper than 7, GraphiQL's
introspection query reaches 13).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from schema.errors import QueryTooComplex

MAX_DEPTH = 15
MAX_ALIASES = 30
MAX_COST = 25_000
MAX_TOKENS = 4_000
CATALOG_LIST_SIZE = 50
VIEWER_ORGANIZATIONS = 10
"""Upper bound on list fields sized by the catalog (meters, pools, operations)."""

_PAGED = {"members": 25, "topWorkspaces": 10, "topWorkspaceGroups": 10, "topUsers": 10}
_CATALOG_LISTS = {
    "meters",
    "pools",
    "usageByOperation",
    "categories",
    "points",
    "byType",
    "topDefinitions",
    "results",
}


@dataclass(frozen=True)
class Measure:
    depth: int
    aliases: int
    cost: int
    visited: int = 0


def too_complex(message: str) -> GraphQLError:
    return QueryTooComplex(message)


class QueryLimits(SchemaExtension):
    """Refuses queries past the limits and reports each request's cost."""

    def __init__(self) -> None:
        self.measure: Measure | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            self.measure = _measured(
                context.query, document, context.variables or {}, context.operation_name
            )
            error = _first_violation(self.measure)
            if error is not None:
                context.result = ExecutionResult(data=None, errors=[error])
        yield

    def get_results(self) -> dict[str, Any]:
        if self.measure is None:
            return {}
        return {
            "cost": {
                "requestedQueryCost": self.measure.cost,
                "maximumAvailable": MAX_COST,
            }
        }


def _first_violation(found: Measure) -> GraphQLError | None:
    if found.depth > MAX_DEPTH:
        return too_complex(
            f"the query is {found.depth} levels deep; at most {MAX_DEPTH}"
        )
    if found.aliases > MAX_ALIASES:
        return too_complex(
            f"the query uses {found.aliases} aliases; at most {MAX_ALIASES}"
        )
    if found.cost > MAX_COST:
        return too_complex(f"the query costs {found.cost} points; at most {MAX_COST}")
    return None


_MEASURED: OrderedDict[tuple[str, str | None, bytes], Measure] = OrderedDict()
_MEASURED_ENTRIES = 512


def _measured(
    query: str | None,
    document: Any,
    variables: dict[str, Any],
    operation_name: str | None,
) -> Measure:
    """`measure`, remembered per query text, operation and variables (a UsagePage's
    walk over 1,400 fields took ~0.4 ms of every request, cached answers included)."""
    if query is None:
        return measure(document, variables, operation_name)
    key = (query, operation_name, orjson.dumps(variables, option=orjson.OPT_SORT_KEYS))
    found = _MEASURED.get(key)
    if found is None:
        found = _MEASURED[key] = measure(document, variables, operation_name)
        if len(_MEASURED) > _MEASURED_ENTRIES:
            _MEASURED.popitem(last=False)
    else:
        _MEASURED.move_to_end(key)
    return found


def measure(
    document: Any, variables: dict[str, Any], operation_name: str | None
) -> Measure:
    """Depth, aliases and cost of the operation, in one pass over the document:
    each fragment is measured once (its depth, aliases and cost do not depend on
    where it is spread) and every spread reuses that, so fragments spreading each
    other cannot make the walk exponential. Numbers saturate just past their
    limits (`_CAP`), so they never grow with the expansion either."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    operations = [
        definition
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
        and (
            operation_name is None
            or (definition.name and definition.name.value == operation_name)
        )
    ]
    walker = _Walker(fragments, variables)
    found = _Shape(0, 0, 0)
    for operation in operations[:1]:
        found = walker.selection(operation.selection_set)
    return Measure(found.depth, found.aliases, found.cost, walker.visited)


@dataclass(frozen=True)
class _Shape:
    """A selection set's measure relative to where it sits (depth below it)."""

    depth: int
    aliases: int
    cost: int


_CAP = 10 * (MAX_COST + MAX_ALIASES + MAX_DEPTH)
"""Saturation: past this a number only says "over the limit"."""


def _sat(value: int) -> int:
    return value if value < _CAP else _CAP


class _Walker:
    def __init__(
        self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]
    ) -> None:
        self.fragments = fragments
        self.variables = variables
        self.memo: dict[str, _Shape] = {}
        self.in_progress: set[str] = set()
        self.visited = 0
        """Selections looked at: linear in the document (tests check it)."""

    def selection(self, selection_set: SelectionSetNode | None) -> _Shape:
        if selection_set is None:
            return _Shape(0, 0, 0)
        depth = aliases = cost = 0
        for node in selection_set.selections:
            self.visited += 1
            if isinstance(node, FieldNode):
                found = self.field(node)
            elif isinstance(node, InlineFragmentNode):
                found = self.selection(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                found = self.fragment(node.name.value)
            else:
                continue
            depth = max(depth, found.depth)
            aliases = _sat(aliases + found.aliases)
            cost = _sat(cost + found.cost)
        return _Shape(depth, aliases, cost)

    def fragment(self, name: str) -> _Shape:
        """Measured once; a cycle (refused by validation) counts nothing."""
        known = self.memo.get(name)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in self.in_progress:
            return _Shape(0, 0, 0)
        self.in_progress.add(name)
        found = self.selection(fragment.selection_set)
        self.in_progress.discard(name)
        self.memo[name] = found
        return found

    def field(self, node: FieldNode) -> _Shape:
        child = self.selection(node.selection_set)
        aliases = _sat(child.aliases + (node.alias is not None))
        depth = min(child.depth + 1, _CAP)
        if node.name.value.startswith("__"):
            return _Shape(depth, aliases, _sat(1 + child.cost))
        return _Shape(depth, aliases, _sat(1 + self.multiplier(node) * child.cost))

    def multiplier(self, node: FieldNode) -> int:
        name = node.name.value
        if name == "organizations":
            ids = self.argument(node, "ids")
            if isinstance(ids, list):
                return max(1, len(ids))
            # `viewer.organizations`: a user's memberships, rarely more than a few.
            return VIEWER_ORGANIZATIONS
        if name in _PAGED:
            first = self.argument(node, "first")
            return int(first) if isinstance(first, int) and first >= 0 else _PAGED[name]
        if name == "trend":
            months = self.argument(node, "months")
            return int(months) if isinstance(months, int) and months > 0 else 6
        if name in _CATALOG_LISTS or name == "edges":
            return 1 if name == "edges" else CATALOG_LIST_SIZE
        return 1

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                return self.variables.get(value.name.value)
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, ListValueNode):
                return list(value.values)
        return None
