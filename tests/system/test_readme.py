"""The README is true: its example queries validate against the schema, and its
Configuration table names every setting there is."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import build_schema, parse, validate

from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_readme_example_validates() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    examples = re.findall(
        r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S
    )

    problems = {
        example.splitlines()[0]: [
            error.message for error in validate(schema, parse(example))
        ]
        for example in examples
    }

    assert len(examples) >= 7
    assert {first: errors for first, errors in problems.items() if errors} == {}


def _configuration_rows() -> set[str]:
    """The variables the README's Configuration table names (OTEL_* is the SDK's)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1]
    table = section.split("\n\n|", 1)[1].split("\n\n", 1)[0]
    names: set[str] = set()
    for row in table.splitlines()[2:]:
        names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1]))
    return names


def test_the_configuration_table_names_every_setting_and_no_other() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    # Read by schema.engine when the schema is built, before any Settings load.
    settings.add("ENGINE_FAST_PATHS")
    assert _configuration_rows() == settings
