"""The in-process counter store: the embedded default, and SQL fallback's scratchpad.

Counters live in this process, so only this process may decide against them: batches
run under the organization's exclusive row lock and move `counters_version` when they
accept anything (`Batch.advance`), and counters of another version are rebuilt. Two
processes sharing a database therefore stay exact, each rebuilding after the other
wrote. A fresh instance per call, loading every field from SQL, is how decisions are
taken when Redis is unreachable.

`decide` is the reference the Redis script is tested against: it applies the rules
(`rules.meters`, `rules.credits`) directly to the counters. Every method runs without
awaiting, so under asyncio each call is atomic: no lock is needed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from rules.credits import Draw, PoolState, draw_credits, event_credits
from rules.enums import UsageDecisionCode
from rules.meters import decide_cap, releasable
from store.counters import (
    Accepted,
    Batch,
    Cap,
    Decision,
    Denied,
    Duplicate,
    EventPlan,
    Missing,
    Outcome,
    Reservation,
    Reserved,
    Stale,
)

_ZERO = Decimal(0)


def decide(event: EventPlan, values: dict[str, Decimal], taken: set[str]) -> Decision:
    """One event against the running `values`; an accepted event is counted in them
    and its key added to `taken`."""
    if event.key is not None and event.key in taken:
        return Duplicate()
    if event.denial is not None:
        return Denied(-1)
    for index, check in enumerate(event.checks):
        used = values[check.field]
        if isinstance(check, Cap):
            code = decide_cap(used, check.amount, check.limit, check.enforcement)
            fits = code is UsageDecisionCode.ALLOWED
        else:
            fits = releasable(used, check.amount)
        if not fits:
            return Denied(index, used)
    accepted = Accepted(_ZERO, _ZERO)
    if event.charge is not None:
        charged = _charge(event, values)
        if isinstance(charged, Denied):
            return charged
        accepted = charged
    for name, amount in event.adds:
        values[name] += amount
    if accepted.draws:
        assert event.charge is not None
        assert event.charge.pools is not None
        spent_in = {pool.grant_id: pool.field for pool in event.charge.pools}
        for draw in accepted.draws:
            values[spent_in[draw.grant_id]] += draw.amount
    if event.key is not None:
        taken.add(event.key)
    return accepted


def _charge(event: EventPlan, values: dict[str, Decimal]) -> Accepted | Denied:
    charge = event.charge
    assert charge is not None
    credits, free_used = event_credits(
        charge.quantity,
        values[charge.field],
        charge.free_units,
        charge.credits_per_unit,
        charge.cost_usd,
        charge.credits_per_usd,
    )
    if charge.pools is None:
        return Accepted(_ZERO, free_used)
    draws: list[Draw] | None = []
    if credits > 0:
        pools = [
            PoolState(p.kind, p.grant_id, p.granted, values[p.field], p.expires_at)
            for p in charge.pools
        ]
        draws = draw_credits(pools, credits, charge.at)
        if draws is None:
            live = (pool for pool in pools if not pool.expired(charge.at))
            held = sum((pool.balance for pool in live), _ZERO)
            return Denied(len(event.checks), held, credits)
    return Accepted(credits, free_used, tuple(draws or ()))


def decide_batch(
    batch: Batch, values: dict[str, Decimal]
) -> tuple[list[Decision], dict[str, Decimal]]:
    """Every event of a batch in order, on a copy of `values`; (decisions, deltas)."""
    running = dict(values)
    taken: set[str] = set()
    decisions = [decide(event, running, taken) for event in batch.events]
    deltas = {
        name: running[name] - values[name]
        for name in running
        if running[name] != values[name]
    }
    return decisions, deltas


@dataclass
class _Counters:
    version: int
    generation: str
    values: dict[str, Decimal] = field(default_factory=dict)


class MemoryCounterStore:
    """Counters in this process (see the module docstring)."""

    shared = False

    def __init__(self, mode: str = "in-process") -> None:
        self._mode = mode
        self._orgs: dict[str, _Counters] = {}

    @property
    def mode(self) -> str:
        return self._mode

    async def reserve(self, batches: Sequence[Batch]) -> list[Outcome]:
        return [self._decide(batch, counting=True) for batch in batches]

    async def check(self, batch: Batch) -> Outcome:
        return self._decide(batch, counting=False)

    def _decide(self, batch: Batch, *, counting: bool) -> Outcome:
        counters = self._orgs.get(batch.organization_id)
        if counters is None or counters.version != batch.version:
            return Stale()
        needed = batch.fields()
        loads = {name: batch.loads[name] for name in needed if name in batch.loads}
        values = loads | counters.values
        if counting:
            counters.values = values
        missing = frozenset(name for name in needed if name not in values)
        if missing:
            return Missing(missing)
        watched = {name: values[name] for name in batch.watch}
        decisions, deltas = decide_batch(batch, {name: values[name] for name in needed})
        keys = tuple(
            event.key
            for event, decision in zip(batch.events, decisions, strict=True)
            if isinstance(decision, Accepted) and event.key is not None
        )
        if counting:
            for name, delta in deltas.items():
                counters.values[name] += delta
            if batch.advance and any(isinstance(d, Accepted) for d in decisions):
                counters.version += 1
        reservation = Reservation(
            batch.organization_id, counters.generation, deltas, keys
        )
        return Reserved(decisions, watched, reservation)

    async def rebuild(self, organization_id: str, version: int) -> None:
        self._orgs[organization_id] = _Counters(version, uuid.uuid4().hex)

    async def release(self, reservations: Sequence[Reservation]) -> None:
        # The version may have moved with the reservation: forget, rebuild from SQL.
        for reservation in reservations:
            counters = self._orgs.get(reservation.organization_id)
            if counters is not None and counters.generation == reservation.generation:
                del self._orgs[reservation.organization_id]

    async def settle(self, reservations: Sequence[Reservation]) -> None:
        return None

    async def invalidate(self, organization_ids: Sequence[str]) -> None:
        for organization_id in organization_ids:
            self._orgs.pop(organization_id, None)

    async def values(
        self, organization_id: str, fields: Sequence[str]
    ) -> dict[str, Decimal | None]:
        counters = self._orgs.get(organization_id)
        held = {} if counters is None else counters.values
        return {name: held.get(name) for name in fields}

    async def probe(self) -> str:
        return self._mode

    async def aclose(self) -> None:
        return None
