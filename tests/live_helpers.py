"""Shared by the tests that run the gateway for real: provisioning and recording
through GraphQL mutations with an operator key, and `usage-gateway serve` as a real
process (from `tests/resolvers/test_live_usage.py`, where they were written first)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx

from tests.gateway_client import JWT_SECRET, operation
from tests.processes import (
    create_operator_key,
    serve_env,
    start_gateway,
    stop_gateway,
)

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


def gateway_env(database_url: str, redis_url: str | None) -> dict[str, str]:
    """A `serve` process's environment, signing with the suite's JWT secret (so
    `tests.gateway_client.user_token` tokens are good there)."""
    return serve_env(database_url, redis_url, jwt_secret=JWT_SECRET)


def operator_key(env: dict[str, str]) -> str:
    return create_operator_key(env)


@asynccontextmanager
async def serving(env: dict[str, str], log: Path) -> AsyncIterator[str]:
    """`usage-gateway serve` as a real process, its output in `log`; yields its
    base URL."""
    process, base = await asyncio.to_thread(start_gateway, env, log.parent, log.stem)
    try:
        yield base
    finally:
        await asyncio.to_thread(stop_gateway, process)
