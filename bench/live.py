"""Live usage latency: from the recordUsage reply to the tick's delivery.

Starts two real gateway processes on a fresh PostgreSQL database and Redis (or one
process on SQLite without Redis with `--embedded`), subscribes N websocket clients
(`usage_live.graphql`) on the first, records one event at a time through the second,
and for every (call, subscriber) measures when the tick arrived relative to when the
recordUsage reply did. The ticks are published before the reply is sent, so a
negative delay means the tick beat the reply. Prints p50, p99 and max.

    .venv/bin/python -m bench.live [--subscribers 100] [--calls 200] [--embedded]

Environment: USAGE_GATEWAY_TEST_POSTGRES_URL and USAGE_GATEWAY_TEST_REDIS_URL (the
tests' defaults: the local servers). Never run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from auth.tokens import issue_jwt

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = ROOT / "operations"
CLI = [sys.executable, "-m", "gateway.cli"]
POSTGRES_URL = os.environ.get(
    "USAGE_GATEWAY_TEST_POSTGRES_URL",
    "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
)
REDIS_URL = os.environ.get("USAGE_GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256"
METER, PROBE = "ai_tokens", "api_calls"


def operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


# ----------------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USAGE_GATEWAY_")}
    env.update(
        USAGE_GATEWAY_DATABASE_URL=database_url,
        USAGE_GATEWAY_JWT_SECRET=JWT_SECRET,
        USAGE_GATEWAY_LOG_LEVEL="warning",
        USAGE_GATEWAY_RATE_LIMIT_BURST="1000000",
        USAGE_GATEWAY_RATE_LIMIT_PER_SECOND="100000",
        PYTHONPATH=str(ROOT),
    )
    if redis_url:
        env["USAGE_GATEWAY_REDIS_URL"] = redis_url
    return env


@asynccontextmanager
async def serving(env: dict[str, str], workdir: Path) -> AsyncIterator[str]:
    port = _free_port()
    log = workdir / f"gateway-{port}.log"
    with log.open("w") as output:
        process = await asyncio.create_subprocess_exec(
            *CLI,
            "serve",
            "--port",
            str(port),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_healthy(base, process, log)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()


async def _wait_until_healthy(
    base: str, process: asyncio.subprocess.Process, log: Path
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=1) as client:
        for _ in range(600):
            try:
                await client.get("/healthz")
                return
            except httpx.TransportError:
                if process.returncode is not None:
                    raise SystemExit(f"serve exited: see {log}") from None
                await asyncio.sleep(0.2)
    raise SystemExit(f"serve did not become healthy: see {log}")


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    name = f"ug_bench_{uuid.uuid4().hex[:10]}"
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql")
    dsn = admin_url.render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield (
            make_url(POSTGRES_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def _operator_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [*CLI, "keys", "create", "--operator"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def _user_token(user_id: str) -> str:
    return issue_jwt(user_id, JWT_SECRET, datetime.now(UTC) + timedelta(hours=1))


# ----------------------------------------------------------------------- clients


class Gateway:
    def __init__(self, client: httpx.AsyncClient, key: str) -> None:
        self.client, self.key = client, key
        self.reply_latencies: list[float] = []

    async def execute(
        self, document: str, variables: dict[str, Any], name: str | None = None
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": document, "variables": variables, "operationName": name},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        body: dict[str, Any] = response.json()
        if "errors" in body:
            raise SystemExit(f"GraphQL errors: {body['errors']}")
        return body

    async def record(self, org: str, meter: str, quantity: str) -> float:
        """Records one event; returns when the reply arrived (perf_counter)."""
        event = {
            "idempotencyKey": uuid.uuid4().hex,
            "organizationId": org,
            "meter": meter,
            "quantity": quantity,
        }
        started = time.perf_counter()
        body = await self.execute(operation("record_usage"), {"events": [event]})
        replied = time.perf_counter()
        if body["data"]["recordUsage"]["accepted"] != 1:
            raise SystemExit(f"not accepted: {body}")
        self.reply_latencies.append(replied - started)
        return replied


class Subscriber:
    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.arrivals: dict[tuple[str, str], float] = {}
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.websocket:
            arrived = time.perf_counter()
            message = json.loads(raw)
            if message.get("type") == "next":
                tick = message["payload"]["data"]["usageUpdated"]
                self.arrivals.setdefault((tick["meter"], tick["used"]), arrived)


@asynccontextmanager
async def subscriber(base: str, token: str, org: str) -> AsyncIterator[Subscriber]:
    url = base.replace("http://", "ws://") + "/graphql"
    async with connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], max_queue=None
    ) as websocket:
        init = {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {token}"},
        }
        await websocket.send(json.dumps(init))
        ack = json.loads(await websocket.recv())
        assert ack["type"] == "connection_ack", ack
        await websocket.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": operation("usage_live"),
                        "variables": {"org": org},
                    },
                }
            )
        )
        client = Subscriber(websocket)
        try:
            yield client
        finally:
            client.task.cancel()


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


# ------------------------------------------------------------------------- bench


def _delivered(
    clients: list[Subscriber], wanted: tuple[str, str]
) -> Callable[[], bool]:
    return lambda: all(wanted in client.arrivals for client in clients)


async def provision(gateway: Gateway, org: str) -> None:
    steps = [
        (
            "UpsertPlan",
            {
                "key": "bench",
                "name": "Bench",
                "tier": "PRO",
                "monthlyCredits": "1000000",
                "limits": [{"meter": METER, "limit": "100000000"}],
            },
        ),
        ("UpsertOrganization", {"id": org, "name": "Bench", "billingState": "PAID"}),
        (
            "SetSubscription",
            {
                "organizationId": org,
                "planKey": "bench",
                "seats": 5,
                "anchor": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            },
        ),
        (
            "UpsertMember",
            {
                "organizationId": org,
                "userId": "bench_admin",
                "email": "bench@example.com",
                "name": "Bench",
                "role": "ADMIN",
            },
        ),
    ]
    for name, data in steps:
        await gateway.execute(operation("provisioning"), {"input": data}, name)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def bench(subscribers: int, calls: int, embedded: bool) -> None:
    org = f"bench_{uuid.uuid4().hex[:8]}"
    async with AsyncExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if embedded:
            database_url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
            env = _env(database_url, None)
            key = await asyncio.to_thread(_operator_key, env)
            base_sub = base_rec = await stack.enter_async_context(serving(env, workdir))
        else:
            database_url = await stack.enter_async_context(fresh_postgres())
            env = _env(database_url, REDIS_URL)
            key = await asyncio.to_thread(_operator_key, env)
            base_sub = await stack.enter_async_context(serving(env, workdir))
            base_rec = await stack.enter_async_context(serving(env, workdir))
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=base_rec, timeout=60)
        )
        gateway = Gateway(http, key)
        await provision(gateway, org)
        # recordUsage alone: nobody follows the organization, nothing is published.
        for _ in range(calls):
            await gateway.record(org, "email", "1")
        alone = [latency * 1000 for latency in gateway.reply_latencies]
        token = _user_token("bench_admin")
        clients = [
            await stack.enter_async_context(subscriber(base_sub, token, org))
            for _ in range(subscribers)
        ]
        # Live once every subscriber has seen a probe tick.
        for _ in range(1000):
            await gateway.record(org, PROBE, "1")
            await asyncio.sleep(0.05)
            if all(any(m == PROBE for m, _ in c.arrivals) for c in clients):
                break
        # Warm-up, then measure one call at a time.
        gateway.reply_latencies.clear()
        delays: list[float] = []
        for number in range(1, calls + 1):
            replied = await gateway.record(org, METER, "1")
            wanted = (METER, str(number))
            await _until(_delivered(clients, wanted), f"tick {number}")
            delays.extend(c.arrivals[wanted] - replied for c in clients)

    milliseconds = [delay * 1000 for delay in delays]
    replies = [latency * 1000 for latency in gateway.reply_latencies]
    mode = (
        "1 process, SQLite, in-process fan-out"
        if embedded
        else ("2 processes, PostgreSQL + Redis pub/sub")
    )
    print(f"live ticks: {mode}; {subscribers} subscribers, {calls} recordUsage calls")
    print(
        "  delay reply -> tick (ms): "
        f"p50 {_percentile(milliseconds, 0.50):.2f}  "
        f"p99 {_percentile(milliseconds, 0.99):.2f}  "
        f"max {max(milliseconds):.2f}  "
        f"(ticks before the reply: {sum(d < 0 for d in delays)} of {len(delays)})"
    )
    print(
        "  recordUsage reply latency (ms): "
        f"p50 {statistics.median(replies):.2f}  p99 {_percentile(replies, 0.99):.2f}"
        f"  (nobody subscribed: p50 {statistics.median(alone):.2f}  "
        f"p99 {_percentile(alone, 0.99):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument(
        "--embedded", action="store_true", help="one process, SQLite, no Redis"
    )
    args = parser.parse_args()
    asyncio.run(bench(args.subscribers, args.calls, args.embedded))


if __name__ == "__main__":
    main()
