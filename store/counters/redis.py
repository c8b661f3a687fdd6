"""Counters in Redis, shared by every gateway process: one Lua script decides a batch.

Keys per organization carry its id as a hash tag (`ug:{org_a}:counters`,
`ug:{org_a}:claims`, `ug:{org_a}:inflight`), so all live on one Redis Cluster slot
and one script can use them. `counters` holds the fields of `store.counters` plus the
version and generation they were built at, and expires an hour after a rebuild:
counters re-sync with SQL at least that often. `claims` holds the idempotency keys
reserved and not yet committed: a writer racing a retry of the same event waits for
the first one's commit instead of answering before it is known (`Busy`).

`inflight` holds each accepted batch's reservation until its settle or release, with
a deadline (Redis's clock) five seconds ahead that this process renews every second
while its write is pending (one background task per process, one script call per
organization with reservations older than a second: none on the hot path). A process
killed between reserving and settling stops renewing; once a deadline has passed the
script answers `Stale` to every decision and read, so the counters are rebuilt from
SQL under the exclusive row lock. Dropping the dead amounts instead would be wrong
when the process died after its commit (counters low: a hard cap passed); a rebuild
is exact either way, since the lock waits out the dead backend's transaction. A
process that stalls past its lease (a blocked loop) costs the same rebuild, no more.

The scripts, the batch compiled for them and their answers read back are in
`store.counters.script`; this module calls them and keeps their keys, leases and
outages.

Unreachable Redis raises `CountersUnavailable` and is not tried again for a second;
the gateway decides from SQL meanwhile, which moves the organizations' versions, so
counters are rebuilt before Redis decides again. Counters of a call whose outcome is
unknown are deleted as soon as Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from rules.credits import event_credits
from store.counters import (
    Accepted,
    Batch,
    Busy,
    CountersUnavailable,
    Missing,
    Outcome,
    Reservation,
    Reserved,
    Stale,
)
from store.counters.script import (
    RELEASE_SCRIPT,
    RENEW_SCRIPT,
    RESERVE_SCRIPT,
    Payload,
    compile_payload,
    decisions_of,
    deltas_of,
    from_micros,
    micros,
)
from store.redis_client import redis_client

log = logging.getLogger("usage_gateway.counters")

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)
_PAUSES = 64
T = TypeVar("T")


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class RedisCounterStore:
    """Counters shared through Redis (see the module docstring)."""

    shared = True

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ug",
        lifetime: timedelta = timedelta(hours=1),
        claim_for: timedelta = timedelta(seconds=10),
        lease: timedelta = timedelta(seconds=5),
        renew_every: timedelta = timedelta(seconds=1),
        retry_after: float = 1.0,
        timeout: float = 2.0,
    ) -> None:
        self.redis = redis_client(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # A script is never sent twice: a timed-out reservation may have counted.
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        self.prefix = prefix
        self.lifetime_ms = int(lifetime.total_seconds() * 1000)
        self.claim_ms = int(claim_for.total_seconds() * 1000)
        self.lease_ms = int(lease.total_seconds() * 1000)
        self.renew_every = renew_every.total_seconds()
        self.retry_after = retry_after
        self._reserve = self.redis.register_script(RESERVE_SCRIPT)
        self._release = self.redis.register_script(RELEASE_SCRIPT)
        self._renew = self.redis.register_script(RENEW_SCRIPT)
        self._down_until: float | None = None
        self._suspects: set[str] = set()
        self._leases: dict[str, tuple[str, float]] = {}
        """This process's reservations in flight: id -> (organization, since)."""
        self._renewer: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ state

    @property
    def mode(self) -> str:
        return "redis" if self._down_until is None else "sql-fallback"

    def counters_key(self, organization_id: str) -> str:
        return f"{self.prefix}:{{{organization_id}}}:counters"

    def claims_key(self, organization_id: str) -> str:
        return f"{self.prefix}:{{{organization_id}}}:claims"

    def inflight_key(self, organization_id: str) -> str:
        return f"{self.prefix}:{{{organization_id}}}:inflight"

    def _keys(self, organization_id: str) -> list[str]:
        """The keys the reserve and release scripts use, in their order."""
        return [
            self.counters_key(organization_id),
            self.claims_key(organization_id),
            self.inflight_key(organization_id),
        ]

    async def _guarded(
        self, work: Callable[[], Awaitable[T]], suspects: Sequence[str] = ()
    ) -> T:
        """Run `work` against Redis; CountersUnavailable when Redis cannot answer.

        `suspects`: organizations whose counters `work` may have changed when its
        answer is lost; they are deleted before Redis is used again.
        """
        if self._down_until is not None and time.monotonic() < self._down_until:
            raise CountersUnavailable("Redis was unreachable moments ago")
        try:
            if self._down_until is not None or self._suspects:
                await self._recover()
            return await work()
        except asyncio.CancelledError:
            self._suspects.update(suspects)  # the script may have run
            raise
        except _UNREACHABLE as error:
            self._suspects.update(suspects)
            self._went_down(error)
            raise CountersUnavailable(str(error)) from error

    async def _recover(self) -> None:
        await self.redis.ping()
        if self._suspects:
            doubtful = sorted(self._suspects)
            await self.redis.delete(*(self.counters_key(org) for org in doubtful))
            self._suspects.difference_update(doubtful)
        if self._down_until is not None:
            self._down_until = None
            log.warning(
                "Redis is reachable again: usage decisions use the hot counters, "
                "rebuilt from SQL where SQL decided meanwhile"
            )

    def _went_down(self, error: BaseException) -> None:
        if self._down_until is None:
            log.warning(
                "Redis is unreachable (%s): usage decisions are taken from SQL",
                type(error).__name__,
            )
        self._down_until = time.monotonic() + self.retry_after

    async def probe(self) -> str:
        """Ask Redis now, even within the second after a failure (readiness probes
        come seldom and should see Redis as soon as it is back)."""
        self._down_until = None if self._down_until is None else 0.0
        with contextlib.suppress(CountersUnavailable):
            await self._guarded(self.redis.ping)
        return self.mode

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self.redis.aclose()

    # ------------------------------------------------------------------ deciding

    async def reserve(self, batches: Sequence[Batch]) -> list[Outcome]:
        return list(
            await asyncio.gather(
                *(self._decide(batch, counting=True) for batch in batches)
            )
        )

    async def check(self, batch: Batch) -> Outcome:
        return await self._decide(batch, counting=False)

    async def _decide(self, batch: Batch, *, counting: bool) -> Outcome:
        expected: dict[int, list[str]] = {}
        org = batch.organization_id
        keys = self._keys(org)
        payload = compile_payload(batch)
        lease = uuid.uuid4().hex if counting else "-"
        for _ in range(_PAUSES):
            args = [
                "reserve" if counting else "check",
                str(batch.version),
                payload.encode(batch, expected, self.claim_ms),
                lease,
                str(self.lease_ms),
            ]

            async def run(args: list[Any] = args) -> Any:
                return await self._reserve(keys=keys, args=args)

            reply = await self._guarded(run, suspects=[org] if counting else [])
            answer = orjson.loads(reply)
            status = answer["s"]
            if status == "pause":
                position = int(answer["i"])
                expected[position] = self._priced(batch, position, answer["u"])
                continue
            outcome = self._outcome(batch, payload, answer, status)
            if counting and isinstance(outcome, Reserved):
                outcome = self._leased(outcome, lease)
            return outcome
        raise RuntimeError("the counter script kept pausing on the free allowance")

    @staticmethod
    def _priced(batch: Batch, position: int, used: str) -> list[str]:
        """[used, credits, free units] of an event at a usage inside its allowance."""
        charge = batch.events[position].charge
        assert charge is not None
        credits, free = event_credits(
            charge.quantity,
            from_micros(used),
            charge.free_units,
            charge.credits_per_unit,
            charge.cost_usd,
            charge.credits_per_usd,
        )
        return [used, "0" if charge.pools is None else micros(credits), micros(free)]

    @staticmethod
    def _outcome(
        batch: Batch, payload: Payload, answer: dict[str, Any], status: str
    ) -> Outcome:
        if status == "stale":
            return Stale()
        if status == "missing":
            return Missing(frozenset(answer["f"]))
        if status == "busy":
            return Busy(frozenset(answer["k"]))
        decisions = decisions_of(answer["r"] or [], payload)
        watched = answer["w"] or []
        values = {
            name: from_micros(value)
            for name, value in zip(batch.watch, watched, strict=True)
        }
        keys = tuple(
            plan.key
            for plan, decision in zip(batch.events, decisions, strict=True)
            if isinstance(decision, Accepted) and plan.key is not None
        )
        reservation = Reservation(
            batch.organization_id, str(answer["g"]), deltas_of(batch, decisions), keys
        )
        return Reserved(decisions, values, reservation)

    # ------------------------------------------------------------------ leases

    def _leased(self, outcome: Reserved, lease: str) -> Reserved:
        """The script holds a reservation in flight for a batch that accepted an
        event: name it in the reservation and renew it until settled or released."""
        if not any(isinstance(d, Accepted) for d in outcome.decisions):
            return outcome
        reservation = outcome.reservation
        self._leases[lease] = (reservation.organization_id, time.monotonic())
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renewing())
        return Reserved(
            outcome.decisions,
            outcome.values,
            dataclasses.replace(reservation, lease=lease),
        )

    def _forget(self, reservations: Sequence[Reservation]) -> None:
        for reservation in reservations:
            if reservation.lease is not None:
                self._leases.pop(reservation.lease, None)

    async def _renewing(self) -> None:
        """Renew, every `renew_every`, the reservations in flight for longer than
        that; ends at a tick with none in flight (the next reservation starts it
        again). Renewal failing only risks a rebuild (see the module docstring)."""
        while True:
            await asyncio.sleep(self.renew_every)
            if not self._leases:
                return
            due: dict[str, list[str]] = defaultdict(list)
            young = time.monotonic() - self.renew_every
            for lease, (org, since) in self._leases.items():
                if since <= young:
                    due[org].append(lease)
            if not due or self._down_until is not None:
                continue
            # Not through `_guarded`: upkeep in the background neither marks Redis
            # down nor recovers it; deciding calls do.
            try:
                await self._renew_all(due)
            except _UNREACHABLE:
                log.debug("could not renew reservations in flight", exc_info=True)
            except Exception:
                log.exception("renewing reservations in flight failed")

    async def _renew_all(self, due: dict[str, list[str]]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for org, leases in due.items():
                await self._renew(
                    keys=[self.inflight_key(org)],
                    args=[str(self.lease_ms), *leases],
                    client=pipe,
                )
            await pipe.execute()

    # ------------------------------------------------------------------ upkeep

    async def rebuild(self, organization_id: str, version: int) -> None:
        key = self.counters_key(organization_id)

        async def start() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                # Under the exclusive lock no write is in flight: the reservations
                # and claims still listed were committed (SQL says DUPLICATE) or
                # never will be (their owner died or failed).
                pipe.delete(
                    key,
                    self.inflight_key(organization_id),
                    self.claims_key(organization_id),
                )
                pipe.hset(key, mapping={"v": str(version), "g": uuid.uuid4().hex})
                pipe.pexpire(key, self.lifetime_ms)
                await pipe.execute()

        await self._guarded(start, suspects=[organization_id])

    async def release(self, reservations: Sequence[Reservation]) -> None:
        self._forget(reservations)
        for reservation in reservations:
            try:
                await self._guarded(
                    functools.partial(self._take_back, reservation),
                    suspects=[reservation.organization_id],
                )
            except CountersUnavailable:
                log.warning(
                    "could not release a reservation of %s: its counters are "
                    "rebuilt from SQL when Redis answers again",
                    reservation.organization_id,
                )

    async def _take_back(self, reservation: Reservation) -> None:
        body = orjson.dumps(
            {
                "d": [[name, micros(d)] for name, d in reservation.deltas.items()],
                "k": list(reservation.keys),
                "l": reservation.lease or False,
            }
        )
        await self._release(
            keys=self._keys(reservation.organization_id),
            args=[reservation.generation, body],
        )

    async def settle(self, reservations: Sequence[Reservation]) -> None:
        self._forget(reservations)
        held = [r for r in reservations if r.keys or r.lease is not None]
        if not held:
            return

        async def free() -> None:
            # The release script with nothing to take back frees the keys and the
            # reservation: one argument instead of a thousand for the client.
            async with self.redis.pipeline(transaction=False) as pipe:
                for reservation in held:
                    lease = reservation.lease or False  # JSON null is true in Lua
                    body = orjson.dumps(
                        {"d": [], "k": list(reservation.keys), "l": lease}
                    )
                    await self._release(
                        keys=self._keys(reservation.organization_id),
                        args=[reservation.generation, body],
                        client=pipe,
                    )
                await pipe.execute()

        # Claims expire on their own; a reservation left listed lapses with its
        # lease and costs a rebuild from SQL (which holds this commit).
        with contextlib.suppress(CountersUnavailable):
            await self._guarded(free)

    async def invalidate(self, organization_ids: Sequence[str]) -> None:
        if not organization_ids:
            return
        dropped = set(organization_ids)
        for lease, (org, _) in list(self._leases.items()):
            if org in dropped:  # rebuilt before their organization is used again
                del self._leases[lease]
        keys = [self.counters_key(org) for org in organization_ids]

        async def forget() -> None:
            await self.redis.delete(*keys)

        with contextlib.suppress(CountersUnavailable):  # deleted once Redis answers
            await self._guarded(forget, suspects=organization_ids)

    async def values(
        self, organization_id: str, fields: Sequence[str]
    ) -> dict[str, Decimal | None]:
        if not fields:
            return {}
        key = self.counters_key(organization_id)

        async def read() -> list[bytes | str | None]:
            found: list[bytes | str | None] = await self.redis.hmget(key, list(fields))
            return found

        found = await self._guarded(read)
        return {
            name: None if raw is None else from_micros(_text(raw))
            for name, raw in zip(fields, found, strict=True)
        }
