"""`@apollo/client` 4 in Node (clients/apollo.mjs) against a real `serve`: the
UsagePage through PersistedQueryLink (the hash first, the document after
PERSISTED_QUERY_NOT_FOUND), hashed GETs, a query over GET, and trusted documents
for an API key. On the embedded default and on PostgreSQL + Redis, where a second
gateway finds the hash the first one stored."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from tests.clients.live_gateway import LiveGateway, backends, json_lines, live_gateway
from tests.clients.node import require_node, run_client
from tests.gateway_client import operation
from tests.live_helpers import events, http_execute, record
from tests.processes import start_gateway


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    return backends(request)


async def apollo(base: str, org: str, token: str, *steps: str) -> list[dict[str, Any]]:
    env = {**os.environ, "GATEWAY_URL": base, "ORG": org, "TOKEN": token}
    ran = await asyncio.to_thread(run_client, "apollo.mjs", *steps, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return json_lines(ran.stdout)


def exchanges(lines: list[dict[str, Any]], step: str) -> list[tuple[Any, ...]]:
    """(method, sent a hash, sent the document) per request, with the codes of its
    response."""
    requests = [line for line in lines if line["event"] == "request"]
    responses = [line for line in lines if line["event"] == "response"]
    return [
        (sent["method"], sent["hash"] is not None, sent["query"], answer["codes"])
        for sent, answer in zip(requests, responses, strict=True)
        if sent["step"] == step
    ]


def results(lines: list[dict[str, Any]], step: str) -> list[dict[str, Any]]:
    return [
        line["data"]
        for line in lines
        if line["event"] == "result" and line["step"] == step
    ]


def email(data: dict[str, Any]) -> tuple[str, str, float]:
    [meter] = [m for m in data["organization"]["meters"] if m["key"] == "email"]
    return meter["used"], meter["limit"], meter["percent"]


async def used_seven(gateway: LiveGateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.base, timeout=60) as client:
        await record(
            http_execute(client, gateway.operator), events(gateway.org, "email", "7")
        )


async def forget_persisted_queries(redis_url: str) -> None:
    """The test's Redis outlives runs: the UsagePage's hash must be new to it."""
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match="ug:{apq}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.mark.parametrize("backend", ["embedded", "postgres"], indirect=["backend"])
async def test_apollo_sends_the_hash_first_then_the_document_and_queries_over_get(
    backend: tuple[str, str | None], tmp_path: Path
) -> None:
    require_node()
    database_url, redis_url = backend
    if redis_url is not None:
        await forget_persisted_queries(redis_url)
    async with live_gateway(database_url, redis_url, tmp_path) as gateway:
        await used_seven(gateway)
        admin = gateway.token("ada")
        lines = await apollo(gateway.base, gateway.org, admin)
        shared = None
        if redis_url is not None:
            # A second gateway on the same Redis knows the hash the first stored.
            process, other = await asyncio.to_thread(
                start_gateway, gateway.env, tmp_path, "second"
            )
            try:
                shared = await apollo(other, gateway.org, admin, "apq")
            finally:
                process.send_signal(signal.SIGINT)
                try:
                    await asyncio.to_thread(process.wait, 30)
                except subprocess.TimeoutExpired:
                    process.kill()

    assert exchanges(lines, "apq") == [
        ("POST", True, False, ["PERSISTED_QUERY_NOT_FOUND"]),
        ("POST", True, True, []),
    ]
    [page] = results(lines, "apq")
    assert page["viewer"]["id"] == "ada"
    assert page["organization"]["viewerRole"] == "ADMIN"
    assert page["organization"]["members"]["totalCount"] == 2
    assert email(page) == ("7", "100", 7.0)
    assert exchanges(lines, "apq-get") == [
        ("GET", True, False, ["PERSISTED_QUERY_NOT_FOUND"]),
        ("POST", True, True, []),
        ("GET", True, False, []),
    ]
    assert [email(data) for data in results(lines, "apq-get")] == [
        ("7", "100", 7.0)
    ] * 2
    assert exchanges(lines, "get") == [("GET", False, True, [])]
    assert [email(data) for data in results(lines, "get")] == [("7", "100", 7.0)]
    if shared is not None:
        assert exchanges(shared, "apq") == [("POST", True, False, [])]
        assert [email(data) for data in results(shared, "apq")] == [("7", "100", 7.0)]


async def test_an_api_key_sends_trusted_documents_by_hash_and_nothing_else(
    sqlite_url: str, tmp_path: Path
) -> None:
    require_node()
    async with live_gateway(
        sqlite_url, None, tmp_path, trusted_documents_only="true"
    ) as gateway:
        await used_seven(gateway)
        async with httpx.AsyncClient(base_url=gateway.base, timeout=60) as client:
            created = await http_execute(client, gateway.operator)(
                operation("provisioning"),
                {
                    "input": {
                        "kind": "SERVICE",
                        "name": "mobile",
                        "organizationIds": [gateway.org],
                    }
                },
                "CreateApiKey",
            )
        service = created["data"]["createApiKey"]["secret"]
        lines = await apollo(gateway.base, gateway.org, service, "trusted")

    # The registered document by its hash alone: answered at once.
    assert exchanges(lines, "trusted") == [("POST", True, False, [])]
    assert [email(data) for data in results(lines, "trusted")] == [("7", "100", 7.0)]
    # Anything else: refused, and not worth sending the document.
    assert exchanges(lines, "trusted-ad-hoc") == [
        ("POST", True, False, ["PERSISTED_QUERY_NOT_IN_LIST"])
    ]
    [refused] = [line for line in lines if line["event"] == "error"]
    assert refused["codes"] == ["PERSISTED_QUERY_NOT_IN_LIST"]
