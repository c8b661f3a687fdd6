"""usageUpdated over HTTP: Apollo's multipart subscriptions, read by a real HTTP
client from a real `serve` process; a subscription without the multipart media type
is refused with a 400 that says how to subscribe."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway_client import operation, user_token
from tests.live_helpers import (
    LIVENESS_SECONDS,
    PROBE,
    events,
    gateway_env,
    http_execute,
    operator_key,
    provision,
    record,
    serving,
)

LIVE = operation("usage_live")
MULTIPART = "multipart/mixed;subscriptionSpec=1.0,application/json"


class MultipartReader:
    """Apollo's multipart subscription protocol, parsed as a client does: parts
    between `--graphql` boundaries, each a JSON object; `{}` is a heartbeat."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.parts: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        buffer = b""
        async for chunk in self.response.aiter_bytes():
            buffer += chunk
            *complete, buffer = buffer.split(b"\r\n--graphql")
            for part in complete:
                _, _, body = part.partition(b"\r\n\r\n")
                if body.strip():
                    self.parts.append(json.loads(body))
                    self._arrived.set()

    def payloads(self) -> list[dict[str, Any]]:
        return [part["payload"] for part in self.parts if "payload" in part]

    def ticks(self, meter: str) -> list[dict[str, Any]]:
        return [
            payload["data"]["usageUpdated"]
            for payload in self.payloads()
            if payload.get("data") and payload["data"]["usageUpdated"]["meter"] == meter
        ]

    async def until(self, check: Any) -> None:
        """Liveness guard only: waits for what must come, fails if it never does."""
        try:
            async with asyncio.timeout(LIVENESS_SECONDS):
                while not check():
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            pytest.fail(f"never happened; received: {self.parts}")

    def stop(self) -> None:
        self._task.cancel()


async def test_a_multipart_subscription_streams_the_ticks_of_recorded_usage(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = gateway_env(sqlite_url, None)
    key = operator_key(env)
    org = f"http_{uuid.uuid4().hex[:10]}"
    async with (
        serving(env, tmp_path / "gateway.log") as base,
        httpx.AsyncClient(base_url=base, timeout=60) as client,
    ):
        execute = http_execute(client, key)
        await provision(
            execute,
            org,
            monthly_credits="1000",
            limits=[{"meter": "email", "limit": "100", "creditsPerUnit": "2"}],
            members={"ada": "ADMIN"},
        )
        async with client.stream(
            "POST",
            "/graphql",
            json={"query": LIVE, "variables": {"org": org}},
            headers={
                "Accept": MULTIPART,
                "Authorization": f"Bearer {user_token('ada')}",
            },
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith(
                "multipart/mixed;boundary=graphql;subscriptionSpec=1.0"
            )
            reader = MultipartReader(response)
            try:
                for _ in range(200):  # live once a probe's tick comes back
                    await record(execute, events(org, PROBE, "1"))
                    await asyncio.sleep(0.05)
                    if reader.ticks(PROBE):
                        break
                await record(execute, events(org, "email", "10"))
                await reader.until(lambda: bool(reader.ticks("email")))
            finally:
                reader.stop()

    [tick] = reader.ticks("email")
    assert (tick["used"], tick["limit"], tick["percent"], tick["level"]) == (
        "10",
        "100",
        10.0,
        "NORMAL",
    )
    assert tick["credits"] == {
        "unit": "CREDITS",
        "spent": "20",
        "remaining": "980",
        "progress": 0.02,
        "prompts": [],
    }
    assert all("errors" not in payload for payload in reader.payloads())


async def test_a_multipart_subscription_refused_carries_the_code(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = gateway_env(sqlite_url, None)
    key = operator_key(env)
    org = f"http_{uuid.uuid4().hex[:10]}"
    async with (
        serving(env, tmp_path / "gateway.log") as base,
        httpx.AsyncClient(base_url=base, timeout=60) as client,
    ):
        await provision(http_execute(client, key), org, limits=[])
        response = await client.post(
            "/graphql",
            json={"query": LIVE, "variables": {"org": org}},
            headers={
                "Accept": MULTIPART,
                "Authorization": f"Bearer {user_token('stranger')}",
            },
        )
        plain = await client.post(
            "/graphql",
            json={"query": LIVE, "variables": {"org": org}},
            headers={"Authorization": f"Bearer {user_token('stranger')}"},
        )

    parts = [
        json.loads(part.partition(b"\r\n\r\n")[2])
        for part in response.content.split(b"\r\n--graphql")
        if part.partition(b"\r\n\r\n")[2].strip()
    ]
    payloads = [part["payload"] for part in parts if "payload" in part]
    assert [
        [error["extensions"]["code"] for error in payload["errors"]]
        for payload in payloads
    ] == [["NOT_FOUND"]]
    # Without the multipart media type: a clear refusal, not a null field.
    assert plain.status_code == 400
    assert "multipart/mixed" in plain.text
