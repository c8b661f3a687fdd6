"""Per-caller rate limits: a token bucket per API key or user, in Redis when configured.

Every gateway process shares the Redis bucket, so the limit holds across a fleet. The
in-process twin serves the embedded default with the same arithmetic. A caller that
runs out gets RATE_LIMITED with the seconds to wait until one request is allowed again.
Every verdict also says what is left, for the HTTP `RateLimit` fields
(`gateway.graphql_http`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("usage_gateway.rate_limit")
_REDIS_TIMEOUT = 0.5
_RETRY_AFTER = 1.0

# KEYS[1]: the bucket; ARGV: capacity, refill per second, now (seconds, float).
# Returns {allowed (0/1), retry_after_ms, whole tokens left, ms until full}.
_TOKEN_BUCKET = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, wait, math.floor(tokens), math.ceil((capacity - tokens) / rate * 1000)}
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_seconds: int
    """Seconds until one request is allowed (0 when this one was)."""
    remaining: int = 0
    """Whole requests left in the bucket after this one."""
    reset_seconds: int = 0
    """Seconds until the bucket is full again."""
    capacity: int = 0
    """The burst: requests a caller may make at once."""
    window_seconds: int = 0
    """Seconds an empty bucket takes to fill."""


def _verdict(
    allowed: bool, wait: float, tokens: float, capacity: int, per_second: float
) -> Verdict:
    """Seconds rounded up: a client waiting that long is never early."""
    return Verdict(
        allowed,
        math.ceil(wait),
        max(0, math.floor(tokens)),
        math.ceil((capacity - tokens) / per_second),
        capacity,
        math.ceil(capacity / per_second),
    )


class RateLimiter(Protocol):
    async def take(self, caller: str) -> Verdict: ...


def bucket_key(caller: str) -> str:
    # The caller's id as a hash tag keeps the bucket on one Redis Cluster slot.
    return f"ratelimit:{{{caller}}}"


class RedisRateLimiter:
    """Buckets in Redis; while Redis is unreachable, in this process (checked again
    after a second), so an outage of Redis never takes the gateway down with it."""

    def __init__(self, redis: Redis, capacity: int, per_second: float) -> None:
        self.redis = redis
        self.capacity = capacity
        self.per_second = per_second
        self.script = redis.register_script(_TOKEN_BUCKET)
        self.fallback = MemoryRateLimiter(capacity, per_second)
        self._down_until = 0.0

    async def take(self, caller: str) -> Verdict:
        if time.monotonic() < self._down_until:
            return await self.fallback.take(caller)
        try:
            # A timeout scope, not `wait_for`: the same bound without a task of its
            # own for every request.
            async with asyncio.timeout(_REDIS_TIMEOUT):
                allowed, wait_ms, tokens, full_ms = await self.script(
                    keys=[bucket_key(caller)],
                    args=[self.capacity, self.per_second, time.time()],
                )
        except (RedisError, OSError, TimeoutError) as error:
            if not self._down_until:
                log.warning(
                    "rate limits: Redis is unreachable (%s), counting in-process",
                    type(error).__name__,
                )
            self._down_until = time.monotonic() + _RETRY_AFTER
            return await self.fallback.take(caller)
        self._down_until = 0.0
        return Verdict(
            bool(allowed),
            math.ceil(int(wait_ms) / 1000),
            int(tokens),
            math.ceil(int(full_ms) / 1000),
            self.capacity,
            math.ceil(self.capacity / self.per_second),
        )


class MemoryRateLimiter:
    """The same token bucket, for one process (the embedded default)."""

    def __init__(self, capacity: int, per_second: float) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.buckets: dict[str, tuple[float, float]] = {}

    async def take(self, caller: str) -> Verdict:
        now = time.monotonic()
        tokens, at = self.buckets.get(caller, (float(self.capacity), now))
        tokens = min(self.capacity, tokens + max(0.0, now - at) * self.per_second)
        if tokens >= 1:
            self.buckets[caller] = (tokens - 1, now)
            return _verdict(True, 0, tokens - 1, self.capacity, self.per_second)
        self.buckets[caller] = (tokens, now)
        wait = (1 - tokens) / self.per_second
        return _verdict(False, wait, tokens, self.capacity, self.per_second)


class PerKindRateLimiter:
    """One bucket policy per caller kind: a SERVICE key checks and records before
    every metered call of its product, so its budget is its own (far above a
    person's); every other caller (users, OPERATOR and PARTNER keys, anonymous
    clients) shares the default policy, each in a bucket of its own."""

    def __init__(self, default: RateLimiter, by_kind: dict[str, RateLimiter]) -> None:
        self.default = default
        self.by_kind = by_kind

    async def take(self, caller: str) -> Verdict:
        kind, _, _ = caller.partition(":")
        return await self.by_kind.get(kind, self.default).take(caller)
