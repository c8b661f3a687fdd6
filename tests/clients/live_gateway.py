"""A real `serve` for the Node conformance scripts: the embedded default (SQLite, no
Redis) or PostgreSQL + Redis, an operator key, an organization with a member, and
how to sign that member's token."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.tokens import issue_jwt
from tests.live_helpers import http_execute, provision
from tests.processes import create_operator_key, serve_env, start_gateway

JWT_SECRET = "gateway-processes-test-secret-long-enough"  # tests.processes.serve_env


@dataclass(frozen=True)
class LiveGateway:
    base: str
    operator: str
    org: str
    env: dict[str, str]

    def token(self, user: str) -> str:
        return issue_jwt(user, JWT_SECRET, datetime.now(UTC) + timedelta(hours=1))


def backends(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """(database URL, Redis URL) for `request.param`: "embedded" or "postgres"."""
    if request.param == "embedded":
        return request.getfixturevalue("sqlite_url"), None
    return (
        request.getfixturevalue("postgres_url"),
        request.getfixturevalue("redis_url"),
    )


@asynccontextmanager
async def live_gateway(
    database_url: str, redis_url: str | None, folder: Path, **settings: str
) -> AsyncIterator[LiveGateway]:
    """`serve` with an organization `org` (email limited to 100, member "max")."""
    env = serve_env(database_url, redis_url)
    env.update({f"USAGE_GATEWAY_{k.upper()}": v for k, v in settings.items()})
    operator = await asyncio.to_thread(create_operator_key, env, folder)
    process, base = await asyncio.to_thread(start_gateway, env, folder, "gateway")
    try:
        org = f"node_{uuid.uuid4().hex[:10]}"
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            await provision(
                http_execute(client, operator),
                org,
                limits=[{"meter": "email", "limit": "100"}],
                members={"max": "MEMBER", "ada": "ADMIN"},
            )
        yield LiveGateway(base, operator, org, env)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def json_lines(output: str) -> list[dict[str, Any]]:
    """What a conformance script printed, one JSON object a line."""
    lines: list[dict[str, Any]] = []
    for line in output.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines
