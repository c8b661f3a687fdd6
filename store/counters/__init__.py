"""Hot usage counters: what usage decisions compare against, kept beside SQL.

SQL stays the truth. A counter store holds, per organization, the running totals that
decisions read (a meter's usage in a cycle or ever, a user's usage where the user has
a personal allocation, what each credit pool spent) and decides a batch of events
against them atomically: `reserve` checks every cap, allocation and pool balance and
adds the accepted events in one step, so racing writers never pass a limit. The caller
then commits the events to SQL and `release`s the reservation if that fails.

Two implementations share these semantics: `RedisCounterStore` (`store.counters.redis`,
one Lua script per organization and batch, shared by every gateway process) and
`MemoryCounterStore` (`store.counters.memory`, one process: the embedded default, and
the throw-away store that decisions use when Redis is unreachable).

Staying equal to SQL:
- Every organization row carries `counters_version`. Counters are built for a version;
  a batch names the version it read from SQL and gets `Stale` when they differ. Writes
  that a store did not see (decisions taken from SQL, allocation and subscription
  changes) move the version, so the counters are rebuilt before the next decision.
- A rebuild starts a new, empty generation; each field is then loaded from SQL the
  first time a batch needs it (`Missing`, then `Batch.loads`), and a load is applied
  only where the field is still absent. Every reservation needs its fields present,
  so an absent field has seen no reservation in this generation and SQL holds all of
  its events: the load is exact. A rebuild runs under the organizations' exclusive row
  lock, which waits for every writer still holding reservations of the old generation.
- A `release` applies only to the generation it was reserved in: after a rebuild the
  counters already equal SQL, where the failed write never arrived.
- A process that dies between reserving and settling leaves its reservation counted
  (Redis; in-process counters die with it). Each reservation in flight is held under
  a lease its owner renews; once one has lapsed the counters are `Stale`, so they are
  rebuilt from SQL, which holds the write if it committed, under the exclusive lock,
  which waits for writers still in flight: the dead process's amounts count only
  until its leases lapse, and never go missing if its commit went through.

Field names (one set per organization; `<cycle>` is the cycle start in microseconds
since the epoch): `t|<cycle>|<meter>` usage of a resetting meter in a cycle,
`l|<meter>` usage of a cumulative meter ever, `u|<cycle>|<meter>|<user>` a user's
usage where the user has an allocation, `p|<cycle>` the cycle's MONTHLY pool spent,
`g|<grant>` a BONUS or PURCHASED grant spent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from rules.credits import Draw
from rules.enums import CreditPoolKind, Enforcement, UsageDecisionCode

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# --------------------------------------------------------------------------- fields


def _cycle(start: datetime) -> int:
    return (start.astimezone(UTC) - _EPOCH) // _MICROSECOND


def usage_field(meter: str, cycle_start: datetime | None) -> str:
    """A meter's usage in the cycle starting at `cycle_start`, or ever when None."""
    if cycle_start is None:
        return f"l|{meter}"
    return f"t|{_cycle(cycle_start)}|{meter}"


def user_field(meter: str, cycle_start: datetime, user_id: str) -> str:
    """A user's usage of a meter in a cycle (kept where the user has an allocation)."""
    return f"u|{_cycle(cycle_start)}|{meter}|{user_id}"


def monthly_field(cycle_start: datetime) -> str:
    """What the cycle's MONTHLY pool spent."""
    return f"p|{_cycle(cycle_start)}"


def grant_field(grant_id: str) -> str:
    """What a BONUS or PURCHASED grant spent, ever."""
    return f"g|{grant_id}"


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True, slots=True)
class Cap:
    """`rules.meters.decide_cap(used, amount, limit, enforcement)` on `field`.

    A plan limit, the BYOM spend cap (`code` SPEND_CAP_REACHED) or a personal
    allocation (HARD, `code` PERSONAL_ALLOCATION_EXCEEDED); `code` None keeps the
    rule's own (LIMIT_REACHED or SOFT_LIMIT_REACHED).
    """

    field: str
    meter: str
    amount: Decimal
    limit: Decimal
    enforcement: Enforcement
    code: UsageDecisionCode | None = None


@dataclass(frozen=True, slots=True)
class Floor:
    """`rules.meters.releasable(used, amount)`: a release never goes below zero."""

    field: str
    meter: str
    amount: Decimal


Check = Cap | Floor


@dataclass(frozen=True, slots=True)
class Pool:
    """A credit pool an event may draw from; `field` holds what it spent."""

    field: str
    kind: CreditPoolKind
    grant_id: str | None
    granted: Decimal
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Charge:
    """`rules.credits.event_credits` on the usage in `field` (the free allowance left),
    then `rules.credits.draw_credits` from `pools` at `at`.

    `pools` None: a BYOM organization, which pays no credits but still uses up its
    free allowance.
    """

    field: str
    quantity: Decimal
    free_units: Decimal | None
    credits_per_unit: Decimal | None
    cost_usd: Decimal | None
    credits_per_usd: Decimal | None
    pools: tuple[Pool, ...] | None
    at: datetime


