"""Repeated queries answered from the process's response cache, and the write
generations moved after mutations (`store.response_cache`, `store.generations`).

A query is cached when every root field names the organizations it reads before
it runs: `organization(id:)`, `organizations(ids:)`, and `viewer` (whose
`organizations` are an API key's listed ones; a user's memberships are only known
by reading them, so such documents are not cached). Before executing, the
generations of those organizations (and the global one) are read from Redis; an
entry kept for the same caller, document, operation and variables at the same
generations, and younger than the maximum age, is the answer. Otherwise the query
runs (or waits for the same query already running at the same generations), and
its answer is kept when it has no errors and read no organization but those named
(`Context.touched_organizations`).

The generations are read before anything the answer depends on (the request's SQL
snapshot, the hot counters, the process's catalog), and writers move them after
their commit and before their reply: an answer computed from data older than a
write carries a generation older than the write's, so once `recordUsage` (or any
mutation) has replied, no later request is answered from before it. Identity is
read before the generations, which is safe because keys never change but by
revocation (refused at authentication) and a user's rights are read with the data.

After a mutation runs, the global generation moves, unless its only root fields
are `recordUsage`, which moves the generations of the organizations it accepted
events for itself (`resolvers.mutations.record_usage`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    ListValueNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from auth.identity import Identity
from resolvers.context import Context
from resolvers.selections import fields_at
from store.metrics import RESPONSE_CACHE

RECORD_USAGE = "recordUsage"


class CachedResponses(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context) or execution.result is not None:
            yield  # refused before execution (rate limit, query limits)
            return
        document = execution.graphql_document
        if execution.operation_type is OperationType.MUTATION:
            yield
            if document is not None and not _only_records_usage(
                document, execution.operation_name
            ):
                await context.move_everything()
            return
        cache = context.response_cache
        identity = context.identity
        if (
            cache is None
            or identity is None
            or document is None
            or execution.operation_type is not OperationType.QUERY
        ):
            yield
            return
        variables = execution.variables or {}
        named = named_organizations(
            document, execution.operation_name, variables, identity
        )
        if named is None:
            yield
            return
        stamp = await cache.generations.read(named)
        if stamp is None:  # Redis cannot say what is current
            yield
            return
        key = (
            identity.kind,
            identity.id,
            execution.query,
            execution.operation_name,
            orjson.dumps(variables, option=orjson.OPT_SORT_KEYS),
        )
        kept = cache.get(key, stamp)
        if kept is None:
            kept = await cache.joined(key, stamp)
        if kept is not None:
            RESPONSE_CACHE.labels("hit").inc()
            execution.result = ExecutionResult(data=kept, errors=None)  # type: ignore[arg-type]
            yield
            return
        RESPONSE_CACHE.labels("miss").inc()
        async with cache.flight(key, stamp) as keep:
            yield
            result = _result(execution)
            if (
                result is not None
                and not result.errors
                and result.data is not None
                and context.touched_organizations <= set(named)
            ):
                keep(result.data)


def _result(execution: ExecutionContext) -> Any:
    """The result once execution is over (a call, so that mypy does not keep the
    narrowing from before the `yield`)."""
    return execution.result


def named_organizations(
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any],
    identity: Identity,
) -> list[str] | None:
    """The organizations a query reads, known before it runs; None: not known (the
    query is not cached)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    named: set[str] = set()
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None
        field = selection.name.value
        if field == "__typename":
            continue
        if field == "organization":
            found = _ids(_argument(selection, "id"), variables)
        elif field == "organizations":
            found = _ids(_argument(selection, "ids"), variables)
        elif field == "viewer":
            found = []
            if _selects(selection.selection_set, "organizations", document):
                if identity.is_user:
                    return None
                found = list(identity.key_organization_ids)
        else:
            return None
        if found is None:
            return None
        named.update(found)
    return sorted(named)


def _argument(field: FieldNode, name: str) -> ValueNode | None:
    for argument in field.arguments or ():
        if argument.name.value == name:
            return argument.value
    return None


def _ids(value: ValueNode | None, variables: dict[str, Any]) -> list[str] | None:
    """The organization ids an argument holds, when they are plain strings."""
    if isinstance(value, StringValueNode):
        return [value.value]
    if isinstance(value, VariableNode):
        given = variables.get(value.name.value)
        if isinstance(given, str):
            return [given]
        if isinstance(given, list) and all(isinstance(item, str) for item in given):
            return list(given)
        return None
    if isinstance(value, ListValueNode):
        ids: list[str] = []
        for item in value.values:
            found = _ids(item, variables)
            if found is None:
                return None
            ids.extend(found)
        return ids
    return None


def _selects(
    selection_set: SelectionSetNode | None, field: str, document: DocumentNode
) -> bool:
    """Whether a selection set asks for `field` on its own type (through fragments
    too)."""
    if selection_set is None:
        return False
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    return any(
        selected.name.value == field
        for selected in fields_at(selection_set.selections, fragments)
    )


def _only_records_usage(document: DocumentNode, operation_name: str | None) -> bool:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return False
    return all(
        isinstance(selection, FieldNode) and selection.name.value == RECORD_USAGE
        for selection in operation.selection_set.selections
    )
