"""graphql-http's `auditServer`, the GraphQL-over-HTTP reference audit
(clients/audit-http.mjs), against a real `serve`: every audit ok, no warning and no
error. On the embedded default and on PostgreSQL + Redis (the rate limit and the
response cache then live in Redis)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.clients.live_gateway import backends
from tests.clients.node import require_node, run_client
from tests.processes import create_operator_key, serve_env, start_gateway


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    return backends(request)


@pytest.mark.parametrize("backend", ["embedded", "postgres"], indirect=["backend"])
async def test_the_graphql_over_http_audit_passes_without_warnings(
    backend: tuple[str, str | None], tmp_path: Path
) -> None:
    require_node()
    database_url, redis_url = backend
    env = serve_env(database_url, redis_url)
    operator = await asyncio.to_thread(create_operator_key, env, tmp_path)
    process, base = await asyncio.to_thread(start_gateway, env, tmp_path, "gateway")
    try:
        ran = await asyncio.to_thread(
            run_client,
            "audit-http.mjs",
            env={
                **os.environ,
                "AUDIT_URL": base + "/graphql",
                "AUDIT_AUTHORIZATION": f"Bearer {operator}",
            },
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    output = ran.stdout + ran.stderr
    summary = re.search(
        r"summary: (\d+) ok, (\d+) notices, (\d+) warnings, (\d+) errors", ran.stdout
    )
    assert summary is not None, output
    ok, notices, warnings, errors = (int(group) for group in summary.groups())
    assert (warnings, errors) == (0, 0), output
    assert ok + notices == 61  # graphql-http 1.23.1's audits, every one run
    assert ran.returncode == 0, output
