"""The client documents our users need are in the repository, and they are the
contract's: `operations/` must equal the contract's own where one is given.

The suite reads nothing outside the repository by itself: `.ci/run` names the
contract's folder in USAGE_GATEWAY_TEST_CONTRACT when the project's contract sits
beside the checkout, and the comparison then runs; a clone alone skips it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = Path(os.environ.get("USAGE_GATEWAY_TEST_CONTRACT") or ROOT / "no-contract")
"""The contract's folder (its `operations/` and `check-operations`), when given."""
SKIP = "no contract folder given (USAGE_GATEWAY_TEST_CONTRACT) to compare with"


def _documents(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(folder.glob("*.graphql"))}


def test_the_repository_carries_every_client_document() -> None:
    names = set(_documents(ROOT / "operations"))

    assert {"usage_page.graphql", "usage_live.graphql", "record_usage.graphql"} <= names
    assert len(names) == 12


def test_the_documents_are_the_contracts_own() -> None:
    if not (CONTRACT / "operations").is_dir():
        pytest.skip(SKIP)

    assert _documents(ROOT / "operations") == _documents(CONTRACT / "operations")


def test_check_operations_is_the_contracts_own() -> None:
    if not (CONTRACT / "check-operations").is_file():
        pytest.skip(SKIP)

    assert (ROOT / "check-operations").read_text() == (
        CONTRACT / "check-operations"
    ).read_text()
