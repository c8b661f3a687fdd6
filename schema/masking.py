"""MaskErrors that says INTERNAL: clients get a code, never a stack trace or SQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types.execution import ExecutionResult, StreamExecutionResult

from rules.errors import BadUserInput, DomainError
from schema.errors import QueryTooComplex, is_coded

log = logging.getLogger("usage_gateway.errors")


def _should_mask(error: GraphQLError) -> bool:
    return not is_coded(error)


class MaskInternalErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(
            should_mask_error=_should_mask, error_message="Internal error."
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        log.error("unexpected error at %s", error.path, exc_info=error.original_error)
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": DomainError.code},
        )

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Operations over the websocket never reach the view's `process_result`:
        their syntax and validation errors get their code here, after masking."""
        masking = super().on_stream_result(result)
        next(masking)
        if isinstance(result, ExecutionResult) and result.errors:
            result.errors = with_codes(list(result.errors))
        yield None


def with_codes(errors: list[GraphQLError]) -> list[GraphQLError]:
    """Syntax, validation and variable errors come from graphql-core without a code;
    they are the caller's to fix, so they say BAD_USER_INPUT."""
    for error in errors:
        if not (error.extensions or {}).get("code"):
            code = (
                QueryTooComplex.code
                if "Document contains more than" in error.message
                else BadUserInput.code
            )
            error.extensions = {**(error.extensions or {}), "code": code}
    return errors
