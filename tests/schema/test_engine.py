"""The engine adapter: one switch for every fast path, and a start-up check."""

from __future__ import annotations

import os
import subprocess
import sys

import graphql.execution.executor as executor_module
import pytest
from graphql.execution.values import get_variable_values

from schema import engine, schema, variables
from schema.execution import GatewayExecutionContext

PROBE = """
import graphql.execution.executor as executor_module
from schema import engine, schema
print(engine.ENABLED, schema.execution_context_class.__name__,
      executor_module.get_variable_values.__module__)
"""


def _probe(switch: str | None) -> str:
    environment = {k: v for k, v in os.environ.items() if k != engine.SWITCH}
    if switch is not None:
        environment[engine.SWITCH] = switch
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    return done.stdout.strip()


def test_the_fast_paths_are_on_by_default() -> None:
    assert _probe(None) == "True GatewayExecutionContext schema.variables"


def test_the_switch_leaves_the_engines_as_released() -> None:
    assert _probe("false") == (
        "False StrawberryGraphQLCoreExecutionContext graphql.execution.values"
    )


def test_the_start_up_check_passes_when_every_patch_applies() -> None:
    if not engine.ENABLED:
        pytest.skip(f"{engine.SWITCH} is off in this run")
    assert schema.execution_context_class is GatewayExecutionContext
    engine.check()


def test_the_start_up_check_names_a_patch_that_does_not_apply(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not engine.ENABLED:
        pytest.skip(f"{engine.SWITCH} is off in this run")
    monkeypatch.setattr(executor_module, "get_variable_values", get_variable_values)

    with pytest.raises(engine.EngineMismatch) as raised:
        engine.check()

    assert "get_variable_values is not replaced" in str(raised.value)
    assert f"{engine.SWITCH}=false" in str(raised.value)
    assert variables.coerce_variables is not get_variable_values
