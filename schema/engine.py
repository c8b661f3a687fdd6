"""The engine adapter: every fast path that reaches into Strawberry or graphql-core
sits behind this one module, one switch and one start-up check.

Three fast paths replace engine work that profiles showed on every request:
`schema.execution` (plain leaf fields answered without graphql-core's per-field
machinery), `schema.variables` (variable coercion compiled per input type; graphql-core
has no hook, so `install` replaces the function its executor calls) and
`schema.validation_cache` (validation cached by query text). With them comes one
fix: `schema.execution.gather_with_cancel`, which cancels a failed object's pending
fields without dropping the coroutines of those that had not started yet
(graphql-core's own leaves them unawaited). Each is held against the
engine's own behaviour by differential tests
(tests/schema/test_execution_fast_path.py, tests/schema/test_variables.py), and
pyproject pins both engines to the minor releases those tests cover.

`USAGE_GATEWAY_ENGINE_FAST_PATHS=false` turns all three off: the schema is then
Strawberry's and graphql-core's as released (CI runs the read and write suites that
way too). It is read at import, because the schema is built at import. `check` runs
at start-up (`gateway.app.create_app`): a fast path that is switched on but no longer
applies (an engine upgrade renamed what it overrides) stops the gateway with the
switch to use, instead of serving with half a patch.
"""

from __future__ import annotations

import inspect
import os

import graphql.execution.executor as executor_module
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema import execution, variables
from schema.execution import GatewayExecutionContext
from schema.validation_cache import ValidationByText

SWITCH = "USAGE_GATEWAY_ENGINE_FAST_PATHS"
ENABLED = os.environ.get(SWITCH, "true").strip().lower() not in {"0", "false", "no"}
"""Whether this process uses the fast paths (the switch, read at import)."""

_OVERRIDDEN = ("execute_fields", "complete_list_value", "execute_field")
"""The engine methods `GatewayExecutionContext` overrides, signature for signature."""


class EngineMismatch(RuntimeError):
    """A fast path is switched on but does not apply to the installed engine."""


def execution_context_class() -> type[StrawberryGraphQLCoreExecutionContext] | None:
    """The schema's execution context: ours, or None for Strawberry's own."""
    return GatewayExecutionContext if ENABLED else None


def validation_extensions() -> list[type[SchemaExtension]]:
    """Validation by query text, or nothing (Strawberry's own validation cache)."""
    return [ValidationByText] if ENABLED else []


def install() -> None:
    """Apply the patches the switch asks for (once, when the schema is built)."""
    if ENABLED:
        variables.install()
        execution.install()


def check() -> None:
    """Every fast path that is on applies to the installed engine; raises
    `EngineMismatch` naming the switch otherwise."""
    if not ENABLED:
        return
    problems = []
    if executor_module.get_variable_values is not variables.coerce_variables:  # type: ignore[attr-defined]
        problems.append(
            "graphql.execution.executor.get_variable_values is not replaced"
        )
    if executor_module.gather_with_cancel is not execution.gather_with_cancel:  # type: ignore[attr-defined]
        problems.append("graphql.execution.executor.gather_with_cancel is not replaced")
    for name in _OVERRIDDEN:
        base = getattr(StrawberryGraphQLCoreExecutionContext, name, None)
        ours = getattr(GatewayExecutionContext, name)
        if base is None:
            problems.append(f"the engine's execution context has no {name}()")
        elif list(inspect.signature(base).parameters) != list(
            inspect.signature(ours).parameters
        ):
            problems.append(f"{name}() changed its parameters in the engine")
    if problems:
        raise EngineMismatch(
            "engine fast paths do not apply: "
            + "; ".join(problems)
            + f" (set {SWITCH}=false to run on the engines as released)"
        )
