"""The domain's refusals: what a caller asked that the gateway will not do, and why.

Resolvers, auth and the store raise these; they know nothing of GraphQL. Each
carries the contract's `extensions.code` and any detail a client may act on
(`retryAfter`), as the plain `extensions` dict graphql-core copies onto the error
it reports for a field. `schema.errors` is the one place that decides which codes
reach a client as they are (everything else is masked as INTERNAL).
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A refusal the caller can read and act on (never a fault of ours)."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, object] = {"code": self.code, **details}


class Unauthenticated(DomainError):
    """No credentials, or credentials that could not be verified."""

    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    """Verified credentials that may not do this."""

    code = "FORBIDDEN"


class NotFound(DomainError):
    """Nothing by that name, or nothing this caller may know exists."""

    code = "NOT_FOUND"


class BadUserInput(DomainError):
    """An argument outside what the gateway accepts; nothing was changed."""

    code = "BAD_USER_INPUT"


class RateLimited(DomainError):
    """Too much at once: nothing was done; retry after `retryAfter` seconds."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, retryAfter=retry_after_seconds)


CODES: frozenset[str] = frozenset(
    refusal.code
    for refusal in (
        DomainError,
        Unauthenticated,
        Forbidden,
        NotFound,
        BadUserInput,
        RateLimited,
    )
)
"""The codes of the domain's refusals (INTERNAL included: a fault of ours)."""
