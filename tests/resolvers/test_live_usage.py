"""usageUpdated: live ticks over graphql-transport-ws, across real gateway processes.

Every test provisions through GraphQL mutations with an operator key and records with
`recordUsage`; subscribers read `usage_live.graphql` (or a wider selection, to show
what is redacted). Organization ids are unique per test: Redis is shared.

A subscriber is live once its subscription reached the hub, which the protocol does
not acknowledge; `until_live` records probe events on another meter (`api_calls`)
until every subscriber has seen one, and the assertions then look at one meter only.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from resolvers.context import Context
from resolvers.websocket import authenticate
from rules.enums import ApiKeyKind
from schema import schema
from store.api_keys import create_api_key
from store.db import SessionFactory
from store.live import LocalHub, Tick
from tests.gateway_client import JWT_SECRET, gateway, operation, user_token
from tests.live_helpers import (
    LIVENESS_SECONDS,
    PROBE,
    Execute,
    events,
    gateway_env,
    http_execute,
    operator_key,
    provision,
    record,
    serving,
)

LIVE = operation("usage_live")
EVERY_AMOUNT = """
subscription Everything($org: ID!) {
  usageUpdated(organizationId: $org) {
    at meter used limit percent level
    credits { unit granted spent remaining avgPerDay runOutInDays progress prompts }
  }
}
"""


def text_message(raw: str | bytes) -> dict[str, Any]:
    """A graphql-transport-ws message, which is JSON in a text frame: graphql-ws
    (Node) fails a binary one with 4004 and a browser receives it as a Blob."""
    assert isinstance(raw, str), f"a binary frame: {raw!r}"
    message: dict[str, Any] = json.loads(raw)
    return message


async def refusal(base: str, token: str) -> tuple[int | None, str | None]:
    """The close code and reason a connection_init with `token` gets."""
    url = base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": token}}
        await ws.send(json.dumps(init))
        try:
            message = await asyncio.wait_for(ws.recv(), 30)
        except ConnectionClosed:
            pass
        else:
            pytest.fail(f"acknowledged: {message!r}")
        return (
            None if ws.close_code is None else int(ws.close_code),
            ws.close_reason,
        )


class LiveClient:
    """A graphql-transport-ws client that keeps every message it receives."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.received: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, base: str, token: str | None, origin: str | None = None
    ) -> AsyncIterator[LiveClient]:
        url = base.replace("http://", "ws://") + "/graphql"
        async with connect(
            url,
            subprotocols=[Subprotocol("graphql-transport-ws")],
            origin=None if origin is None else Origin(origin),
        ) as websocket:
            payload = {"Authorization": f"Bearer {token}"} if token else {}
            await websocket.send(
                json.dumps({"type": "connection_init", "payload": payload})
            )
            ack = text_message(await asyncio.wait_for(websocket.recv(), 30))
            assert ack["type"] == "connection_ack", ack
            client = cls(websocket)
            try:
                yield client
            finally:
                client._reader.cancel()

    async def _read(self) -> None:
        async for raw in self.websocket:
            self.received.append(text_message(raw))
            self._arrived.set()

    async def subscribe(
        self, org: str, document: str = LIVE, operation_id: str = "1"
    ) -> None:
        await self.websocket.send(
            json.dumps(
                {
                    "id": operation_id,
                    "type": "subscribe",
                    "payload": {"query": document, "variables": {"org": org}},
                }
            )
        )

    def ticks(self, meter: str, operation_id: str = "1") -> list[dict[str, Any]]:
        return [
            message["payload"]["data"]["usageUpdated"]
            for message in self.of(operation_id)
            if message["type"] == "next"
            and message["payload"]["data"]["usageUpdated"]["meter"] == meter
        ]

    def has_ticks(self, meter: str, count: int) -> Callable[[], bool]:
        return lambda: len(self.ticks(meter)) >= count

    def of(self, operation_id: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("id") == operation_id]

    async def until(self, check: Callable[[], bool]) -> None:
        """Liveness guard only: waits for what must come, fails if it never does."""
        try:
            async with asyncio.timeout(LIVENESS_SECONDS):
                while not check():
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            pytest.fail(f"never happened; received: {self.received}")


