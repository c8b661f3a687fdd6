"""Rendered answers kept per process while provably current.

An entry is an answer's `data`, already encoded as JSON, with the write
generations (`store.generations`) read before it was computed and when it was
computed. It is served again only to the same request (the schema extension's
key: caller, document, operation, variables) while those generations have not
moved and it is younger than `max_age_seconds`. The age bounds what no
generation records: the clock on a live page (`avgPerDay`, `daysRemaining`), a
row changed by hand, a generation move lost while Redis was unreachable.

The entries of a process are a bounded LRU; nothing is shared between processes
but the generations.

An answer past half its age is computed again by the first request that finds it
(refresh ahead), while the requests arriving meanwhile are still served the kept
one: under load nobody waits for a page to be computed, but for that one request
(and all of them when an answer expires or the generations move).

Misses share one computation (`flight`): requests for the same key at the same
generations that arrive while it is being answered wait for that answer instead
of computing it again. Under load that is what keeps a page computed once: 32
concurrent misses each computing the page took seconds, longer than the maximum
age, so nothing computed was ever served. A flight's stamp is its generations, so
a request that saw a later write never waits for an answer from before it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import orjson

from store.generations import Generations, Stamp


@dataclass(slots=True)
class _Entry:
    stamp: Stamp
    born: float
    data: orjson.Fragment


class ResponseCache:
    """One process's answers (see the module docstring)."""

    def __init__(
        self,
        generations: Generations,
        max_age_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.generations = generations
        self.max_age_seconds = max_age_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._flights: dict[
            tuple[Hashable, Stamp], asyncio.Future[orjson.Fragment | None]
        ] = {}

    def get(self, key: Hashable, stamp: Stamp) -> orjson.Fragment | None:
        """The answer kept for `key` if it is still current at `stamp`; None also
        when it is past half its age and nobody is computing it again yet: the
        caller then does (`flight`), while the others are still served this one."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        age = self.clock() - entry.born
        if entry.stamp != stamp or age >= self.max_age_seconds:
            del self._entries[key]
            return None
        if age >= self.max_age_seconds / 2 and (key, stamp) not in self._flights:
            return None
        self._entries.move_to_end(key)
        return entry.data

    def _store(self, key: Hashable, entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def joined(self, key: Hashable, stamp: Stamp) -> orjson.Fragment | None:
        """The answer of a computation of `key` at `stamp` already under way (None:
        none is, or it ended without an answer to keep)."""
        flight = self._flights.get((key, stamp))
        if flight is None:
            return None
        return await asyncio.shield(flight)

    @asynccontextmanager
    async def flight(
        self, key: Hashable, stamp: Stamp
    ) -> AsyncIterator[Callable[[object], None]]:
        """Computing `key` at `stamp`: others asking meanwhile wait for it. The
        caller hands its answer to the function it is given (`keep`), or nothing
        when there is none to keep."""
        done: asyncio.Future[orjson.Fragment | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._flights[(key, stamp)] = done
        born = self.clock()

        def keep(data: object) -> None:
            entry = _Entry(stamp, born, orjson.Fragment(orjson.dumps(data)))
            self._store(key, entry)
            if not done.done():
                done.set_result(entry.data)

        try:
            yield keep
        finally:
            if self._flights.get((key, stamp)) is done:
                del self._flights[(key, stamp)]
            if not done.done():
                done.set_result(None)

    def clear(self) -> None:
        """Forget everything (a generation move this process could not make)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
