"""Looking ahead at what a query selects, before its fields run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
)


def fields_at(
    selections: Iterable[SelectionNode],
    fragments: Mapping[str, FragmentDefinitionNode],
) -> Iterator[FieldNode]:
    """The fields selected on one object, fragments and inline fragments opened
    (each fragment once; the fields' own selections are not entered)."""
    pending = [iter(selections)]
    seen: set[str] = set()
    while pending:
        for selection in pending.pop():
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                pending.append(iter(selection.selection_set.selections))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(iter(fragments[name].selection_set.selections))
