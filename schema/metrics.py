"""Per-operation metrics, and what the access log says of each GraphQL request.

`OperationMetrics` is the schema's outermost extension, so it sees the answer as
the client does: refusals by the limits, cached answers and masked errors included.
Operation names are a bounded label set: the contract's documents by name, GraphiQL's
introspection, `anonymous` for an unnamed document and `other` for any other name
(a client may send any string; each would be a new time series).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from graphql import GraphQLError, OperationType
from strawberry.extensions import SchemaExtension

from schema.errors import CODES
from schema.masking import with_codes
from store.metrics import OPERATION_ERRORS, OPERATION_SECONDS, OPERATIONS
from store.metrics import enabled as metrics_enabled

KNOWN_OPERATIONS = frozenset(
    {
        "Analytics",
        "MemberDirectory",
        "Meters",
        "MobileSummary",
        "PartnerBillingState",
        "UpsertMeter",
        "UpsertPlan",
        "UpsertOrganization",
        "SetSubscription",
        "UpsertMember",
        "UpsertWorkspace",
        "GrantCredits",
        "SetModelPrice",
        "SetReconciliation",
        "SyncDailyAllowance",
        "CreateApiKey",
        "RevokeApiKey",
        "RecordUsage",
        "AllocateSeat",
        "DeallocateSeat",
        "ChangeSeats",
        "SetPersonalAllocation",
        "UsageChart",
        "UsageCheck",
        "UsageLive",
        "UsagePage",
        "IntrospectionQuery",
    }
)
"""The operations of `operations/*.graphql` (a test keeps the two equal) and
GraphiQL's schema fetch."""


def operation_label(name: str | None) -> str:
    """The bounded label of an operation name."""
    if name is None:
        return "anonymous"
    return name if name in KNOWN_OPERATIONS else "other"


def error_code(error: GraphQLError) -> str:
    """The error's `extensions.code` as a bounded label (uncoded: INTERNAL)."""
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) and code in CODES else "INTERNAL"


@dataclass
class AccessRecord:
    """What one HTTP request's access log line says beyond HTTP itself; the
    gateway's middleware opens one per request, the GraphQL layer fills it in."""

    request_id: str
    operation: str | None = None
    caller: str | None = None
    """The caller's kind (USER, SERVICE, OPERATOR, PARTNER, anonymous): never a
    token, key or user id."""
    organization: str | None = None
    codes: list[str] = field(default_factory=list)


ACCESS: ContextVar[AccessRecord | None] = ContextVar("access_record", default=None)


class OperationMetrics(SchemaExtension):
    """Counts and times each operation, and its errors by code."""

    def on_operation(self) -> Iterator[None]:
        if not metrics_enabled():
            yield
            return
        started = time.perf_counter()
        yield
        context = self.execution_context
        name = context.operation_name
        if name is None and context.graphql_document is not None:
            operations = [
                definition
                for definition in context.graphql_document.definitions
                if getattr(definition, "operation", None) is not None
            ]
            if len(operations) == 1 and operations[0].name is not None:  # type: ignore[attr-defined]
                name = operations[0].name.value  # type: ignore[attr-defined]
        label = operation_label(name)
        try:
            kind = context.operation_type.value
        except (RuntimeError, AttributeError):  # the document never parsed
            kind = OperationType.QUERY.value
        OPERATIONS.labels(label, kind).inc()
        OPERATION_SECONDS.labels(label).observe(time.perf_counter() - started)
        # Errors before execution (syntax, validation, variables) are not in a
        # result yet; their code is the one the client will read (`with_codes`).
        result = context.result
        errors = list(
            getattr(result, "errors", None) or context.pre_execution_errors or []
        )
        codes = [error_code(error) for error in with_codes(errors)]
        for code in codes:
            OPERATION_ERRORS.labels(label, code).inc()
        record = ACCESS.get()
        if record is not None:
            record.operation = label if name is None else name[:100]
            record.codes.extend(codes)
