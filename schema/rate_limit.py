"""The per-caller rate limit as a schema extension: refused before execution."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from resolvers.context import Context
from rules.errors import RateLimited
from schema.errors import reported
from store.metrics import RATE_LIMITED


class RateLimit(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.rate_limiter is not None:
            verdict = await context.rate_limiter.take(context.caller)
            context.rate_limit = verdict
            if not verdict.allowed:
                RATE_LIMITED.labels(
                    "anonymous"
                    if context.identity is None
                    else context.identity.kind.value
                ).inc()
                self.execution_context.result = ExecutionResult(
                    data=None,
                    errors=[
                        reported(
                            RateLimited(
                                "too many requests: retry in "
                                f"{verdict.retry_after_seconds} s",
                                verdict.retry_after_seconds,
                            )
                        )
                    ],
                )
        yield
