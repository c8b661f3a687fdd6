"""GraphQL Code Generator (typescript + typescript-operations) over `schema.graphql`
and every client document, then `tsc` in strict mode: what a TypeScript team runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.clients.node import CLIENTS, run_client

CODEGEN = "node_modules/@graphql-codegen/cli/cjs/bin.js"
TSC = "node_modules/typescript/bin/tsc"


def _generate() -> None:
    shutil.rmtree(CLIENTS / "build" / "generated", ignore_errors=True)
    generated = run_client(CODEGEN, "--config", "codegen.yml")
    assert generated.returncode == 0, generated.stdout + generated.stderr


def test_generated_types_of_every_document_compile_in_strict_mode() -> None:
    _generate()

    operations = (CLIENTS / "build" / "generated" / "operations.ts").read_text()
    compiled = run_client(TSC, "-p", "tsconfig.json")

    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    for name in ("UsagePageQuery", "RecordUsageMutation", "UsageLiveSubscription"):
        assert f"export type {name} =" in operations


def test_strict_mode_refuses_a_client_that_ignores_a_nullable_field(
    tmp_path: Path,
) -> None:
    """The check can fail: `seats` is redacted to null for some roles, so a client
    reading it without a null check must not compile."""
    _generate()
    wrong = CLIENTS / "build" / "wrong-usage.ts"
    wrong.write_text(
        'import type { UsagePageQuery } from "./generated/operations.js";\n'
        "export const total = (page: UsagePageQuery): number =>\n"
        "  page.organization!.seats.total;\n"
    )
    config = CLIENTS / "build" / "tsconfig.wrong.json"
    config.write_text(
        '{"extends": "../tsconfig.json", "files": ["generated/schema-types.ts",'
        ' "generated/operations.ts", "wrong-usage.ts"]}'
    )

    compiled = run_client(TSC, "-p", str(config.relative_to(CLIENTS)))

    assert compiled.returncode != 0
    assert "wrong-usage.ts(3,3): error TS2531: Object is possibly 'null'" in (
        compiled.stdout
    )
