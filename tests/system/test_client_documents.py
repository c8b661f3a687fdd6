"""The client documents our users need are in the repository, and they are the
contract's: `operations/` must equal `../shared/contract/operations` where it exists."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "contract"


def _documents(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(folder.glob("*.graphql"))}


def test_the_repository_carries_every_client_document() -> None:
    names = set(_documents(ROOT / "operations"))

    assert {"usage_page.graphql", "usage_live.graphql", "record_usage.graphql"} <= names
    assert len(names) == 12


def test_the_documents_are_the_contracts_own() -> None:
    if not (CONTRACT / "operations").is_dir():
        pytest.skip("no ../shared/contract beside this checkout to compare with")

    assert _documents(ROOT / "operations") == _documents(CONTRACT / "operations")


def test_check_operations_is_the_contracts_own() -> None:
    if not (CONTRACT / "check-operations").is_file():
        pytest.skip("no ../shared/contract beside this checkout to compare with")

    assert (ROOT / "check-operations").read_text() == (
        CONTRACT / "check-operations"
    ).read_text()
