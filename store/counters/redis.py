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

The script compares and adds only; the thresholds come from the Python rules here, in
`_payload`. When an event's credits fall inside its free allowance (a product of two
amounts), the script pauses and `reserve` asks again with the credits
`rules.credits.event_credits` gives for that usage.

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
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_FLOOR, Context, Decimal
from pathlib import Path
from typing import Any, TypeVar

import orjson
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from rules.credits import Draw, PoolState, draw_order, event_credits
from rules.meters import cap_for
from store.counters import (
    Accepted,
    Batch,
    Busy,
    Cap,
    CountersUnavailable,
    Decision,
    Denied,
    Duplicate,
    EventPlan,
    Missing,
    Outcome,
    Pool,
    Reservation,
    Reserved,
    Stale,
)
from store.redis_client import redis_client

log = logging.getLogger("usage_gateway.counters")

_HERE = Path(__file__).parent
_AMOUNTS = (_HERE / "amounts.lua").read_text()
RESERVE_SCRIPT = _AMOUNTS + (_HERE / "reserve.lua").read_text()
RELEASE_SCRIPT = _AMOUNTS + (_HERE / "release.lua").read_text()
RENEW_SCRIPT = (_HERE / "renew.lua").read_text()

_WIDE = Context(prec=80)
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)
_PAUSES = 64
T = TypeVar("T")


def micros(amount: Decimal) -> str:
    """An amount of six places as its integer count of micro-units."""
    return str(int(amount.scaleb(6, _WIDE)))


def _floor_micros(amount: Decimal) -> str:
    return str(int(amount.scaleb(6, _WIDE).to_integral_value(ROUND_FLOOR, _WIDE)))


def _amount(value: str) -> Decimal:
    return Decimal(value).scaleb(-6, _WIDE)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


@dataclass
class _Payload:
    """A batch as the script reads it, and what is needed to read its answer.

    Events of the same shape (one checks, charge and additions object, as
    `store.decisions` shares them) are sent once, as a template their events name.
    """

    names: list[str]
    templates: list[list[Any]]
    events: list[list[Any]]
    pool_sets: list[list[list[Any]]]
    ordered: list[tuple[Pool, ...]]
    """Per event, the pools in the order the script draws them."""

    def encode(
        self, batch: Batch, expected: dict[int, list[str]], claim_ms: int
    ) -> bytes:
        keys = sorted({e.key for e in batch.events if e.key is not None})
        index = {name: i + 1 for i, name in enumerate(self.names)}
        return orjson.dumps(
            {
                "f": self.names,
                "l": {
                    name: micros(value)
                    for name, value in batch.loads.items()
                    if name in index
                },
                "k": keys,
                "P": self.pool_sets,
                "T": self.templates,
                "e": self.events,
                "x": {str(position): found for position, found in expected.items()},
                "w": [index[name] for name in batch.watch],
                "a": batch.advance,
                "t": claim_ms,
            }
        )


def _payload(batch: Batch) -> _Payload:
    """Compile the plans: each rule becomes a bound the script compares with."""
    names = sorted(batch.fields())
    index = {name: i + 1 for i, name in enumerate(names)}
    pool_sets: list[list[list[Any]]] = []
    set_of: dict[tuple[tuple[str, Decimal], ...], int] = {}
    templates: list[list[Any]] = []
    template_of: dict[tuple[Any, ...], tuple[int, tuple[Pool, ...]]] = {}
    events: list[list[Any]] = []
    ordered: list[tuple[Pool, ...]] = []
    for plan in batch.events:
        shape = (id(plan.checks), id(plan.charge), id(plan.adds), plan.denial)
        found = template_of.get(shape)
        if found is None:
            checks = _checks(plan, index)
            charge: list[Any] | bool = False
            pools: tuple[Pool, ...] = ()
            if plan.charge is not None and plan.denial is None:
                charge, pools = _charge(plan, index)
                if plan.charge.pools is not None:
                    key = tuple((pool.field, pool.granted) for pool in pools)
                    if key not in set_of:
                        pool_sets.append(
                            [[index[p.field], micros(p.granted)] for p in pools]
                        )
                        set_of[key] = len(pool_sets)
                    charge[7] = set_of[key]
            adds = [[index[name], micros(amount)] for name, amount in plan.adds]
            templates.append([plan.denial is not None, checks, charge, adds])
            found = template_of[shape] = (len(templates), pools)
        events.append([plan.key or False, found[0]])
        ordered.append(found[1])
    return _Payload(names, templates, events, pool_sets, ordered)


