"""Live usage ticks: published once, fanned out to every subscriber, never awaited.

A tick is one meter's new state in one organization, published after the events that
changed it are committed. Two hubs share one interface:
- `LocalHub` (no Redis configured, the embedded default): fan-out inside the process.
- `RedisHub`: every tick goes through Redis pub/sub on its organization's channel
  (`usage-gateway:live:{<organization id>}`, the id as the hash tag so that in a
  cluster an organization's channel lives on one slot), so a subscriber on any
  gateway process sees usage recorded through any other. Each process keeps one
  pub/sub connection, subscribed to the channels its own subscribers need.

Slow consumers: every subscriber reads from its own `Inbox`, which keeps at most the
latest tick per meter. Publishing only puts into inboxes (no await), so a subscriber
that stops reading holds one tick per meter and slows nothing else.

Order: a tick carries a `version`, the position of the database snapshot its state
was read from, then the instant it was evaluated at. An inbox drops a tick older than
one it already took for the meter, so two writers whose ticks cross on the way (both
publish after their commit, in whatever order they get there) never move a meter
backwards.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import UsageEvent
from store.state_log import StateLog

log = logging.getLogger("usage_gateway.live")


class LiveUnavailable(Exception):
    """Ticks could not be published (Redis unreachable); already logged once per
    outage, so callers need not log it again."""


Version = tuple[int, int, int]
"""(snapshot position, twice, then the instant evaluated at in microseconds)."""

INBOX_CAPACITY = 1024
"""Distinct meters one subscriber may have pending; the catalog is far smaller."""

REDIS_TIMEOUT_SECONDS = 1.0
"""Longest a publisher waits on Redis; recordUsage must not hang on it."""

REDIS_REST_SECONDS = 5.0
"""After Redis failed a publisher, ticks are skipped this long (nobody waits)."""

_RETRY_SECONDS = 1.0


def channel(organization_id: str) -> str:
    return f"usage-gateway:live:{{{organization_id}}}"


async def snapshot_position(session: AsyncSession) -> tuple[int, int]:
    """Where the session's snapshot stands: a snapshot taken later never compares
    lower, and two at the same position see the same committed data.

    PostgreSQL (run it first in a REPEATABLE READ transaction, so that it reads the
    transaction's snapshot): its xmax, then minus the number of transactions it sees
    in progress; xmax only grows, and while it stands still that set only shrinks.
    SQLite, which has one writer at a time and so numbers events in commit order: the
    last event id.
    """
    if session.get_bind().dialect.name == "postgresql":
        xmax, in_progress = (await session.execute(_PG_POSITION)).one()
        return int(xmax), -int(in_progress)
    last = await session.scalar(select(func.max(UsageEvent.id)))
    return int(last or 0), 0


_PG_POSITION = text(
    "SELECT pg_snapshot_xmax(s)::text::bigint,"
    " (SELECT count(*) FROM pg_snapshot_xip(s))"
    " FROM pg_current_snapshot() AS s"
)


@dataclass(frozen=True)
class Tick:
    organization_id: str
    meter: str
    version: Version
    state: Mapping[str, Any]
    """JSON-ready; what it holds is the publisher's business."""

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "organization": self.organization_id,
                "meter": self.meter,
                "version": self.version,
                "state": self.state,
            }
        )

    @classmethod
    def decode(cls, data: bytes | str) -> Tick:
        """Raises ValueError for anything that is not an encoded tick."""
        try:
            message = orjson.loads(data)
            major, minor, instant = message["version"]
            return cls(
                str(message["organization"]),
                str(message["meter"]),
                (int(major), int(minor), int(instant)),
                dict(message["state"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a live tick: {error}") from None


class Inbox:
    """One subscriber's bounded buffer: the latest tick per meter, in arrival order.

    A tick for a meter that is still pending replaces it and moves to the end, so what
    a slow reader gets is the published sequence minus the ticks a later one of the
    same meter superseded.
    """

    def __init__(self, capacity: int = INBOX_CAPACITY) -> None:
        self.capacity = capacity
        self._pending: dict[str, Tick] = {}
        self._newest: dict[str, Version] = {}
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._pending)

    def put(self, tick: Tick) -> None:
        """Never blocks: this is all a publisher does for a subscriber."""
        newest = self._newest.get(tick.meter)
        if newest is not None and tick.version < newest:
            return
        self._newest[tick.meter] = tick.version
        self._pending.pop(tick.meter, None)
        self._pending[tick.meter] = tick
        if len(self._pending) > self.capacity:
            dropped = next(iter(self._pending))
            del self._pending[dropped]
            log.warning("live inbox over %d meters: dropped %s", self.capacity, dropped)
        self._ready.set()

    async def get(self) -> Tick:
        while not self._pending:
            self._ready.clear()
            await self._ready.wait()
        meter = next(iter(self._pending))
        return self._pending.pop(meter)


class LiveHub:
    """Subscribers of this process, by organization; subclasses move the ticks."""

    def __init__(self) -> None:
        self._inboxes: dict[str, set[Inbox]] = {}

    async def listening(self, organization_id: str) -> bool:
        """Whether anyone anywhere follows the organization (else skip the work)."""
        raise NotImplementedError

    async def publish(self, ticks: Sequence[Tick]) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        return None

    def subscribers(self, organization_id: str) -> int:
        """This process's subscribers of the organization."""
        return len(self._inboxes.get(organization_id, ()))

    @asynccontextmanager
    async def subscribe(self, organization_id: str) -> AsyncIterator[Inbox]:
        inbox = Inbox()
        self._inboxes.setdefault(organization_id, set()).add(inbox)
        try:
            await self._joined(organization_id)
            yield inbox
        finally:
            inboxes = self._inboxes.get(organization_id, set())
            inboxes.discard(inbox)
            if not inboxes:
                self._inboxes.pop(organization_id, None)
            self._left(organization_id)

    def _deliver(self, tick: Tick) -> None:
        for inbox in tuple(self._inboxes.get(tick.organization_id, ())):
            inbox.put(tick)

    async def _joined(self, organization_id: str) -> None:
        return None

    def _left(self, organization_id: str) -> None:
        return None


class LocalHub(LiveHub):
    """The embedded default: ticks reach the subscribers of this process only."""

    async def listening(self, organization_id: str) -> bool:
        return organization_id in self._inboxes

    async def publish(self, ticks: Sequence[Tick]) -> None:
        for tick in ticks:
            self._deliver(tick)


class RedisHub(LiveHub):
    """Ticks through Redis pub/sub: every process's subscribers see every tick."""

    def __init__(self, redis: Redis) -> None:
        super().__init__()
        self._redis = redis
        self._pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self._subscribed: set[str] = set()
        self._changing = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._leaving: set[asyncio.Task[None]] = set()
        self._resting_until = 0.0
        self._connection = StateLog(log, "live: Redis pub/sub (subscribers)")
        self._publishing = StateLog(log, "live: Redis pub/sub (publishing ticks)")

    async def listening(self, organization_id: str) -> bool:
        if time.monotonic() < self._resting_until:
            return False
        async with self._guarded():
            counts = await self._redis.pubsub_numsub(channel(organization_id))
        return any(int(count) > 0 for _, count in counts)

    async def publish(self, ticks: Sequence[Tick]) -> None:
        if not ticks:
            return
        async with self._guarded(), self._redis.pipeline(transaction=False) as pipe:
            for tick in ticks:
                pipe.publish(channel(tick.organization_id), tick.encode())
            await pipe.execute()

    @asynccontextmanager
    async def _guarded(self) -> AsyncIterator[None]:
        """A publisher's Redis call: bounded in time, and after a failure Redis is
        left alone for a while (its ticks are lost; the next ones carry the state)."""
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                yield
        except Exception as error:
            self._resting_until = time.monotonic() + REDIS_REST_SECONDS
            self._publishing.lost(error)
            raise LiveUnavailable(str(error)) from error
        self._publishing.back()

    async def close(self) -> None:
        tasks = [*self._leaving, *([self._reader] if self._reader else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._reader = None
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _joined(self, organization_id: str) -> None:
        # Awaited: once subscribe() has entered, the channel is subscribed (sent on
        # the connection, ahead of anything published after).
        await self._follow(organization_id)

    def _left(self, organization_id: str) -> None:
        # Not awaited: a closing websocket must not wait on Redis to let go.
        task = asyncio.get_running_loop().create_task(self._unfollow(organization_id))
        self._leaving.add(task)
        task.add_done_callback(self._leaving.discard)

    async def _unfollow(self, organization_id: str) -> None:
        try:
            await self._follow(organization_id)
        except Exception as error:
            # Redis drops the subscription with the connection; if it comes back,
            # the next subscriber's _follow sets things straight.
            log.warning("live: could not unsubscribe %r: %s", organization_id, error)

    async def _follow(self, organization_id: str) -> None:
        """Make the Redis subscription match this process's subscribers, now."""
        async with self._changing:
            wanted = organization_id in self._inboxes
            if wanted and organization_id not in self._subscribed:
                await self._pubsub.subscribe(channel(organization_id))
                self._subscribed.add(organization_id)
                if self._reader is None:
                    self._reader = asyncio.create_task(self._read())
            elif not wanted and organization_id in self._subscribed:
                self._subscribed.discard(organization_id)
                await self._pubsub.unsubscribe(channel(organization_id))

    async def _read(self) -> None:
        """Deliver every message; on a lost connection, reconnect and resubscribe
        (redis-py replays the subscriptions). Ticks published meanwhile are lost:
        the next tick of a meter carries its whole state."""
        while True:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=None
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._connection.lost(error)
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            self._connection.back()
            if message is None or message.get("type") != "message":
                continue
            try:
                tick = Tick.decode(message["data"])
            except ValueError as error:
                log.warning("live: ignored a message: %s", error)
                continue
            self._deliver(tick)


def create_hub(redis: Redis | None) -> LiveHub:
    return LocalHub() if redis is None else RedisHub(redis)
