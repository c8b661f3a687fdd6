"""GraphQL errors with the contract's `extensions.code`.

Only these classes reach clients with their message; anything else is masked as
`INTERNAL` by the schema's MaskErrors extension, so no stack trace or SQL leaks.
"""

from __future__ import annotations

from typing import ClassVar

from graphql import GraphQLError


class CodedError(GraphQLError):
    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class Unauthenticated(CodedError):
    code = "UNAUTHENTICATED"


class Forbidden(CodedError):
    code = "FORBIDDEN"


class NotFound(CodedError):
    code = "NOT_FOUND"


class BadUserInput(CodedError):
    code = "BAD_USER_INPUT"


class QueryTooComplex(CodedError):
    code = "QUERY_TOO_COMPLEX"


class RateLimited(CodedError):
    code = "RATE_LIMITED"


class WriteQueueFull(RateLimited):
    """Back-pressure of the embedded default (`store.write_queue`): too many writes
    wait for the SQLite writer. Nothing was written; retry after `retryAfter` s."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryAfter=1)


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


CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "QUERY_TOO_COMPLEX",
        "RATE_LIMITED",
        "INTROSPECTION_DISABLED",
        "PERSISTED_QUERY_NOT_FOUND",
        "PERSISTED_QUERY_NOT_IN_LIST",
        "QUERY_NOT_IN_LIST",
        "INTERNAL",
    }
)


def is_coded(error: GraphQLError) -> bool:
    """True when the error (or what it wraps) is one we meant the client to read:
    ours, a permission class's (a GraphQLError carrying one of the contract's codes),
    graphql-core's own syntax and validation errors (no original error), or its
    errors about the request's variables (before execution, so without a path,
    wrapping graphql-core's account of the bad value: the caller's to fix)."""
    original = error.original_error
    if original is None:
        return True
    if not isinstance(original, GraphQLError):
        return False
    if (original.extensions or {}).get("code") in CODES:
        return True
    return error.path is None and original.path is None


class NotAvailableYet(CodedError):
    """A contract field whose resolver is not built yet: an error, never a fake."""

    code = "INTERNAL"

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is not available yet in this gateway version")
