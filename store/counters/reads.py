"""Reading the hot counters for the usage page: the current cycle without SQL sums.

The counters that usage decisions keep (`store.counters`) already hold what the page
shows for the current cycle: each meter's usage in the cycle (or ever, on cumulative
meters), the MONTHLY pool and every grant's spending. `read_counters` answers from
them when they are built at the organization's `counters_version`, and fills the
fields they lack from SQL first, under the same rule as a decision's load: a field
is set only where still absent, in the generation it was found missing in.

A load runs under the organization's shared row lock, like a writer's: a rebuild
(exclusive lock) cannot start a new generation between the SQL read and the load, so
an absent field has seen no reservation and SQL holds all of its events. Counters
built at another version, or gone (restart, eviction, first use), are rebuilt first
under the exclusive lock, as before a decision; readers that found them stale
together queue on that lock, and each asks the counters again once it holds it, so
only the first rebuilds. Unreachable counters answer None: the caller reads SQL
instead.

Counters count an event from its reservation, a few milliseconds before its commit
(and take it back if the commit fails), and count events stamped up to five minutes
ahead of the gateway's clock: a live page shows everything accepted so far.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from store.counters import (
    Batch,
    CounterStore,
    CountersUnavailable,
    Missing,
    Reserved,
    Stale,
)
from store.db import SessionFactory
from store.usage_loads import FieldSource, load_fields, load_orgs


@dataclass(frozen=True)
class CounterRead:
    """One organization's fields, read at the `counters_version` the caller saw."""

    organization_id: str
    version: int
    sources: tuple[tuple[str, FieldSource], ...]
    """(field, where SQL holds it) for every field wanted."""

    @property
    def fields(self) -> list[str]:
        return [name for name, _ in self.sources]


async def read_counters(
    sessions: SessionFactory, store: CounterStore, reads: Sequence[CounterRead]
) -> list[dict[str, Decimal] | None]:
    """Each read's values, or None where the counters cannot answer it.

    One script call per organization (concurrently). Fields found missing are loaded
    for every organization at once (one transaction, a few statements); counters
    built at another version, or gone (restart, eviction, first use), are rebuilt
    first, as a decision would, under the organization's exclusive row lock.
    """
    answers = await asyncio.gather(*(_check(store, read) for read in reads))
    found: list[dict[str, Decimal] | None] = []
    pending: dict[int, frozenset[str] | None] = {}
    for position, answer in enumerate(answers):
        if isinstance(answer, dict):
            found.append(answer)
            continue
        found.append(None)
        if isinstance(answer, Missing):
            pending[position] = answer.fields
        elif isinstance(answer, Stale):
            pending[position] = None
    if pending:
        loaded = await _load(
            sessions, store, [(reads[p], f) for p, f in pending.items()]
        )
        for position, values in zip(pending, loaded, strict=True):
            found[position] = values
    return found


async def _check(
    store: CounterStore, read: CounterRead
) -> dict[str, Decimal] | Missing | Stale | None:
    batch = Batch(read.organization_id, read.version, (), watch=read.fields)
    try:
        outcome = await store.check(batch)
    except CountersUnavailable:
        return None
    if isinstance(outcome, Reserved):
        return outcome.values
    if isinstance(outcome, Missing | Stale):
        return outcome
    return None


async def _rebuild_if_stale(store: CounterStore, read: CounterRead) -> frozenset[str]:
    """Under the exclusive lock: rebuild the counters unless a caller that held the
    lock before us already did (readers of cold counters queue on that lock; only
    the first rebuilds); the fields still to load."""
    answer = await _check(store, read)
    if isinstance(answer, dict):
        return frozenset()
    if isinstance(answer, Missing):
        return answer.fields
    if answer is None:
        raise CountersUnavailable("the counters stopped answering")
    await store.rebuild(read.organization_id, read.version)
    return frozenset(read.fields)


async def _load(
    sessions: SessionFactory,
    store: CounterStore,
    pending: list[tuple[CounterRead, frozenset[str] | None]],
) -> list[dict[str, Decimal] | None]:
    """Rebuild what is stale (`None` fields), load what is missing, then read."""
    rebuild = any(fields is None for _, fields in pending)
    try:
        async with sessions() as session, session.begin():
            orgs = await load_orgs(
                session,
                sorted({read.organization_id for read, _ in pending}),
                lock="update" if rebuild else "share",
            )
            current = [
                (read, fields)
                for read, fields in pending
                if (org := orgs.get(read.organization_id)) is not None
                and org.version == read.version
            ]
            wanted: dict[str, dict[str, FieldSource]] = {}
            for read, fields in current:
                if fields is None:
                    fields = await _rebuild_if_stale(store, read)
                sources = dict(read.sources)
                wanted.setdefault(read.organization_id, {}).update(
                    {name: sources[name] for name in fields}
                )
            values = await load_fields(session, wanted) if wanted else {}
            batches = [
                Batch(
                    read.organization_id,
                    read.version,
                    (),
                    loads=values.get(read.organization_id, {}),
                    watch=read.fields,
                )
                for read, _ in current
            ]
            outcomes = await store.reserve(batches) if batches else []
    except CountersUnavailable:
        return [None for _ in pending]
    answered = {
        read: outcome.values
        for (read, _), outcome in zip(current, outcomes, strict=True)
        if isinstance(outcome, Reserved)
    }
    return [answered.get(read) for read, _ in pending]
