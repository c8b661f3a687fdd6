"""A gateway killed (`kill -9`) between reserving and committing leaves nothing that
outlives its lease: within seconds the counters equal PostgreSQL again, and a hard
cap denies only on what is recorded.

Real `serve` processes on PostgreSQL and a Redis of the test's own. Each round sends
recordUsage batches that commit, then two batches that reserve in Redis and wait on
their insert (another session holds `usage_events` locked), and kills the process
with SIGKILL while they wait: Redis then counts 1,400 units that SQL never got. After
three such kills a fresh process must show, within a bounded time, the usage SQL
holds, and the issue's case must hold: limit 181,000, 180,000 recorded, a 500-unit
event is accepted (and another), one more unit is not.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from rules.cycles import cycle_for
from store.counters import usage_field
from store.counters.redis import RedisCounterStore
from store.db import create_engine, session_factory
from store.usage_loads import FieldSource, load_fields
from tests import factories as f
from tests.conftest import RedisServer
from tests.gateway_client import operation
from tests.processes import create_operator_key, serve_env, start_gateway

LIMIT = Decimal(181_000)
RECORDED = Decimal(180_000)
METER = "api_calls"
IN_FLIGHT = Decimal(1_400)
"""Two batches of 100 events of 7 units, reserved when the process dies."""
ROUNDS = 3
SETTLES_WITHIN = 30.0
"""The bound on how long a dead process's reservations may count (they expire
seconds after their owner stops renewing them; the rest is a loaded test machine)."""


def _dsn(url: str) -> str:
    return (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


async def _provision(url: str, org: str, anchor: datetime) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await f.add_all(
                session,
                f.plan("crash"),
                f.limit("crash", METER, str(LIMIT)),
                f.organization(org),
                f.subscription(org, "crash", anchor=anchor),
            )
    finally:
        await engine.dispose()


class _Counts:
    """The cycle's usage of the meter: in SQL, and as Redis holds it."""

    def __init__(self, url: str, redis_url: str, org: str, anchor: datetime) -> None:
        cycle = cycle_for(anchor, datetime.now(UTC))
        self.org = org
        self.url = url
        self.field = usage_field(METER, cycle.start)
        self.source = FieldSource(meter=METER, cycle=cycle)
        self.engine = create_engine(url)
        self.store = RedisCounterStore(redis_url)

    async def sql(self) -> Decimal:
        async with session_factory(self.engine)() as session:
            found = await load_fields(session, {self.org: {self.field: self.source}})
        return found[self.org][self.field]

    async def redis(self) -> Decimal | None:
        return (await self.store.values(self.org, [self.field]))[self.field]

    async def aclose(self) -> None:
        await self.store.aclose()
        await self.engine.dispose()