def _checks(plan: EventPlan, index: dict[str, int]) -> list[list[Any]]:
    """`used <= bound` for caps, `used >= bound` for releases."""
    checks: list[list[Any]] = []
    for position, check in enumerate(plan.checks):
        if isinstance(check, Cap):
            cap = cap_for(check.limit, check.enforcement)
            if cap is None or check.amount < 0:
                continue  # decide_cap never denies these
            bound = _floor_micros(cap.fma(1, -check.amount, _WIDE))
            checks.append([index[check.field], "max", bound, position])
        else:
            checks.append([index[check.field], "min", micros(-check.amount), position])
    return checks


def _charge(
    plan: EventPlan, index: dict[str, int]
) -> tuple[list[Any], tuple[Pool, ...]]:
    """The event's credits at both ends of its free allowance, and its pools in the
    order `rules.credits.draw_order` draws them at the event's time."""
    charge = plan.charge
    assert charge is not None

    def price(used: Decimal) -> tuple[str, str]:
        credits, free = event_credits(
            charge.quantity,
            used,
            charge.free_units,
            charge.credits_per_unit,
            charge.cost_usd,
            charge.credits_per_usd,
        )
        return ("0" if charge.pools is None else micros(credits)), micros(free)

    if charge.free_units is None:
        low: str | bool = False
        high: str | bool = False
        at_low = at_high = price(Decimal(0))
    else:
        units = max(Decimal(0), charge.quantity)
        low_used = charge.free_units - units
        low, high = micros(low_used), micros(charge.free_units)
        at_low, at_high = price(low_used), price(charge.free_units)
    pools: tuple[Pool, ...] = ()
    if charge.pools is not None:
        states = [
            PoolState(p.kind, p.grant_id, p.granted, Decimal(0), p.expires_at)
            for p in charge.pools
        ]
        by_grant = {pool.grant_id: pool for pool in charge.pools}
        pools = tuple(by_grant[s.grant_id] for s in draw_order(states, charge.at))
    return [
        index[charge.field],
        low,
        high,
        *at_low,
        *at_high,
        0,
        len(plan.checks),
    ], pools


def _decisions(runs: list[list[Any]], payload: _Payload) -> list[Decision]:
    """The script's runs (consecutive events decided alike, drawing from one pool
    set) as one decision per event; equal answers (most of a bulk batch) are
    converted once and share one immutable decision. A run's first event gives its
    pools: templates of one pool set order the same pools alike."""
    seen: dict[tuple[Any, ...], Decision] = {}
    decisions: list[Decision] = []
    position = 0
    for count, raw in runs:
        pools = payload.ordered[position]
        drawn = raw[3] if raw[0] == "a" and raw[3] else ()
        shape = (
            raw[0],
            raw[1] if len(raw) > 1 else None,
            raw[2] if len(raw) > 2 else None,
            id(pools),
            tuple(tuple(d) for d in drawn),
        )
        decision = seen.get(shape)
        if decision is None:
            decision = seen[shape] = _decision(raw, pools)
        decisions += [decision] * count
        position += count
    if position != len(payload.ordered):
        raise ValueError("the counter script answered for another number of events")
    return decisions


def _decision(raw: list[Any], pools: tuple[Pool, ...]) -> Decision:
    if raw[0] == "a":
        draws = tuple(
            Draw(pools[j].kind, pools[j].grant_id, _amount(amount))
            for j, amount in (raw[3] or [])
        )
        return Accepted(_amount(raw[1]), _amount(raw[2]), draws)
    if raw[0] == "d":
        return Duplicate()
    return Denied(int(raw[1]), _amount(raw[2]), _amount(raw[3]))


