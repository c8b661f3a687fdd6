"""Reading the hot counters for the usage page: the current cycle without SQL sums.

The counters that usage decisions keep (`store.counters`) already hold what the page
shows for the current cycle: each meter's usage in the cycle (or ever, on cumulative
meters), the MONTHLY pool and every grant's spending. `read_counters` answers from
them when they are built at the organization's `counters_version`, and fills the
fields they lack from SQL first, under the same rule as a decision's load: a field
is set only where still absent, in the generation it was found missing in.

A load runs under the organization's shared row lock, like a writer's: a rebuild
(exclusive lock) cannot start a new generation between the SQL read and the load, so
an absent field has seen no reservation and SQL holds all of its events. Stale or
unreachable counters answer None: the caller reads SQL instead.

Counters count an event from its reservation, a few milliseconds before its commit
(and take it back if the commit fails), and count events stamped up to five minutes
ahead of the gateway's clock: a live page shows everything accepted so far.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from store.counters import Batch, CounterStore, CountersUnavailable, Missing, Reserved
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

    One script call per organization (concurrently); fields found missing are loaded
    for every organization at once (one transaction, at most three statements) and
    the organizations asked again.
    """
    answers = await asyncio.gather(*(_check(store, read) for read in reads))
    found: list[dict[str, Decimal] | None] = []
    missing: dict[int, frozenset[str]] = {}
    for position, answer in enumerate(answers):
        if isinstance(answer, Missing):
            missing[position] = answer.fields
            found.append(None)
        else:
            found.append(answer)
    if missing:
        loaded = await _load(sessions, store, [reads[p] for p in missing], missing)
        for position, values in zip(missing, loaded, strict=True):
            found[position] = values
    return found


async def _check(
    store: CounterStore, read: CounterRead
) -> dict[str, Decimal] | Missing | None:
    batch = Batch(read.organization_id, read.version, (), watch=read.fields)
    try:
        outcome = await store.check(batch)
    except CountersUnavailable:
        return None
    if isinstance(outcome, Reserved):
        return outcome.values
    if isinstance(outcome, Missing):
        return outcome
    return None


async def _load(
    sessions: SessionFactory,
    store: CounterStore,
    reads: list[CounterRead],
    missing: Mapping[int, frozenset[str]],
) -> list[dict[str, Decimal] | None]:
    async with sessions() as session, session.begin():
        orgs = await load_orgs(
            session, sorted({read.organization_id for read in reads}), lock="share"
        )
        current = [
            read
            for read in reads
            if (org := orgs.get(read.organization_id)) is not None
            and org.version == read.version
        ]
        wanted: dict[str, dict[str, FieldSource]] = {}
        for read, fields in zip(reads, missing.values(), strict=True):
            if read in current:
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
            for read in current
        ]
        try:
            outcomes = await store.reserve(batches) if batches else []
        except CountersUnavailable:
            return [None for _ in reads]
    answered = {
        read: outcome.values
        for read, outcome in zip(current, outcomes, strict=True)
        if isinstance(outcome, Reserved)
    }
    return [answered.get(read) for read in reads]
