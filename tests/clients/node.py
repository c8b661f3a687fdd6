"""Running the pinned Node clients of `clients/` from tests.

The stock tools our users run (graphql-ws, Apollo, GraphQL Code Generator, TypeScript,
graphql-http's audit, Playwright driving Debian's Chromium) are installed from
`clients/package-lock.json` by `make sync`. A test that needs them skips locally with
the reason when they are missing, and fails under CI=true like every real server.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients"


def require_node() -> str:
    """The `node` executable, once `clients/node_modules` is installed."""
    node = shutil.which("node")
    if node is None:
        unavailable("node", FileNotFoundError("node is not on PATH"))
    if not (CLIENTS / "node_modules").is_dir():
        unavailable(
            "clients/node_modules",
            FileNotFoundError("run `make sync` (npm ci in clients/)"),
        )
    assert node is not None
    return node


def run_client(
    *args: str, timeout: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs `node <args>` in `clients/` and returns what it printed."""
    return subprocess.run(
        [require_node(), *args],
        cwd=CLIENTS,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
