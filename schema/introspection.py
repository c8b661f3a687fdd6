"""Who may introspect the schema: everyone, authenticated callers only, or no one.

`__schema` and `__type` exist only on the root query type, so a document
introspects exactly when an operation's root selections (through fragments) name
one of them; `__typename` is always allowed. Checked at execution, not as a
validation rule: the validation cache is keyed by the query text alone, and the
answer here depends on the caller, so a cached validation can never carry one
caller's verdict to another. GraphiQL fetches its schema with the same request,
headers included, so it follows the same setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from resolvers.context import Context
from schema.errors import IntrospectionDisabled

_INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class IntrospectionAccess(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        if (
            isinstance(context, Context)
            and document is not None
            and context.introspection != "public"
            and _introspects(document)
        ):
            if context.introspection == "off":
                error = IntrospectionDisabled("introspection is disabled")
            elif context.identity is None:
                error = IntrospectionDisabled(
                    "introspection is for authenticated callers: send a token"
                )
            else:
                error = None
            if error is not None:
                execution.result = ExecutionResult(data=None, errors=[error])
        yield


def _introspects(document: Any) -> bool:
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    seen: set[str] = set()

    def names(selection_set: SelectionSetNode) -> bool:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                if node.name.value in _INTROSPECTION_FIELDS:
                    return True
            elif isinstance(node, InlineFragmentNode):
                if names(node.selection_set):
                    return True
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    seen.add(name)
                    if names(fragment.selection_set):
                        return True
        return False

    return any(
        names(definition.selection_set)
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    )
