"""Which errors reach clients with their `extensions.code`: the one place codes map.

A resolver's `rules.errors.DomainError` keeps its code (graphql-core copies its
`extensions`); the request's own errors (cost, introspection, persisted queries)
are the GraphQLErrors below. Only these reach clients with their message; anything
else is masked as `INTERNAL` by the schema's MaskErrors extension, so no stack
trace or SQL leaks.
"""

from __future__ import annotations

from typing import ClassVar

from graphql import GraphQLError

from rules.errors import CODES as domain_codes
from rules.errors import BadUserInput, DomainError


class CodedError(GraphQLError):
    """An error of the GraphQL request itself (before any resolver ran), with its
    code. What resolvers refuse is a `rules.errors.DomainError` instead."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class QueryTooComplex(CodedError):
    code = "QUERY_TOO_COMPLEX"


class BadPersistedQuery(CodedError):
    """`extensions.persistedQuery` malformed, or its hash not the document's."""

    code = BadUserInput.code


class IntrospectionDisabled(CodedError):
    """`__schema`/`__type` refused by the INTROSPECTION setting for this caller."""

    code = "INTROSPECTION_DISABLED"


class PersistedQueryNotFound(CodedError):
    """Apollo's APQ: the hash is not known yet; the client sends the document."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class PersistedQueryNotInList(CodedError):
    """Trusted documents only (API keys): a hash that is not registered."""

    code = "PERSISTED_QUERY_NOT_IN_LIST"


class QueryNotInList(CodedError):
    """Trusted documents only (API keys): a document whose hash is not registered."""

    code = "QUERY_NOT_IN_LIST"


CODES: frozenset[str] = domain_codes | {
    refusal.code
    for refusal in (
        QueryTooComplex,
        IntrospectionDisabled,
        PersistedQueryNotFound,
        PersistedQueryNotInList,
        QueryNotInList,
    )
}
"""Every `extensions.code` a client may read: the domain's and the request's."""


def reported(refusal: DomainError) -> GraphQLError:
    """A domain refusal as the error of the whole request (nothing executed)."""
    return GraphQLError(refusal.message, original_error=refusal)


def is_coded(error: GraphQLError) -> bool:
    """True when the error (or what it wraps) is one we meant the client to read:
    ours, a permission class's (a GraphQLError carrying one of the contract's codes),
    graphql-core's own syntax and validation errors (no original error), or its
    errors about the request's variables (before execution, so without a path,
    wrapping graphql-core's account of the bad value: the caller's to fix)."""
    original = error.original_error
    if original is None or isinstance(original, DomainError):
        return True
    if not isinstance(original, GraphQLError):
        return False
    if (original.extensions or {}).get("code") in CODES:
        return True
    return error.path is None and original.path is None
