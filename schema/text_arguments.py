"""No text argument may hold a NUL character: refused before anything runs.

PostgreSQL cannot store a NUL in text and refuses it even as a query parameter, so
an id such as `"org\\u0000"` would answer INTERNAL there and "not found" on SQLite.
Refusing it up front as BAD_USER_INPUT gives one answer on both backends and touches
nothing. The events of `recordUsage` are the exception: one event's bad text must not
fail the other 999, so those values are judged per event (`store.decisions`, where
such an event is INVALID).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from rules.errors import BadUserInput
from schema.errors import reported

_NUL = "\x00"
_PER_EVENT = ("recordUsage", "events")
"""The one argument whose text is judged per event (field, argument)."""


class NulInText(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if document is not None and execution.result is None:
            where = _nul_argument(document, execution.variables or {})
            if where is not None:
                execution.result = ExecutionResult(
                    data=None,
                    errors=[
                        reported(
                            BadUserInput(
                                f"{where} holds a NUL character, which no text may"
                            )
                        )
                    ],
                )
        yield


def _nul_argument(document: DocumentNode, variables: Mapping[str, Any]) -> str | None:
    """Where the first NUL is ("argument `id` of `organization`"), or None."""
    for field, argument, value in _arguments(document):
        per_event = (field, argument) == _PER_EVENT
        for used in _strings_and_variables(value):
            if isinstance(used, VariableNode):
                name = used.name.value
                if per_event:
                    continue
                if _holds_nul(variables.get(name)):
                    return f"variable ${name}"
            elif not per_event and _NUL in used:
                return f"argument `{argument}` of `{field}`"
    return None


_ARGUMENTS: dict[int, tuple[DocumentNode, list[tuple[str, str, ValueNode]]]] = {}
"""By the document's identity (the parser cache hands out the same node for the same
text), the document kept so that its id is never another's; emptied at 512."""


def _arguments(document: DocumentNode) -> list[tuple[str, str, ValueNode]]:
    found = _ARGUMENTS.get(id(document))
    if found is not None and found[0] is document:
        return found[1]
    finder = _Arguments()
    visit(document, finder)
    if len(_ARGUMENTS) >= 512:
        _ARGUMENTS.clear()
    _ARGUMENTS[id(document)] = (document, finder.arguments)
    return finder.arguments


class _Arguments(Visitor):
    """Every (field name, argument name, value) of the document."""

    def __init__(self) -> None:
        super().__init__()
        self.arguments: list[tuple[str, str, ValueNode]] = []
        self._fields: list[str] = []

    def enter_field(self, node: FieldNode, *_: object) -> None:
        self._fields.append(node.name.value)

    def leave_field(self, node: FieldNode, *_: object) -> None:
        self._fields.pop()

    def enter_argument(self, node: ArgumentNode, *_: object) -> None:
        field = self._fields[-1] if self._fields else ""
        self.arguments.append((field, node.name.value, node.value))


def _strings_and_variables(value: ValueNode) -> Iterator[str | VariableNode]:
    if isinstance(value, StringValueNode):
        yield value.value
    elif isinstance(value, VariableNode):
        yield value
    elif isinstance(value, ListValueNode):
        for item in value.values:
            yield from _strings_and_variables(item)
    elif isinstance(value, ObjectValueNode):
        for field in value.fields:
            yield from _strings_and_variables(field.value)


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return _NUL in value
    if isinstance(value, Mapping):
        return any(_NUL in key or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False
