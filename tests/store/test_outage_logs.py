"""A Redis outage is one line when lost and one when back, however many ticks or
writes fail meanwhile (an on-call engineer reads state changes, not retries)."""

from __future__ import annotations

import logging

import pytest
from redis.asyncio import Redis

from store.generations import Generations
from store.live import LiveUnavailable, RedisHub, Tick
from store.state_log import StateLog
from tests.conftest import RedisServer

TICK = Tick("org_a", "sms", (1, 0, 0), {"used": "1"})


def _lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_a_state_log_says_lost_once_and_back_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = StateLog(logging.getLogger("usage_gateway.test"), "thing")
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            state.lost(ConnectionError("refused"))
        state.back()
        state.back()

    assert _lines(caplog, "thing") == [
        "thing: lost (ConnectionError: refused); retrying quietly until it is back",
        "thing: back",
    ]


async def test_publishing_ticks_to_a_lost_redis_logs_one_line(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    redis = Redis.from_url(redis_server.url, socket_timeout=0.5)
    hub = RedisHub(redis)
    try:
        await hub.publish([TICK])
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="usage_gateway.live"):
            for _ in range(4):
                hub._resting_until = 0.0  # every publish tries Redis again
                with pytest.raises(LiveUnavailable):
                    await hub.publish([TICK])
            redis_server.start()
            hub._resting_until = 0.0
            await hub.publish([TICK])
    finally:
        await hub.close()
        await redis.aclose()

    assert len(_lines(caplog, "(publishing ticks): lost")) == 1
    assert _lines(caplog, "publishing ticks")[-1].endswith(": back")


async def test_generations_missed_during_an_outage_log_one_line(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    redis = Redis.from_url(redis_server.url, socket_timeout=0.5)
    generations = Generations(redis)
    try:
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="usage_gateway.generations"):
            moved = [await generations.move(["org_a"]) for _ in range(5)]
            redis_server.start()
            moved.append(await generations.move(["org_a"]))
    finally:
        await redis.aclose()

    assert moved == [False] * 5 + [True]
    assert len(_lines(caplog, "write generations in Redis: lost")) == 1
    assert len(_lines(caplog, "write generations in Redis: back")) == 1
