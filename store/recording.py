"""The durable write path: decide each reported usage event, store the accepted ones.

One call takes up to 1,000 events and decides each on its own, in order; event N sees
what events 0..N-1 of the same call took. Decision order for one event (the first rule
that applies wins):

1. INVALID: empty or over-long idempotency key; unknown organization or meter; quantity
   not finite, with more than six decimal places, beyond what the database stores, or
   negative on a meter that resets (negative quantities are releases, allowed only on
   cumulative meters, and carry no AI usage); `occurred_at` without a time zone or
   more than 5 minutes after `now`; a user who is not a member of the organization;
   an unknown workspace; a bad `cost_usd`, token count or over-long text field.
2. DUPLICATE: the key is already recorded in the organization, earlier or in this
   call. Only accepted events claim their key, so a denied event may be retried.
3. INVALID: a release that would take the meter's usage below zero. Checked after
   DUPLICATE so that retrying an applied release says DUPLICATE.
4. Releases are never denied (they only make room).
5. No subscription: the organization has no plan, hence no limits and no credits; the
   event is accepted, free and unlimited (its AI cost is still priced and stored),
   unless it passes a personal allocation (8), which an admin set on the user, not
   on the plan. Its cycle is then the UTC calendar month, as the pages count it.
6. AI_ACCESS_PAUSED: an AI event while the subscription is PAST_DUE with payment
   retries exhausted.
7. NOT_ALLOWED_ON_PLAN: an OPERATIONS meter whose plan `free_units` is 0.
8. PERSONAL_ALLOCATION_EXCEEDED: the user's own usage in the cycle plus the event
   would pass the user's allocation on the meter (or on `ai_spend_usd`, for the cost).
9. LIMIT_REACHED / SOFT_LIMIT_REACHED: the event's meter, then the AI budget
   (`ai_spend_usd`, which an AI event's dollar cost also counts on).
10. SPEND_CAP_REACHED for BYOM organizations (billing model USD: no credits; their
    monthly spend cap is the plan's `ai_spend_usd` limit, enforced here instead of in
    9), or CREDITS_EXHAUSTED for credit organizations when the pools cannot pay.

An event belongs to the billing cycle of its `occurred_at` and is decided against that
cycle's usage, limits and MONTHLY pool (a late event is checked against last cycle).
Resetting meters count the cycle; cumulative meters count everything recorded, even
events stamped after this one: a late contact still exists now, so counting it against
the current total is what keeps usage from ever passing the limit.

Counters: the usage and pool balances that rules 3 and 8-10 compare against come
from a counter store (`store.counters`): Redis when `USAGE_GATEWAY_REDIS_URL` is set,
else this process. Its script decides a batch and reserves what it accepts in one
atomic step; the accepted events, their idempotency keys (unique per organization),
rollups and credit draws are then committed in one transaction before `record_usage`
returns. If that fails, the reservation is released and every key stays free for the
retry; if the commit's outcome is unknown, the counters are dropped and rebuilt from
SQL; if the process dies before either, its reservation lapses with its lease (a few
seconds) and the counters are rebuilt from SQL too. SQL stays the truth.

Concurrency: each call locks its organizations' rows. With Redis, the lock is shared
(SELECT ... FOR SHARE): writers decide side by side, Redis serializes the decisions
and a retry of an event waits for the first attempt's commit. Rebuilding counters and
every decision taken without Redis (its outage, the in-process store) takes the lock
exclusively (FOR UPDATE), waiting out the writers in flight, and decisions taken from
SQL move the organizations' `counters_version`, so counters that missed them are
rebuilt first. SQLite has one writer at a time (BEGIN IMMEDIATE). Two gateway
processes sharing the database and Redis therefore stay exact. State is read in a
constant number of statements per call, not per event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from asyncpg.exceptions import UniqueViolationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rules.enums import UsageDecisionCode, UsageStatus
from rules.meters import remaining
from store.counters import (
    Batch,
    Busy,
    CounterStore,
    CountersUnavailable,
    Missing,
    Outcome,
    Reserved,
    Stale,
)
from store.counters.memory import MemoryCounterStore
from store.counters.reads import CounterRead, read_counters
from store.db import SessionFactory, read_without_transaction
from store.decisions.books import Books
from store.decisions.events import (
    FUTURE_TOLERANCE,
    MAX_EVENTS_PER_CALL,
    EventOutcome,
    UsageEventSpec,
    has_nul,
)
from store.metrics import COUNTER_DECISIONS
from store.usage_loads import FieldSource, load_fields, load_recorded
from store.usage_writes import write_accepted

__all__ = [
    "FUTURE_TOLERANCE",
    "MAX_EVENTS_PER_CALL",
    "EventOutcome",
    "UsageCheck",
    "UsageEventSpec",
    "check_usage",
    "record_usage",
]

log = logging.getLogger("usage_gateway.recording")

_CHECK_KEY = "usage-check"
_ATTEMPTS = 3
"""Calls decided with the shared lock that lost an idempotency key to a racing
writer, or found counters to rebuild, run again; the last attempt is exclusive."""
_ROUNDS = 6
_BUSY_WAIT = 30.0


@dataclass(frozen=True)
class UsageCheck:
    allowed: bool
    code: UsageDecisionCode
    used: Decimal
    limit: Decimal | None
    remaining: Decimal | None


class _NeedsExclusive(Exception):
    """The counters must be rebuilt, which needs the exclusive lock: run again."""


class _KeyTaken(Exception):
    """A racing writer committed one of the call's keys first: run again."""


