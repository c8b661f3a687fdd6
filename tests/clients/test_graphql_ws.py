"""`graphql-ws` + `ws` in Node (clients/graphql-ws.mjs) against a real `serve`: a
member's subscription receives the ticks of recorded usage; a wrong token is
refused with 4403. On the embedded default and on PostgreSQL + Redis (the ticks
then cross Redis pub/sub)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest

from tests.clients.live_gateway import backends, json_lines, live_gateway
from tests.clients.node import require_node, run_client
from tests.gateway_client import operation


@pytest.mark.parametrize("backend", ["embedded", "postgres"], indirect=["backend"])
async def test_graphql_ws_subscribes_receives_ticks_and_a_wrong_token_gets_4403(
    backend: tuple[str, str | None], tmp_path: Path
) -> None:
    require_node()
    database_url, redis_url = backend
    async with live_gateway(database_url, redis_url, tmp_path) as gateway:
        env = {
            **os.environ,
            "GATEWAY_URL": gateway.base,
            "ORG": gateway.org,
            "MEMBER_TOKEN": gateway.token("max"),
            "RECORD_TOKEN": gateway.operator,
            "METER": "email",
        }
        ran = await asyncio.to_thread(run_client, "graphql-ws.mjs", env=env)
        async with httpx.AsyncClient(base_url=gateway.base, timeout=60) as client:
            page = await client.post(
                "/graphql",
                json={"query": operation("meters"), "variables": {"org": gateway.org}},
                headers={"Authorization": f"Bearer {gateway.token('max')}"},
            )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = json_lines(ran.stdout)
    recorded = sum(
        int(line["quantity"]) for line in lines if line["event"] == "recorded"
    )
    ticks = [line for line in lines if line["event"] == "tick"]
    meters = page.json()["data"]["organization"]["meters"]
    [meter] = [m for m in meters if m["key"] == "email"]
    assert meter["used"] == str(recorded)
    last = ticks[-1]
    assert (last["meter"], last["used"], last["limit"]) == (
        "email",
        str(recorded),
        "100",
    )
    assert last["percent"] == recorded
    assert last["level"] == "NORMAL"
    [live] = [line for line in lines if line["event"] == "live"]
    assert int(live["used"]) + 5 == recorded
    assert [line for line in lines if line["event"] == "refused"] == [
        {"event": "refused", "code": 4403, "reason": "Forbidden"}
    ]
    assert not [line for line in lines if line["event"] in ("errors", "error")]


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    return backends(request)