async def until_live(
    execute: Execute, org: str, clients: list[LiveClient], operation_id: str = "1"
) -> None:
    for _ in range(200):
        await record(execute, events(org, PROBE, "1"))
        await asyncio.sleep(0.05)
        if all(client.ticks(PROBE, operation_id) for client in clients):
            return
    pytest.fail("the subscriptions never went live")


# ------------------------------------------------------------ two processes


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_subscriber_on_one_process_sees_in_order_what_another_records(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = gateway_env(postgres_url, redis_url)
    key = operator_key(env)
    org, other = f"byom_{uuid.uuid4().hex[:10]}", f"other_{uuid.uuid4().hex[:10]}"
    async with (
        serving(env, tmp_path / "a.log") as base_a,
        serving(env, tmp_path / "b.log") as base_b,
        httpx.AsyncClient(base_url=base_b, timeout=60) as client_b,
    ):
        on_b = http_execute(client_b, key)
        await provision(
            on_b,
            org,
            billing_model="USD",
            limits=[
                {"meter": "ai_tokens", "limit": "10000"},
                {"meter": "ai_spend_usd", "limit": "20"},
            ],
            members={"ada": "ADMIN", "max": "MEMBER"},
        )
        await provision(on_b, other, limits=[], members={"olga": "ADMIN"})
        async with (
            LiveClient.connect(base_a, user_token("ada")) as admin,
            LiveClient.connect(base_a, user_token("max")) as member,
        ):
            await admin.subscribe(org)
            await admin.subscribe(other, operation_id="2")
            await member.subscribe(org, EVERY_AMOUNT)
            await until_live(on_b, org, [admin, member])

            calls = [
                events(org, "ai_tokens", quantity, costUsd=cost)
                for quantity, cost in (("1000", "1.5"), ("4000", "2.5"), ("4000", "4"))
            ]
            calls += [
                events(org, "ai_tokens", *["10"] * 50),
                events(org, "ai_tokens", "100"),
            ]
            for number, call in enumerate(calls, start=1):
                await record(on_b, call)
                # Each tick read before the next call: a reader that lags would get
                # the latest state only (by design), which is not what this checks.
                for subscriber in (admin, member):
                    await subscriber.until(subscriber.has_ticks("ai_tokens", number))

    expected = [
        ("1000", 10.0, "NORMAL", "1.5", "18.5", 0.075),
        ("5000", 50.0, "NORMAL", "4", "16", 0.2),
        ("9000", 90.0, "CRITICAL", "8", "12", 0.4),
        ("9500", 95.0, "CRITICAL", "8", "12", 0.4),  # 50 events, one tick
        ("9600", 96.0, "CRITICAL", "8", "12", 0.4),
    ]
    assert [
        (
            tick["used"],
            tick["limit"],
            tick["percent"],
            tick["level"],
            tick["credits"],
        )
        for tick in admin.ticks("ai_tokens")
    ] == [
        (
            used,
            "10000",
            percent,
            level,
            {
                "unit": "USD",
                "spent": spent,
                "remaining": remaining,
                "progress": progress,
                "prompts": [],
            },
        )
        for used, percent, level, spent, remaining, progress in expected
    ]
    assert [
        (tick["used"], tick["percent"], tick["credits"]["progress"])
        for tick in member.ticks("ai_tokens")
    ] == [(used, percent, progress) for used, percent, _, _, _, progress in expected]
    # The member never receives a dollar amount, in any tick.
    member_credits = [
        message["payload"]["data"]["usageUpdated"]["credits"]
        for message in member.of("1")
    ]
    assert member_credits
    for credits in member_credits:
        assert credits["unit"] == "USD"
        assert [credits[field] for field in ("granted", "spent", "remaining")] == [
            None,
            None,
            None,
        ]
        assert credits["avgPerDay"] is None
    # The organization the admin has no relation to: refused, nothing streamed.
    refusal = admin.of("2")
    assert [message["type"] for message in refusal] == ["error"]
    assert [error["extensions"]["code"] for error in refusal[0]["payload"]] == [
        "NOT_FOUND"
    ]


# --------------------------------------------------------------- embedded default


async def test_the_embedded_default_fans_out_inside_one_process(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = gateway_env(sqlite_url, None)
    key = operator_key(env)
    org = f"credits_{uuid.uuid4().hex[:10]}"
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
            members={"ada": "ADMIN", "max": "MEMBER"},
        )
        async with (
            LiveClient.connect(base, user_token("ada")) as admin,
            # The editor's webview has an origin of its own.
            LiveClient.connect(
                base, user_token("max"), origin="vscode-webview://usage-bar"
            ) as member,
            LiveClient.connect(base, None) as anonymous,
        ):
            await admin.subscribe(org)
            await member.subscribe(org)
            await anonymous.subscribe(org)
            await until_live(execute, org, [admin, member])

            for number, call in enumerate(
                [events(org, "email", "10"), events(org, "email", "5", "80")], start=1
            ):
                await record(execute, call)
                for subscriber in (admin, member):
                    await subscriber.until(subscriber.has_ticks("email", number))
            await anonymous.until(lambda: bool(anonymous.of("1")))
            # Bad credentials: the protocol's refusal, before any subscription.
            refused = [
                await refusal(base, token)
                for token in ("Bearer not-a-token", f"Bearer {user_token('ada')}x")
            ]

    for subscriber in (admin, member):
        # Credits are not dollars: members see them too.
        assert [
            (tick["used"], tick["percent"], tick["level"], tick["credits"])
            for tick in subscriber.ticks("email")
        ] == [
            (
                "10",
                10.0,
                "NORMAL",
                {
                    "unit": "CREDITS",
                    "spent": "20",
                    "remaining": "980",
                    "progress": 0.02,
                    "prompts": [],
                },
            ),
            (
                "95",
                95.0,
                "CRITICAL",
                {
                    "unit": "CREDITS",
                    "spent": "190",
                    "remaining": "810",
                    "progress": 0.19,
                    "prompts": [],
                },
            ),
        ]
    assert [message["type"] for message in anonymous.of("1")] == ["error"]
    assert anonymous.of("1")[0]["payload"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )
    assert refused == [(4403, "Forbidden"), (4403, "Forbidden")]


# ------------------------------------------------------------------- in process


async def _operator(sessions: SessionFactory) -> str:
    async with sessions() as session:
        _, secret = await create_api_key(
            session, ApiKeyKind.OPERATOR, "ops", (), datetime.now(UTC)
        )
        await session.commit()
    return secret


@asynccontextmanager
async def in_process(database_url: str) -> AsyncIterator[tuple[Starlette, Execute]]:
    async with gateway(database_url) as api:
        assert api.app is not None
        key = await _operator(api.app.state.sessions)

        async def execute(
            document: str, variables: dict[str, Any], name: str | None = None
        ) -> dict[str, Any]:
            body = await api.execute(
                document, variables, token=key, operation_name=name
            )
            assert "errors" not in body, body["errors"]
            return body

        yield api.app, execute


@asynccontextmanager
async def subscription(
    app: Starlette,
    token: str,
    org: str,
    document: str = LIVE,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[AsyncGenerator[Any, None]]:
    """usageUpdated straight through the schema, with a websocket's context."""
    context = Context(
        request=None,
        response=None,
        sessions=app.state.sessions,
        jwt_secret=JWT_SECRET,
        now=datetime.now(UTC),
        identity=None,
        live=app.state.live,
        clock=clock,
        connection_params={"Authorization": f"Bearer {token}"},
    )
    await authenticate(context)
    stream = await schema.subscribe(
        document, variable_values={"org": org}, context_value=context
    )
    try:
        yield stream
    finally:
        await stream.aclose()


async def _first(
    app: Starlette, org: str, stream: AsyncGenerator[Any, None], subscribers: int = 1
) -> Any:
    """Starts the subscription; returns the pending read of its first result."""
    reading = asyncio.ensure_future(anext(stream))
    for _ in range(500):
        if app.state.live.subscribers(org) >= subscribers or reading.done():
            return reading
        await asyncio.sleep(0.01)
    pytest.fail("the subscription never reached the hub")


def _tick(result: Any) -> dict[str, Any]:
    assert result.errors is None, result.errors
    data: dict[str, Any] = result.data["usageUpdated"]
    return data


async def test_a_stalled_subscriber_slows_nothing_and_then_reads_the_latest_state(
    sqlite_url: str,
) -> None:
    org = f"org_{uuid.uuid4().hex[:10]}"
    async with in_process(sqlite_url) as (app, execute):
        await provision(
            execute,
            org,
            limits=[{"meter": "ai_tokens", "limit": "1000"}],
            members={"ada": "ADMIN"},
        )
        async with subscription(app, user_token("ada"), org) as stream:
            first = await _first(app, org, stream)
            await record(execute, events(org, "ai_tokens", "1"))
            assert _tick(await asyncio.wait_for(first, 30))["used"] == "1"

            # The subscriber stops reading; recording goes on regardless (were a
            # publisher waiting on it, these calls would never return).
            async def record_many() -> None:
                for _ in range(40):
                    await record(execute, events(org, "ai_tokens", "2"))
                await record(execute, events(org, "api_calls", "7"))

            await asyncio.wait_for(record_many(), 120)

            # Reading again: the latest state of each meter, nothing in between.
            latest = [_tick(await asyncio.wait_for(anext(stream), 30)) for _ in "ab"]
            assert [(tick["meter"], tick["used"]) for tick in latest] == [
                ("ai_tokens", "81"),
                ("api_calls", "7"),
            ]
            await record(execute, events(org, "ai_tokens", "1"))
            following = _tick(await asyncio.wait_for(anext(stream), 30))
            assert (following["meter"], following["used"]) == ("ai_tokens", "82")


async def test_a_meter_counting_dollars_is_redacted_for_members(
    sqlite_url: str,
) -> None:
    org = f"org_{uuid.uuid4().hex[:10]}"
    async with in_process(sqlite_url) as (app, execute):
        await provision(
            execute,
            org,
            limits=[{"meter": "ai_spend_usd", "limit": "50"}],
            members={"ada": "ADMIN", "max": "MEMBER"},
        )
        async with (
            subscription(app, user_token("ada"), org) as admin,
            subscription(app, user_token("max"), org) as member,
        ):
            admin_first = await _first(app, org, admin)
            member_first = await _first(app, org, member, subscribers=2)
            await record(execute, events(org, "ai_spend_usd", "5"))

            seen_by_admin = _tick(await asyncio.wait_for(admin_first, 30))
            seen_by_member = _tick(await asyncio.wait_for(member_first, 30))
    assert (seen_by_admin["used"], seen_by_admin["limit"]) == ("5", "50")
    assert (seen_by_member["used"], seen_by_member["limit"]) == (None, None)
    assert seen_by_member["percent"] == seen_by_admin["percent"] == 10.0


@pytest.mark.parametrize(
    ("kind", "code"),
    [(ApiKeyKind.PARTNER, "FORBIDDEN"), (ApiKeyKind.SERVICE, None)],
)
async def test_keys_follow_their_organization_as_they_read_it(
    sqlite_url: str, kind: ApiKeyKind, code: str | None
) -> None:
    org = f"org_{uuid.uuid4().hex[:10]}"
    async with in_process(sqlite_url) as (app, execute):
        await provision(execute, org, limits=[])
        async with app.state.sessions() as session:
            _, secret = await create_api_key(
                session, kind, "key", (org,), datetime.now(UTC)
            )
            await session.commit()
        async with subscription(app, secret, org) as stream:
            reading = await _first(app, org, stream)
            if code is None:
                await record(execute, events(org, "ai_tokens", "3"))
            result = await asyncio.wait_for(reading, 30)
    if code is None:
        assert _tick(result)["used"] == "3"
    else:
        assert [error.extensions["code"] for error in result.errors] == [code]


async def test_access_is_checked_again_while_the_stream_lives(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("resolvers.live.ACCESS_RECHECK_SECONDS", 0.0)
    org = f"org_{uuid.uuid4().hex[:10]}"
    token_expires = datetime.now(UTC) + timedelta(minutes=5)
    instant = [datetime.now(UTC)]
    async with in_process(sqlite_url) as (app, execute):
        await provision(
            execute,
            org,
            billing_model="USD",
            limits=[{"meter": "ai_spend_usd", "limit": "50"}],
            members={"max": "MEMBER"},
        )
        token = user_token("max", expires_in=token_expires - datetime.now(UTC))
        async with subscription(
            app, token, org, EVERY_AMOUNT, clock=lambda: instant[0]
        ) as stream:
            first = await _first(app, org, stream)
            await record(execute, events(org, "ai_tokens", "1", costUsd="2"))
            assert _tick(await asyncio.wait_for(first, 30))["credits"]["spent"] is None

            # Promoted to ADMIN: dollar amounts from the next tick on.
            promotion = {
                "organizationId": org,
                "userId": "max",
                "email": "max@example.com",
                "name": "max",
                "role": "ADMIN",
            }
            await execute(
                operation("provisioning"), {"input": promotion}, "UpsertMember"
            )
            await record(execute, events(org, "ai_tokens", "1", costUsd="3"))
            promoted = _tick(await asyncio.wait_for(anext(stream), 30))
            assert promoted["credits"]["spent"] == "5"

            # The token expires: the stream ends with UNAUTHENTICATED, no more data.
            instant[0] = token_expires + timedelta(seconds=1)
            await record(execute, events(org, "ai_tokens", "1", costUsd="4"))
            ended = await asyncio.wait_for(anext(stream), 30)
            assert ended.data is None
            assert [error.extensions["code"] for error in ended.errors] == [
                "UNAUTHENTICATED"
            ]


async def test_errors_over_the_websocket_carry_their_code(sqlite_url: str) -> None:
    org = f"org_{uuid.uuid4().hex[:10]}"
    async with in_process(sqlite_url) as (app, execute):
        await provision(execute, org, limits=[], members={"ada": "ADMIN"})
        invalid = (
            "subscription ($org: ID!) { usageUpdated(organizationId: $org) { nope } }"
        )
        async with subscription(app, user_token("ada"), org, invalid) as stream:
            result = await asyncio.wait_for(anext(stream), 30)

    assert result.data is None
    assert [error.extensions["code"] for error in result.errors] == ["BAD_USER_INPUT"]


async def test_one_tick_per_meter_and_call_with_its_final_state_in_accepted_order(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reader may coalesce ticks; count what the publisher sends instead.
    published: list[tuple[str, Decimal]] = []
    publish = LocalHub.publish

    async def counting(hub: LocalHub, ticks: Sequence[Tick]) -> None:
        published.extend((tick.meter, Decimal(tick.state["used"])) for tick in ticks)
        await publish(hub, ticks)

    monkeypatch.setattr(LocalHub, "publish", counting)
    org = f"org_{uuid.uuid4().hex[:10]}"
    async with in_process(sqlite_url) as (app, execute):
        await provision(
            execute,
            org,
            limits=[{"meter": "email", "limit": "5"}],
            members={"ada": "ADMIN"},
        )
        async with subscription(app, user_token("ada"), org) as stream:
            first = await _first(app, org, stream)
            await record(execute, events(org, "ai_tokens", *["1"] * 1000))
            thousand = _tick(await asyncio.wait_for(first, 30))

            # Denied only: nothing to publish.
            denied = events(org, "email", "6")
            body = await execute(operation("record_usage"), {"events": denied})
            assert body["data"]["recordUsage"]["denied"] == 1
            await record(
                execute,
                events(org, "api_calls", "1")
                + events(org, "ai_tokens", "5")
                + events(org, "api_calls", "2"),
            )
            after = [_tick(await asyncio.wait_for(anext(stream), 30)) for _ in "ab"]

    assert published == [
        ("ai_tokens", Decimal(1000)),
        ("ai_tokens", Decimal(1005)),  # api_calls was accepted last in this call
        ("api_calls", Decimal(3)),
    ]
    seen = [(tick["meter"], Decimal(tick["used"])) for tick in [thousand, *after]]
    assert seen == published