async def _post(
    client: httpx.AsyncClient,
    base: str,
    secret: str,
    document: str,
    variables: dict[str, Any],
) -> dict[str, Any]:
    response = await client.post(
        base + "/graphql",
        json={"query": operation(document), "variables": variables},
        headers={"Authorization": f"Bearer {secret}"},
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def _record(
    client: httpx.AsyncClient, base: str, secret: str, events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    data = await _post(client, base, secret, "record_usage", {"events": events})
    results: list[dict[str, Any]] = data["recordUsage"]["results"]
    return results


async def _check(
    client: httpx.AsyncClient, base: str, secret: str, org: str, quantity: str
) -> dict[str, Any]:
    variables = {"org": org, "meter": METER, "quantity": quantity}
    data = await _post(client, base, secret, "usage_check", variables)
    check: dict[str, Any] = data["usageCheck"]
    return check


def _events(org: str, prefix: str, count: int, quantity: str) -> list[dict[str, Any]]:
    return [
        {
            "idempotencyKey": f"{prefix}-{n}",
            "organizationId": org,
            "meter": METER,
            "quantity": quantity,
        }
        for n in range(count)
    ]


def _statuses(results: list[dict[str, Any]]) -> set[tuple[str, str | None]]:
    return {(r["status"], r["code"]) for r in results}


async def _kill_mid_batch(
    client: httpx.AsyncClient,
    env: dict[str, str],
    folder: Path,
    secret: str,
    counts: _Counts,
    round_: int,
) -> Decimal:
    """One gateway's life: batches that commit, then two held between reservation
    and commit when the process is killed. What Redis holds above SQL after it."""
    blocker = await asyncpg.connect(_dsn(counts.url))
    process, base = start_gateway(env, folder, f"killed-{round_}")
    try:
        for n in range(3):
            events = _events(counts.org, f"r{round_}-c{n}", 200, "1")
            committed = await _record(client, base, secret, events)
            assert _statuses(committed) == {("ACCEPTED", None)}
        recorded = await counts.sql()
        counted = await counts.redis() or Decimal(0)
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("LOCK TABLE usage_events IN EXCLUSIVE MODE")
        held = [
            asyncio.create_task(
                _record(client, base, secret, _events(counts.org, key, 100, "7"))
            )
            for key in (f"r{round_}-h0", f"r{round_}-h1")
        ]
        deadline = time.monotonic() + SETTLES_WITHIN
        while (await counts.redis() or 0) - counted < IN_FLIGHT:
            assert time.monotonic() < deadline, "the batches were never reserved"
            await asyncio.sleep(0.05)
        process.kill()
        process.wait()
        await lock.rollback()
        lost = await asyncio.gather(*held, return_exceptions=True)
        assert all(isinstance(answer, httpx.TransportError) for answer in lost)
    finally:
        await blocker.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert await counts.sql() == recorded
    return (await counts.redis() or Decimal(0)) - recorded


async def test_a_killed_gateways_reservations_expire_and_a_hard_cap_counts_only_sql(
    postgres_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    anchor = datetime.now(UTC) - timedelta(days=1)
    await _provision(postgres_url, org, anchor)
    env = serve_env(postgres_url, redis_server.url)
    secret = create_operator_key(env, tmp_path)
    counts = _Counts(postgres_url, redis_server.url, org, anchor)
    try:
        async with httpx.AsyncClient(timeout=120) as client:
            left = [
                await _kill_mid_batch(client, env, tmp_path, secret, counts, n)
                for n in range(ROUNDS)
            ]
            # Every kill left its two batches counted in Redis only (on top of
            # what earlier kills left, while their reservations still count).
            assert all(extra >= IN_FLIGHT for extra in left), left

            process, base = start_gateway(env, tmp_path, "after")
            try:
                recorded = await counts.sql()
                assert recorded == 3 * 600
                deadline = time.monotonic() + SETTLES_WITHIN
                seen = await _check(client, base, secret, org, "500")
                while Decimal(seen["used"]) != recorded:
                    assert time.monotonic() < deadline, (
                        f"usageCheck still counts {seen['used']}, SQL {recorded}"
                    )
                    await asyncio.sleep(0.2)
                    seen = await _check(client, base, secret, org, "500")
                assert await counts.redis() == recorded

                # The case: 180,000 recorded against a hard 181,000.
                top_up = _events(org, "top-up", 1, str(RECORDED - recorded))
                assert _statuses(await _record(client, base, secret, top_up)) == {
                    ("ACCEPTED", None)
                }
                check = await _check(client, base, secret, org, "500")
                assert (check["allowed"], check["used"], check["limit"]) == (
                    True,
                    "180000",
                    "181000",
                )
                last = [
                    await _record(client, base, secret, _events(org, key, 1, amount))
                    for key, amount in (("a", "500"), ("b", "500"), ("c", "1"))
                ]
            finally:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    finally:
        final = (await counts.sql(), await counts.redis())
        await counts.aclose()

    assert [_statuses(results) for results in last] == [
        {("ACCEPTED", None)},
        {("ACCEPTED", None)},
        {("DENIED", "LIMIT_REACHED")},
    ]
    assert final == (LIMIT, LIMIT)
