"""schema.graphql is the code's schema, and every client operation validates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphql import build_schema

from schema import schema

ROOT = Path(__file__).resolve().parents[2]
CHECK_OPERATIONS = ROOT / "check-operations"


def test_checked_in_schema_matches_the_code() -> None:
    checked_in = (ROOT / "schema.graphql").read_text()

    assert checked_in == schema.as_str() + "\n", (
        "schema.graphql drifted from the code: run `make schema` and commit it"
    )


def test_every_contract_operation_validates() -> None:
    result = subprocess.run(
        [sys.executable, str(CHECK_OPERATIONS), str(ROOT / "schema.graphql")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout


def test_every_field_and_type_has_a_description() -> None:
    built = build_schema((ROOT / "schema.graphql").read_text())
    missing = []
    for name, graphql_type in built.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        fields = getattr(graphql_type, "fields", None) or {}
        for field_name, field in fields.items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
    assert missing == []