@dataclass(frozen=True, slots=True)
class EventPlan:
    """One event as a counter store decides it, in this order: DUPLICATE when `key`
    was accepted earlier in the batch; `denial` (decided without counters, e.g.
    AI_ACCESS_PAUSED); each check; the charge. Accepted: `adds` are counted."""

    key: str | None
    checks: tuple[Check, ...] = ()
    charge: Charge | None = None
    adds: tuple[tuple[str, Decimal], ...] = ()
    denial: UsageDecisionCode | None = None

    def fields(self) -> set[str]:
        """Every counter the event reads or writes."""
        found = {check.field for check in self.checks}
        found.update(name for name, _ in self.adds)
        if self.charge is not None:
            found.add(self.charge.field)
            found.update(pool.field for pool in self.charge.pools or ())
        return found


@dataclass(frozen=True)
class Batch:
    """One organization's events of a call, in order, and what to load first."""

    organization_id: str
    version: int
    """The organization's `counters_version`, read from SQL under its row lock."""
    events: Sequence[EventPlan]
    loads: Mapping[str, Decimal] = field(default_factory=dict)
    """Fields read from SQL, set where still absent before deciding."""
    watch: Sequence[str] = ()
    """Fields whose values (before the batch) the result reports."""
    advance: bool = False
    """The SQL version moves to `version + 1` when this batch accepts anything (the
    caller writes it in the same transaction): the store follows, so its counters
    stay current for the next batch."""

    def fields(self) -> set[str]:
        found = set(self.watch)
        seen: set[tuple[int, int, int]] = set()
        for event in self.events:
            shape = (id(event.checks), id(event.charge), id(event.adds))
            if shape not in seen:  # events of one shape share these objects
                seen.add(shape)
                found |= event.fields()
        return found


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Accepted:
    credits: Decimal
    free_units_used: Decimal
    draws: tuple[Draw, ...] = ()


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The key was accepted earlier in the same batch."""


@dataclass(frozen=True, slots=True)
class Denied:
    """`check` is the index of the check that failed, `len(checks)` for the charge
    (CREDITS_EXHAUSTED) and -1 for the plan's own `denial`. `used` is the failed
    check's counter; for the charge, `credits` is the event's cost and `used` what
    the pools held."""

    check: int
    used: Decimal = Decimal(0)
    credits: Decimal = Decimal(0)


Decision = Accepted | Duplicate | Denied


@dataclass(frozen=True)
class Reservation:
    """What a batch added, so a failed SQL write can take it back."""

    organization_id: str
    generation: str
    deltas: Mapping[str, Decimal]
    keys: tuple[str, ...]
    lease: str | None = None
    """Its id among the organization's reservations in flight, which the owner
    renews until `settle` or `release` (Redis; None: nothing was accepted, or the
    counters die with the process that holds them)."""


@dataclass(frozen=True)
class Reserved:
    decisions: list[Decision]
    values: dict[str, Decimal]
    """The watched fields, before the batch."""
    reservation: Reservation


@dataclass(frozen=True)
class Missing:
    """Fields to load from SQL (nothing was decided)."""

    fields: frozenset[str]


@dataclass(frozen=True)
class Stale:
    """The counters are of another version or generation, gone, or hold a
    reservation whose owner died before settling it: rebuild first."""


@dataclass(frozen=True)
class Busy:
    """Another writer holds these keys and has not committed yet: ask again soon."""

    keys: frozenset[str]


Outcome = Reserved | Missing | Stale | Busy


class CountersUnavailable(Exception):
    """The store cannot be reached: decide from SQL instead."""


class CounterStore(Protocol):
    """Counters per organization, decided and reserved atomically per batch."""

    @property
    def shared(self) -> bool:
        """Whether every gateway process decides against these same counters, so
        writers need only share the organization's row lock (Redis); otherwise each
        decision takes the exclusive lock and moves the version (one process)."""
        ...

    @property
    def mode(self) -> str:
        """What decides now: `redis`, `sql-fallback` or `in-process` (/readyz)."""
        ...

    async def reserve(self, batches: Sequence[Batch]) -> list[Outcome]:
        """Decide each batch and count its accepted events, all or nothing per batch.

        Raises CountersUnavailable when the store cannot be reached (whether the
        batch was counted is then unknown: the store forgets those counters).
        """
        ...

    async def check(self, batch: Batch) -> Outcome:
        """`reserve` without counting anything or loading anything."""
        ...

    async def rebuild(self, organization_id: str, version: int) -> None:
        """Start a new, empty generation at `version`; the caller holds the
        organization's exclusive row lock, so no reservation is in flight."""
        ...

    async def release(self, reservations: Sequence[Reservation]) -> None:
        """Take back reservations whose SQL write failed (never raises)."""
        ...

    async def settle(self, reservations: Sequence[Reservation]) -> None:
        """The SQL write committed: free the claimed keys (never raises)."""
        ...

    async def invalidate(self, organization_ids: Sequence[str]) -> None:
        """Forget these organizations' counters: a write of unknown outcome."""
        ...

    async def values(
        self, organization_id: str, fields: Sequence[str]
    ) -> dict[str, Decimal | None]:
        """The counters as held now (None: absent); for tests and the benchmark."""
        ...

    async def probe(self) -> str:
        """Check the store can be reached; the mode after checking."""
        ...

    async def aclose(self) -> None: ...


def open_counters(redis_url: str | None) -> CounterStore:
    """Redis when configured (shared by every gateway process), else this process."""
    if redis_url is None:
        from store.counters.memory import MemoryCounterStore

        return MemoryCounterStore()
    from store.counters.redis import RedisCounterStore

    return RedisCounterStore(redis_url)
