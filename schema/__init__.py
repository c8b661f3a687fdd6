"""The assembled GraphQL schema and its extensions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter, ParserCache
from strawberry.types import ExecutionContext

from schema import engine
from schema.errors import is_coded
from schema.introspection import IntrospectionAccess
from schema.limits import MAX_TOKENS, QueryLimits
from schema.masking import MaskInternalErrors
from schema.metrics import OperationMetrics
from schema.mutation import Mutation
from schema.query import Query
from schema.rate_limit import RateLimit
from schema.response_cache import CachedResponses
from schema.scalars import DateTimeScalar, DecimalScalar
from schema.subscription import Subscription
from schema.text_arguments import NulInText


class GatewaySchema(strawberry.Schema):
    """Logs only unexpected errors: a NOT_FOUND or FORBIDDEN is an answer, not a bug."""

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        unexpected = [error for error in errors if not is_coded(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


engine.install()
schema = GatewaySchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    scalar_overrides={Decimal: DecimalScalar, datetime: DateTimeScalar},
    execution_context_class=engine.execution_context_class(),
    extensions=[
        # Outermost: sees every answer as the client does (refusals, cached
        # answers, masked errors) and times the whole operation.
        OperationMetrics,
        # Both caches live at module level, shared by every request.
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=512),
        *engine.validation_extensions(),
        RateLimit,
        QueryLimits,
        IntrospectionAccess,
        NulInText,
        # After the refusals above: a refused request is neither answered from the
        # cache nor counted as a mutation.
        CachedResponses,
        MaskInternalErrors,
    ],
)
