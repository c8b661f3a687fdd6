"""The live hub: bounded coalescing inboxes, in-process and Redis fan-out."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from store.db import SessionFactory, snapshot
from store.live import (
    Inbox,
    LiveUnavailable,
    LocalHub,
    RedisHub,
    Tick,
    channel,
    snapshot_position,
)
from tests import factories


def tick(meter: str, event_id: int, used: str, org: str = "org_a") -> Tick:
    return Tick(org, meter, (event_id, 0, event_id), {"used": used})


async def take_all(inbox: Inbox) -> list[tuple[str, object]]:
    taken = []
    while len(inbox):
        got = await inbox.get()
        taken.append((got.meter, got.state["used"]))
    return taken


async def test_an_inbox_keeps_the_latest_tick_per_meter_in_the_order_of_the_last() -> (
    None
):
    inbox = Inbox()

    for event_id, (meter, used) in enumerate(
        [("ai_tokens", "1"), ("api_calls", "1"), ("ai_tokens", "2"), ("email", "1")]
    ):
        inbox.put(tick(meter, event_id + 1, used))

    assert await take_all(inbox) == [
        ("api_calls", "1"),
        ("ai_tokens", "2"),
        ("email", "1"),
    ]


async def test_an_inbox_drops_a_tick_older_than_one_it_took_for_the_meter() -> None:
    inbox = Inbox()
    inbox.put(tick("ai_tokens", 7, "70"))
    assert await take_all(inbox) == [("ai_tokens", "70")]

    inbox.put(tick("ai_tokens", 5, "50"))  # read from an older snapshot, arrived late
    inbox.put(tick("api_calls", 5, "1"))  # other meters are not affected

    assert await take_all(inbox) == [("api_calls", "1")]


async def test_an_inbox_holds_at_most_its_capacity_of_meters() -> None:
    inbox = Inbox(capacity=3)

    for number in range(10):
        inbox.put(tick(f"meter_{number}", number + 1, "1"))

    assert [meter for meter, _ in await take_all(inbox)] == [
        "meter_7",
        "meter_8",
        "meter_9",
    ]


async def test_a_reader_waits_for_the_next_tick() -> None:
    inbox = Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()

    inbox.put(tick("ai_tokens", 1, "1"))

    assert (await reader).state == {"used": "1"}


def test_a_tick_survives_its_encoding() -> None:
    sent = Tick("org_a", "ai_tokens", (12, -1, 1_700_000_000_000_000), {"used": "1"})

    assert Tick.decode(sent.encode()) == sent
    with pytest.raises(ValueError, match="not a live tick"):
        Tick.decode(b'{"meter": "x"}')


def test_the_channel_carries_the_organization_as_a_hash_tag() -> None:
    assert channel("org_a") == "usage-gateway:live:{org_a}"


async def test_in_process_fan_out_reaches_every_subscriber_of_the_organization() -> (
    None
):
    hub = LocalHub()
    assert not await hub.listening("org_a")

    async with (
        hub.subscribe("org_a") as first,
        hub.subscribe("org_a") as second,
        hub.subscribe("org_b") as other,
    ):
        assert await hub.listening("org_a")
        await hub.publish([tick("ai_tokens", 1, "5")])

        assert await take_all(first) == [("ai_tokens", "5")]
        assert await take_all(second) == [("ai_tokens", "5")]
        assert len(other) == 0
    assert not await hub.listening("org_a")
    assert hub.subscribers("org_a") == 0


async def test_publishing_never_waits_for_a_subscriber_that_does_not_read() -> None:
    hub = LocalHub()
    async with hub.subscribe("org_a") as stalled:
        for number in range(1, 1001):
            await hub.publish([tick("ai_tokens", number, str(number))])

        assert len(stalled) == 1
        assert await take_all(stalled) == [("ai_tokens", "1000")]


@pytest.mark.redis
async def test_redis_fan_out_crosses_hubs_and_stops_when_nobody_listens(
    redis_url: str,
) -> None:
    org = f"org_{uuid.uuid4().hex[:10]}"
    publisher_redis = Redis.from_url(redis_url)
    subscriber_redis = Redis.from_url(redis_url)
    publisher, subscriber = RedisHub(publisher_redis), RedisHub(subscriber_redis)
    try:
        assert not await publisher.listening(org)
        async with subscriber.subscribe(org) as inbox:
            assert await publisher.listening(org)

            await publisher.publish(
                [tick("ai_tokens", 1, "1", org), tick("api_calls", 1, "3", org)]
            )
            first = await asyncio.wait_for(inbox.get(), timeout=10)
            second = await asyncio.wait_for(inbox.get(), timeout=10)

            assert [(first.meter, first.state), (second.meter, second.state)] == [
                ("ai_tokens", {"used": "1"}),
                ("api_calls", {"used": "3"}),
            ]
        await _until(lambda: publisher.listening(org), False)
    finally:
        await publisher.close()
        await subscriber.close()
        await publisher_redis.aclose()
        await subscriber_redis.aclose()


async def _until(check: Callable[[], Awaitable[bool]], expected: bool) -> None:
    for _ in range(200):
        if await check() == expected:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"never became {expected!r}")


async def _position(sessions: SessionFactory) -> tuple[int, int]:
    async with snapshot(sessions) as reading, reading() as session:
        return await snapshot_position(session)


async def test_a_snapshot_taken_after_a_commit_stands_higher(
    sessions: SessionFactory,
) -> None:
    before = await _position(sessions)
    async with sessions() as writer:
        writer.add(factories.organization("org_live"))
        await writer.flush()
        writer.add(factories.event("org_live", "api_calls", "1", factories.EPOCH))
        await writer.flush()
        while_writing = await _position(sessions)
        await writer.commit()
    after = await _position(sessions)

    assert before <= while_writing < after


async def test_a_publisher_does_not_keep_waiting_on_a_redis_that_is_down() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    redis = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    hub = RedisHub(redis)
    try:
        # The outage is logged once and surfaces as the hub's own error.
        with pytest.raises(LiveUnavailable):
            await hub.listening("org_a")
        # Resting now: ticks are skipped without asking Redis again.
        assert await hub.listening("org_a") is False
        await hub.publish([])
    finally:
        await hub.close()
        await redis.aclose()
