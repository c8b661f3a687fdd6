"""The README's example queries are real: each validates against the schema."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[1]


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
