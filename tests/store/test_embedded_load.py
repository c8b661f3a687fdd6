"""The embedded default under load: a real `serve` on SQLite without Redis, 32
writers recording one event per request and 32 readers loading the Usage page at
once, for a few seconds.

Every response is an answer (no 5xx, no INTERNAL): writes wait their turn in the
process's one SQLite writer queue (`store.write_queue`) instead of holding pool
connections on SQLite's busy lock, and readers read WAL snapshots beside them. The
only error allowed is the queue's back-pressure, RATE_LIMITED (retryable), which 32
writers never fill. Every event answered ACCEPTED is in the database at the end, and
no other is.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

from rules.enums import ApiKeyKind, UsageStatus
from store.api_keys import create_api_key
from store.db import SessionFactory, StatementCounter, create_engine, session_factory
from store.decisions.events import UsageEventSpec
from store.models import UsageEvent
from store.write_queue import WriteQueue, WriteQueueFull, write_queue
from tests import factories as f
from tests.clients.live_gateway import LiveGateway, live_gateway
from tests.gateway_client import gateway, operation
from tests.live_helpers import http_execute, provision

WRITERS = 32
READERS = 32
SECONDS = float(os.environ.get("USAGE_GATEWAY_TEST_LOAD_SECONDS", "3"))
"""How long the load lasts (a few seconds keeps the suite fast)."""
BACK_PRESSURE = "RATE_LIMITED"
"""The one error code a client may get under load: the writer queue is full."""


@dataclass
class Tally:
    accepted: list[str] = field(default_factory=list)
    """Idempotency keys answered ACCEPTED."""
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    """Error codes (`extensions.code`) across every response."""
    writes: int = 0
    reads: int = 0
    samples: list[str] = field(default_factory=list)
    """A few unexpected answers, to show when the test fails."""

    def answered(self, response: httpx.Response) -> dict[str, Any] | None:
        self.statuses[response.status_code] += 1
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            self._sample(f"{response.status_code}: {response.text[:300]}")
            return None
        for error in body.get("errors") or ():
            code = (error.get("extensions") or {}).get("code", "?")
            self.codes[code] += 1
            if code != BACK_PRESSURE:
                self._sample(f"{response.status_code}: {error}")
        return body

    def _sample(self, text: str) -> None:
        if len(self.samples) < 5:
            self.samples.append(text)


async def _writer(
    client: httpx.AsyncClient, live: LiveGateway, org: str, until: float, tally: Tally
) -> None:
    document = operation("record_usage")
    headers = {"Authorization": f"Bearer {live.operator}"}
    while time.monotonic() < until:
        key = f"load-{uuid.uuid4().hex}"
        event = {"idempotencyKey": key, "organizationId": org, "meter": "email"}
        response = await client.post(
            "/graphql",
            json={
                "query": document,
                "variables": {"events": [{**event, "quantity": "1"}]},
            },
            headers=headers,
        )
        tally.writes += 1
        body = tally.answered(response)
        data = (body or {}).get("data") or {}
        for result in (data.get("recordUsage") or {}).get("results", ()):
            if result["status"] == "ACCEPTED":
                tally.accepted.append(result["idempotencyKey"])


async def _reader(
    client: httpx.AsyncClient, live: LiveGateway, org: str, until: float, tally: Tally
) -> None:
    document = operation("usage_page")
    headers = {"Authorization": f"Bearer {live.token('ada')}"}
    while time.monotonic() < until:
        response = await client.post(
            "/graphql",
            json={"query": document, "variables": {"org": org}},
            headers=headers,
        )
        tally.reads += 1
        body = tally.answered(response)
        if body is not None and not body.get("errors"):
            assert body["data"]["organization"]["id"] == org


def _recorded_keys(database_url: str, org: str) -> list[str]:
    path = make_url(database_url).database
    assert path is not None
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT idempotency_key FROM usage_events WHERE organization_id = ?",
            (org,),
        ).fetchall()
    return [key for (key,) in rows]


async def test_embedded_default_holds_32_writers_and_32_readers(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with live_gateway(sqlite_url, None, tmp_path) as live:
        org = f"load_{uuid.uuid4().hex[:8]}"
        limits = httpx.Limits(max_connections=WRITERS + READERS + 8)
        async with httpx.AsyncClient(
            base_url=live.base, timeout=120, limits=limits
        ) as client:
            await provision(
                http_execute(client, live.operator),
                org,
                limits=[{"meter": "email", "limit": "100000000"}],
                members={"ada": "ADMIN"},
            )
            tally = Tally()
            until = time.monotonic() + SECONDS
            await asyncio.gather(
                *(_writer(client, live, org, until, tally) for _ in range(WRITERS)),
                *(_reader(client, live, org, until, tally) for _ in range(READERS)),
            )
            usage = await http_execute(client, live.token("ada"))(
                operation("meters"), {"org": org, "keys": ["email"]}
            )

    print(
        f"{tally.writes} writes, {tally.reads} reads in {SECONDS} s;"
        f" statuses {dict(tally.statuses)}, error codes {dict(tally.codes)}"
    )
    assert tally.writes >= WRITERS
    assert tally.reads >= READERS
    assert not [status for status in tally.statuses if status >= 500], tally.samples
    assert set(tally.codes) <= {BACK_PRESSURE}, tally.samples
    assert tally.accepted, "no write was accepted"
    recorded = _recorded_keys(sqlite_url, org)
    assert len(recorded) == len(set(recorded))
    assert sorted(recorded) == sorted(tally.accepted)
    [email] = usage["data"]["organization"]["meters"]
    assert Decimal(email["used"]) == len(tally.accepted), email


# the queue itself ---------------------------------------------------------------------


def _spec(key: str, occurred_at: datetime | None = None) -> UsageEventSpec:
    return UsageEventSpec(
        idempotency_key=key,
        organization_id="org_a",
        meter="email",
        quantity=Decimal(1),
        occurred_at=occurred_at,
    )


async def _stored(sessions: SessionFactory) -> dict[str, datetime]:
    async with sessions() as session:
        rows = await session.execute(
            select(UsageEvent.idempotency_key, UsageEvent.occurred_at)
        )
        return {key: at.replace(tzinfo=UTC) for key, at in rows}


async def test_calls_waiting_together_are_recorded_together_each_with_its_outcomes(
    sqlite_url: str,
) -> None:
    engine = create_engine(sqlite_url)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            await f.add_all(session, f.organization("org_a"))
        queue = write_queue(sessions)
        assert queue is not None
        assert write_queue(sessions) is queue  # one per engine
        start = datetime.now(UTC) - timedelta(hours=1)
        calls = [
            # Each call's second event has no time: it happened at the call's now.
            [_spec(f"c{n}-0", start), _spec(f"c{n}-1")]
            for n in range(5)
        ]
        calls.append([_spec("c0-0", start), _spec("late", start)])  # a duplicate
        nows = [start + timedelta(minutes=n) for n in range(len(calls))]
        with StatementCounter(engine) as together:
            answers = await asyncio.gather(
                *(
                    queue.record_usage(sessions, events, now, None)
                    for events, now in zip(calls, nows, strict=True)
                )
            )
        with StatementCounter(engine) as alone:
            await queue.record_usage(sessions, [_spec("alone")], start, None)
        stored = await _stored(sessions)
    finally:
        await engine.dispose()

    for events, outcomes in zip(calls[:5], answers[:5], strict=True):
        assert [(o.index, o.idempotency_key, o.status) for o in outcomes] == [
            (0, events[0].idempotency_key, UsageStatus.ACCEPTED),
            (1, events[1].idempotency_key, UsageStatus.ACCEPTED),
        ]
    assert [(o.index, o.status) for o in answers[5]] == [
        (0, UsageStatus.DUPLICATE),
        (1, UsageStatus.ACCEPTED),
    ]
    for n in range(5):
        assert stored[f"c{n}-1"] == nows[n]
    assert len(stored) == 12
    # Six calls, one transaction: not six times one call's statements.
    assert together.count < 2 * alone.count


async def test_a_full_queue_refuses_before_deciding_anything(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            await f.add_all(session, f.organization("org_a"))
        queue = WriteQueue(limit=2)
        now = datetime.now(UTC)
        answers = await asyncio.gather(
            *(
                queue.record_usage(sessions, [_spec(f"k{n}")], now, None)
                for n in range(6)
            ),
            return_exceptions=True,
        )
        stored = await _stored(sessions)
    finally:
        await engine.dispose()

    recorded = [a for a in answers if not isinstance(a, BaseException)]
    refused = [a for a in answers if isinstance(a, BaseException)]
    assert len(recorded) == 2
    assert all(isinstance(error, WriteQueueFull) for error in refused), refused
    assert len(refused) == 4
    assert sorted(stored) == sorted(o.idempotency_key for [o] in recorded)


async def test_a_full_queue_answers_rate_limited_over_http(sqlite_url: str) -> None:
    async with gateway(sqlite_url) as api:
        assert api.app is not None
        sessions = api.app.state.sessions
        async with sessions() as session:
            await f.add_all(session, f.organization("org_a"))
        async with sessions() as session:
            _, secret = await create_api_key(
                session, ApiKeyKind.OPERATOR, "ops", (), datetime.now(UTC)
            )
            await session.commit()
        queue = write_queue(sessions)
        assert queue is not None
        queue.limit = 0  # every call finds it full
        event = {"idempotencyKey": "k", "organizationId": "org_a", "meter": "email"}
        body = await api.execute(
            operation("record_usage"),
            {"events": [{**event, "quantity": "1"}]},
            token=secret,
        )
        stored = await _stored(sessions)

    [error] = body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 1}
    assert "retry" in error["message"]
    assert stored == {}
