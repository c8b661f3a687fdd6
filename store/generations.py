"""Write generations: how cached answers learn that the data under them changed.

Two kinds of counters in Redis, moved after a write commits and before its reply:
- one per organization (`ug:{org}:generation`), moved by `recordUsage` for every
  organization it accepted events for: usage changes often, and only its own
  organization's answers depend on it;
- one for everything else (`ug:generation`), moved by every other write
  (provisioning, seats, allocations, keys, allowance snapshots): rare writes whose
  reach (a plan, a meter, a member in several organizations) is not worth tracing.

A reader takes the generations *before* it reads anything they cover; an answer is
still current while they have not moved. Keys carry the organization as a hash tag
like the counters; reads and moves are pipelined, so a Redis Cluster client can
split them by slot.

Redis unreachable: `read` says None (nothing may be trusted as current) and `move`
logs and gives up; an answer that cached data would hide is bounded by the
cache's own maximum age.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from store.state_log import StateLog

log = logging.getLogger("usage_gateway.generations")

EVERYTHING_KEY = "ug:generation"


def organization_key(organization_id: str) -> str:
    return f"ug:{{{organization_id}}}:generation"


Stamp = tuple[int, ...]
"""The global generation, then each named organization's, in the order named."""


class Generations:
    """The write generations in one Redis."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._moving = StateLog(log, "write generations in Redis")

    async def read(self, organization_ids: Sequence[str]) -> Stamp | None:
        """The generations now, or None when Redis cannot say."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(EVERYTHING_KEY)
                for organization_id in organization_ids:
                    pipe.get(organization_key(organization_id))
                found = await pipe.execute()
        except (RedisError, OSError):
            return None
        return tuple(int(value or 0) for value in found)

    async def move(self, organization_ids: Collection[str]) -> bool:
        """These organizations' usage changed (committed). False: Redis missed it."""
        if not organization_ids:
            return True
        return await self._incr([organization_key(o) for o in sorted(organization_ids)])

    async def move_everything(self) -> bool:
        """Something other than usage changed (committed)."""
        return await self._incr([EVERYTHING_KEY])

    async def _incr(self, keys: list[str]) -> bool:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.incr(key)
                await pipe.execute()
        except (RedisError, OSError) as error:
            # Callers fall back (this process forgets its cached answers); one
            # line per outage, not one per write.
            self._moving.lost(error)
            return False
        self._moving.back()
        return True