async def record_usage(
    sessions: SessionFactory,
    events: Sequence[UsageEventSpec],
    now: datetime,
    counters: CounterStore | None = None,
) -> list[EventOutcome]:
    """Decide and store a batch of events; committed before returning.

    `counters` None, or unreachable: decided from SQL (a throw-away in-process store
    loaded from SQL under the exclusive lock). Raises ValueError for more than 1,000
    events (nothing is decided then).
    """
    if len(events) > MAX_EVENTS_PER_CALL:
        raise ValueError(
            f"at most {MAX_EVENTS_PER_CALL} events per call, got {len(events)}"
        )
    now = _utc(now)
    if not events:
        return []
    if counters is not None:
        try:
            outcomes = await _record(sessions, events, now, counters)
        except CountersUnavailable:
            log.debug("counters unavailable: deciding from SQL")
        else:
            COUNTER_DECISIONS.labels(counters.mode).inc()
            return outcomes
    COUNTER_DECISIONS.labels("sql-fallback").inc()
    return await _record(sessions, events, now, MemoryCounterStore("sql-fallback"))


async def _record(
    sessions: SessionFactory,
    events: Sequence[UsageEventSpec],
    now: datetime,
    store: CounterStore,
) -> list[EventOutcome]:
    exclusive = not store.shared
    for _ in range(_ATTEMPTS - 1):
        try:
            return await _record_once(sessions, events, now, store, exclusive)
        except _NeedsExclusive:
            exclusive = True
        except _KeyTaken:
            continue
    return await _record_once(sessions, events, now, store, exclusive=True)


async def _record_once(
    sessions: SessionFactory,
    specs: Sequence[UsageEventSpec],
    now: datetime,
    store: CounterStore,
    exclusive: bool,
) -> list[EventOutcome]:
    async with sessions() as session:
        dialect = (await session.connection()).dialect.name
        exclusive = exclusive or dialect == "sqlite"
        await _begin_deciding(session, dialect)
        books = await Books.load(
            session, specs, now, lock="update" if exclusive else "share"
        )
        pairs = {
            (spec.organization_id, spec.idempotency_key)
            for spec in specs
            if spec.organization_id in books.orgs and not has_nul(spec)
        }
        deadline = time.monotonic() + _BUSY_WAIT
        pause = 0.002
        while True:
            recorded = await load_recorded(session, pairs, dialect)
            plan = books.plan(specs, recorded)
            batches = plan.batches(books.orgs, advance=not store.shared)
            reserved = await _reserve(session, store, batches, plan.sources, exclusive)
            if reserved is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("idempotency keys stayed reserved by another call")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
        outcomes, accepted = books.finish(
            specs, plan, {org: found.decisions for org, found in reserved.items()}
        )
        reservations = [found.reservation for found in reserved.values()]
        # Counters kept in this process only: the other processes' are stale now.
        advance = () if store.shared else {e.organization_id for e in accepted}
        try:
            await write_accepted(session, accepted, dialect, advance)
        except (IntegrityError, UniqueViolationError) as error:
            await store.release(reservations)
            if exclusive:
                raise
            raise _KeyTaken from error
        except BaseException:
            await store.release(reservations)
            raise
        try:
            await session.commit()
        except BaseException:
            # Committed or not: unknown. The counters are rebuilt from SQL.
            await store.invalidate([r.organization_id for r in reservations])
            raise
    await store.settle(reservations)
    return outcomes


async def _reserve(
    session: AsyncSession,
    store: CounterStore,
    batches: Mapping[str, Batch],
    sources: Mapping[str, Mapping[str, FieldSource]],
    exclusive: bool,
) -> dict[str, Reserved] | None:
    """Every organization's batch decided and reserved: fields missing from the
    counters are loaded from SQL, stale counters rebuilt (under the exclusive lock).
    None when another call holds some of the keys (nothing is reserved then)."""
    reserved: dict[str, Reserved] = {}
    pending = dict(batches)
    try:
        for _ in range(_ROUNDS):
            if not pending:
                return reserved
            missing: dict[str, dict[str, FieldSource]] = {}
            outcomes = await store.reserve(list(pending.values()))
            for batch, outcome in zip(list(pending.values()), outcomes, strict=True):
                org = batch.organization_id
                if isinstance(outcome, Reserved):
                    reserved[org] = outcome
                    del pending[org]
                elif isinstance(outcome, Missing):
                    missing[org] = {f: sources[org][f] for f in outcome.fields}
                elif isinstance(outcome, Stale):
                    if not exclusive:
                        raise _NeedsExclusive
                    await store.rebuild(org, batch.version)
                else:
                    assert isinstance(outcome, Busy)
                    await store.release([r.reservation for r in reserved.values()])
                    return None
            if missing:
                loaded = await load_fields(session, missing)
                for org, values in loaded.items():
                    batch = pending[org]
                    pending[org] = replace(batch, loads={**batch.loads, **values})
        raise RuntimeError("the counters kept changing while deciding")
    except BaseException:
        await store.release([r.reservation for r in reserved.values()])
        raise


