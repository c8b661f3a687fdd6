"""Validation once per query text.

Strawberry's `ValidationCache` is an `lru_cache` over the parsed document, and
graphql-core's AST nodes are frozen dataclasses whose hash walks the whole tree:
every request re-hashed the UsagePage document (some 300 nodes) just to find its
cached validation. The same text parses to the same document against the same
schema and rules, so the text is the key here: its hash is one pass over a string.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAX_ENTRIES = 512

_validated: OrderedDict[tuple[str, tuple[type, ...]], list[GraphQLError]] = (
    OrderedDict()
)


class ValidationByText(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        query = execution.query
        if document is None or query is None:
            yield
            return
        rules = tuple(execution.validation_rules)
        key = (query, rules)
        errors = _validated.get(key)
        if errors is None:
            errors = validate_document(execution.schema._schema, document, rules)
            _validated[key] = errors
            if len(_validated) > MAX_ENTRIES:
                _validated.popitem(last=False)
        else:
            _validated.move_to_end(key)
        execution.pre_execution_errors = errors
        yield
