"""One helper to talk to the real ASGI app in tests (no mocks: real DB underneath)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from auth.tokens import issue_jwt
from gateway.app import create_app
from gateway.settings import load_settings

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256"
OPERATIONS = Path(__file__).resolve().parents[1] / "operations"


def operation(name: str) -> str:
    """A contract document, exactly as clients send it."""
    return (OPERATIONS / f"{name}.graphql").read_text()


def user_token(user_id: str, expires_in: timedelta = timedelta(hours=1)) -> str:
    return issue_jwt(user_id, JWT_SECRET, datetime.now(UTC) + expires_in)


class Gateway:
    def __init__(self, client: httpx.AsyncClient, app: Starlette | None = None) -> None:
        self.client = client
        self.app = app
        """The app under test (e.g. `app.state.engine` to count SQL statements)."""

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql",
            json={
                "query": query,
                "variables": variables or {},
                "operationName": operation_name,
            },
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        # Every response reports its cost; tests about cost read it from here.
        self.extensions = body.pop("extensions", {})
        return body


@asynccontextmanager
async def gateway(database_url: str, **settings: Any) -> AsyncIterator[Gateway]:
    # Tests write through the store between reads, which no write generation sees:
    # the response cache is off unless a test turns it on
    # (tests/schema/test_response_cache.py).
    settings.setdefault("response_cache_seconds", 0)
    app = create_app(
        load_settings(database_url=database_url, jwt_secret=JWT_SECRET, **settings)
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        app.router.lifespan_context(app),
    ):
        yield Gateway(client, app)


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]