async def check_usage(
    sessions: SessionFactory,
    organization_id: str,
    meter: str,
    quantity: Decimal,
    user_id: str | None,
    now: datetime,
    counters: CounterStore | None = None,
) -> UsageCheck:
    """Whether an event of `quantity` on `meter` would be accepted now; writes nothing.

    `used` and `limit` are the user's own this cycle when the user has a personal
    allocation on the meter, else the organization's: the cycle's usage of a resetting
    meter (the calendar month without a subscription), everything recorded on a
    cumulative one, against the plan's effective limit (None: unlimited). Read from
    the counters when they hold it; counters found missing or stale are filled from
    SQL first (`read_counters`, as for a live page), so the next check needs no SQL
    aggregate; counters unreachable, from SQL.
    """
    now = _utc(now)
    spec = UsageEventSpec(
        idempotency_key=_CHECK_KEY,
        organization_id=organization_id,
        meter=meter,
        quantity=quantity,
        occurred_at=now,
        user_id=user_id,
    )
    found: Outcome | None = None
    source = "sql-fallback" if counters is None else counters.mode
    async with sessions() as session:
        # No lock, no write: its one statement is one snapshot (a fallback to SQL
        # reads the counters in one more, as it would under READ COMMITTED).
        await read_without_transaction(session)
        books = await Books.load(session, [spec], now, lock=None)
        plan = books.plan([spec], set(), claiming=False)
        limit = books.standing(spec, now, plan)
        batch = plan.batches(books.orgs, advance=False).get(organization_id)
        sources = tuple(plan.sources.get(organization_id, {}).items())
        if batch is not None and counters is not None:
            try:
                found = await counters.check(batch)
            except CountersUnavailable:
                found = None
        if batch is not None and not isinstance(found, Reserved | Missing | Stale):
            # No counters to read or fill: SQL, on this same connection.
            source = "sql-fallback"
            found = await _decided_on(batch, await _sql_values(session, batch, sources))
    if batch is not None and isinstance(found, Missing | Stale):
        assert counters is not None
        read = CounterRead(organization_id, batch.version, sources)
        [values] = await read_counters(sessions, counters, [read])
        if values is None:  # the counters stopped answering meanwhile
            source = "sql-fallback"
            async with sessions() as session:
                await read_without_transaction(session)
                values = await _sql_values(session, batch, sources)
        found = await _decided_on(batch, values)
    assert found is None or isinstance(found, Reserved)
    COUNTER_DECISIONS.labels(source).inc()
    decided = {} if found is None else {organization_id: found.decisions}
    [outcome], _ = books.finish([spec], plan, decided)
    allowed = outcome.status is UsageStatus.ACCEPTED
    used = Decimal(0)
    if found is not None and batch is not None and batch.watch:
        used = found.values[batch.watch[0]]
    return UsageCheck(
        allowed=allowed,
        code=UsageDecisionCode.ALLOWED if allowed else _code(outcome),
        used=used,
        limit=limit,
        remaining=remaining(used, limit),
    )


async def _sql_values(
    session: AsyncSession, batch: Batch, sources: Sequence[tuple[str, FieldSource]]
) -> dict[str, Decimal]:
    """What SQL holds for the batch's fields (those the books did not give)."""
    org = batch.organization_id
    wanted = {name: src for name, src in sources if name not in batch.loads}
    return (await load_fields(session, {org: wanted})).get(org, {})


async def _decided_on(batch: Batch, values: Mapping[str, Decimal]) -> Reserved:
    """The batch decided by a throw-away store holding `values`."""
    scratch = MemoryCounterStore("sql-fallback")
    await scratch.rebuild(batch.organization_id, batch.version)
    outcome = await scratch.check(replace(batch, loads={**batch.loads, **values}))
    assert isinstance(outcome, Reserved)
    return outcome


async def _begin_deciding(session: AsyncSession, dialect: str) -> None:
    """Start the transaction the way decisions need it.

    SQLite: take the database's write lock now (BEGIN IMMEDIATE), so that what is read
    next cannot change before the writes. PostgreSQL: the organization rows are locked
    by the first query that reads them (`load_orgs`). (Its connections plan every
    statement for its parameters: `store.db.create_engine`.)
    """
    if dialect == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))


def _code(outcome: EventOutcome) -> UsageDecisionCode:
    return outcome.code if outcome.code is not None else UsageDecisionCode.INVALID


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"`now` must be timezone-aware: {at!r}")
    return at.astimezone(UTC)
