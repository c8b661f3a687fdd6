"""The counter scripts and the language they speak: a batch compiled into the JSON the
reserve script reads, and the script's answer read back into decisions and deltas.

Apart from `store.counters.redis` (which holds the connection, the leases and the
fallback to SQL) because this part is pure: it turns plans into numbers and numbers
into decisions, without a connection.

The script compares and adds only; the thresholds come from the Python rules here, in
`compile_payload`. When an event's credits fall inside its free allowance (a product
of two amounts), the script pauses and `RedisCounterStore.reserve` asks again with the
credits `rules.credits.event_credits` gives for that usage. Amounts travel as integer
counts of micro-units (`micros`, `from_micros`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Context, Decimal
from pathlib import Path
from typing import Any

import orjson

from rules.credits import Draw, PoolState, draw_order, event_credits
from rules.meters import cap_for
from store.counters import (
    Accepted,
    Batch,
    Cap,
    Decision,
    Denied,
    Duplicate,
    EventPlan,
    Pool,
)

_HERE = Path(__file__).parent
_AMOUNTS = (_HERE / "amounts.lua").read_text()
RESERVE_SCRIPT = _AMOUNTS + (_HERE / "reserve.lua").read_text()
RELEASE_SCRIPT = _AMOUNTS + (_HERE / "release.lua").read_text()
RENEW_SCRIPT = (_HERE / "renew.lua").read_text()

_WIDE = Context(prec=80)


def micros(amount: Decimal) -> str:
    """An amount of six places as its integer count of micro-units."""
    return str(int(amount.scaleb(6, _WIDE)))


def _floor_micros(amount: Decimal) -> str:
    return str(int(amount.scaleb(6, _WIDE).to_integral_value(ROUND_FLOOR, _WIDE)))


def from_micros(value: str) -> Decimal:
    return Decimal(value).scaleb(-6, _WIDE)


@dataclass
class Payload:
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


def compile_payload(batch: Batch) -> Payload:
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
    return Payload(names, templates, events, pool_sets, ordered)


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


def decisions_of(runs: list[list[Any]], payload: Payload) -> list[Decision]:
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
            Draw(pools[j].kind, pools[j].grant_id, from_micros(amount))
            for j, amount in (raw[3] or [])
        )
        return Accepted(from_micros(raw[1]), from_micros(raw[2]), draws)
    if raw[0] == "d":
        return Duplicate()
    return Denied(int(raw[1]), from_micros(raw[2]), from_micros(raw[3]))


_EXACT_BELOW = Decimal(10) ** 20
"""Sums of amounts of at most six places stay below 26 digits under this bound, so
the default context (28 digits) adds and multiplies them exactly, in any order."""


def deltas_of(batch: Batch, decisions: list[Decision]) -> dict[str, Decimal]:
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
