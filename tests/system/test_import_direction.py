"""Imports run one way: gateway -> schema -> resolvers -> (auth, store) -> rules.

Read from the code's own `import` statements (absolute imports of the project's
packages). `auth` may read `store` (an API key is looked up there); nothing below may
import from above. The edges that still climb back up are listed in `KNOWN_BACK_EDGES`
(issue 18 removes them): a new one fails this test, and so does a listed one that is
gone, so the list only ever shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"gateway": 0, "schema": 1, "resolvers": 2, "auth": 3, "store": 4, "rules": 5}
"""Lower numbers sit higher; a package may import only packages with larger numbers."""

KNOWN_BACK_EDGES = {
    ("resolvers/allowance.py", "schema.types.reports"),
    ("resolvers/billing.py", "schema.types"),
    ("resolvers/billing.py", "schema.types.common"),
    ("resolvers/members.py", "schema.types.common"),
    ("resolvers/members.py", "schema.types.members"),
    ("resolvers/mutations.py", "schema"),
    ("resolvers/mutations.py", "schema.organization"),
    ("resolvers/mutations.py", "schema.types.billing"),
    ("resolvers/mutations.py", "schema.types.members"),
    ("resolvers/provisioning.py", "schema.types.common"),
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _back_edges() -> set[tuple[str, str]]:
    edges = set()
    for package, layer in LAYERS.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for module in _imports(path):
                imported = module.split(".")[0]
                if imported == package or imported not in LAYERS:
                    continue
                if LAYERS[imported] <= layer:
                    edges.add((path.relative_to(ROOT).as_posix(), module))
    return edges


def test_no_new_import_climbs_back_up() -> None:
    new = _back_edges() - KNOWN_BACK_EDGES
    assert not new, f"imports against the layers {' -> '.join(LAYERS)}: {sorted(new)}"


def test_the_known_back_edges_are_all_still_there() -> None:
    """A removed edge comes off the list, so it cannot quietly return."""
    gone = KNOWN_BACK_EDGES - _back_edges()
    assert not gone, f"remove from KNOWN_BACK_EDGES: {sorted(gone)}"


def test_rules_import_nothing_of_the_project() -> None:
    """The usage rules stay pure: no I/O layer is within their reach."""
    reached = {
        module
        for path in (ROOT / "rules").rglob("*.py")
        for module in _imports(path)
        if module.split(".")[0] in LAYERS and module.split(".")[0] != "rules"
    }
    assert reached == set()