_EXACT_BELOW = Decimal(10) ** 20
"""Sums of amounts of at most six places stay below 26 digits under this bound, so
the default context (28 digits) adds and multiplies them exactly, in any order."""


def _deltas(batch: Batch, decisions: list[Decision]) -> dict[str, Decimal]:
    """What the accepted events added per field. Events sharing their additions,
    charge and decision objects (most of a bulk batch) are counted and their amounts
    multiplied, where that is exact; else added event by event, in order."""
    kinds: dict[tuple[int, int, int], list[Any]] = {}
    accepted = 0
    for plan, decision in zip(batch.events, decisions, strict=True):
        if not isinstance(decision, Accepted):
            continue
        accepted += 1
        kind = (id(plan.adds), id(plan.charge), id(decision))
        found = kinds.get(kind)
        if found is None:
            kinds[kind] = [plan, decision, 1]
        else:
            found[2] += 1
    amounts = [
        amount
        for plan, decision, _ in kinds.values()
        for amount in (
            *(amount for _, amount in plan.adds),
            *(draw.amount for draw in decision.draws),
        )
    ]
    if not all(_exact(amount, accepted) for amount in amounts):
        return _deltas_each(batch, decisions)
    deltas: dict[str, Decimal] = defaultdict(Decimal)
    for plan, decision, count in kinds.values():
        _add(deltas, plan, decision, count)
    return {name: delta for name, delta in deltas.items() if delta}


def _exact(amount: Decimal, count: int) -> bool:
    exponent = amount.as_tuple().exponent
    return (
        isinstance(exponent, int)
        and exponent >= -6
        and abs(amount) * count < _EXACT_BELOW
    )


def _deltas_each(batch: Batch, decisions: list[Decision]) -> dict[str, Decimal]:
    deltas: dict[str, Decimal] = defaultdict(Decimal)
    for plan, decision in zip(batch.events, decisions, strict=True):
        if isinstance(decision, Accepted):
            _add(deltas, plan, decision, 1)
    return {name: delta for name, delta in deltas.items() if delta}


def _add(
    deltas: dict[str, Decimal], plan: EventPlan, decision: Accepted, count: int
) -> None:
    """`count` events of this plan and decision added to `deltas`."""
    for name, amount in plan.adds:
        deltas[name] += amount if count == 1 else amount * count
    if decision.draws:
        assert plan.charge is not None
        assert plan.charge.pools is not None
        spent_in = {pool.grant_id: pool.field for pool in plan.charge.pools}
        for draw in decision.draws:
            amount = draw.amount
            deltas[spent_in[draw.grant_id]] += amount if count == 1 else amount * count


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
        payload = _payload(batch)
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
            _amount(used),
            charge.free_units,
            charge.credits_per_unit,
            charge.cost_usd,
            charge.credits_per_usd,
        )
        return [used, "0" if charge.pools is None else micros(credits), micros(free)]

    @staticmethod
    def _outcome(
        batch: Batch, payload: _Payload, answer: dict[str, Any], status: str
    ) -> Outcome:
        if status == "stale":
            return Stale()
        if status == "missing":
            return Missing(frozenset(answer["f"]))
        if status == "busy":
            return Busy(frozenset(answer["k"]))
        decisions = _decisions(answer["r"] or [], payload)
        watched = answer["w"] or []
        values = {
            name: _amount(value)
            for name, value in zip(batch.watch, watched, strict=True)
        }
        keys = tuple(
            plan.key
            for plan, decision in zip(batch.events, decisions, strict=True)
            if isinstance(decision, Accepted) and plan.key is not None
        )
        reservation = Reservation(
            batch.organization_id, str(answer["g"]), _deltas(batch, decisions), keys
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
            name: None if raw is None else _amount(_text(raw))
            for name, raw in zip(fields, found, strict=True)
        }
