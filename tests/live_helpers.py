"""Shared by the tests that run the gateway for real: provisioning and recording
through GraphQL mutations with an operator key, and `usage-gateway serve` as a real
process (from `tests/resolvers/test_live_usage.py`, where they were written first)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx

from tests.gateway_client import JWT_SECRET, operation
from tests.processes import wait_until_ready

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "gateway.cli"]
PROBE = "api_calls"
LIVENESS_SECONDS = 60


class Execute(Protocol):
    async def __call__(
        self, document: str, variables: dict[str, Any], name: str | None = None
    ) -> dict[str, Any]: ...


async def provision(
    execute: Execute,
    org: str,
    *,
    billing_model: str = "CREDITS",
    limits: list[dict[str, Any]],
    monthly_credits: str | None = None,
    members: dict[str, str] | None = None,
) -> None:
    """A plan of the organization's own, an ACTIVE subscription anchored yesterday,
    and members by user id -> role."""
    now = datetime.now(UTC)
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "UpsertPlan",
            {
                "key": f"plan_{org}",
                "name": "Live",
                "tier": "PRO",
                "monthlyCredits": monthly_credits,
                "limits": limits,
            },
        ),
        (
            "UpsertOrganization",
            {
                "id": org,
                "name": org,
                "billingModel": billing_model,
                "billingState": "PAID",
            },
        ),
        (
            "SetSubscription",
            {
                "organizationId": org,
                "planKey": f"plan_{org}",
                "seats": 5,
                "anchor": (now - timedelta(days=1)).isoformat(),
            },
        ),
    ]
    for user, role in (members or {}).items():
        steps.append(
            (
                "UpsertMember",
                {
                    "organizationId": org,
                    "userId": user,
                    "email": f"{user}@example.com",
                    "name": user,
                    "role": role,
                },
            )
        )
    for name, data in steps:
        body = await execute(operation("provisioning"), {"input": data}, name)
        payload = next(iter(body["data"].values()))
        assert payload["userErrors"] == [], (name, payload)


def events(
    org: str, meter: str, *quantities: str, **fields: Any
) -> list[dict[str, Any]]:
    return [
        {
            "idempotencyKey": uuid.uuid4().hex,
            "organizationId": org,
            "meter": meter,
            "quantity": quantity,
            **fields,
        }
        for quantity in quantities
    ]


async def record(execute: Execute, batch: list[dict[str, Any]]) -> None:
    body = await execute(operation("record_usage"), {"events": batch})
    assert body["data"]["recordUsage"]["accepted"] == len(batch), body


def http_execute(client: httpx.AsyncClient, token: str) -> Execute:
    async def execute(
        document: str, variables: dict[str, Any], name: str | None = None
    ) -> dict[str, Any]:
        response = await client.post(
            "/graphql",
            json={"query": document, "variables": variables, "operationName": name},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        return body

    return execute


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gateway_env(database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("USAGE_GATEWAY_")
    }
    env.update(
        USAGE_GATEWAY_DATABASE_URL=database_url,
        USAGE_GATEWAY_JWT_SECRET=JWT_SECRET,
        USAGE_GATEWAY_LOG_LEVEL="warning",
        USAGE_GATEWAY_RATE_LIMIT_BURST="100000",
        PYTHONPATH=str(ROOT),
    )
    if redis_url is not None:
        env["USAGE_GATEWAY_REDIS_URL"] = redis_url
    return env


def operator_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [*CLI, "keys", "create", "--operator"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@asynccontextmanager
async def serving(env: dict[str, str], log: Path) -> AsyncIterator[str]:
    """`usage-gateway serve` as a real process; yields its base URL."""
    port = _free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_until_ready, base, process, log)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
