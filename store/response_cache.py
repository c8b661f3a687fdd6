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
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
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

    def get(self, key: Hashable, stamp: Stamp) -> orjson.Fragment | None:
        """The answer kept for `key` if it is still current at `stamp`."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.stamp != stamp or self.clock() - entry.born >= self.max_age_seconds:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.data

    def put(self, key: Hashable, stamp: Stamp, born: float, data: object) -> None:
        """Keep `data` (computed from reads made after `stamp` was read, starting at
        `born` on this cache's clock)."""
        self._entries[key] = _Entry(stamp, born, orjson.Fragment(orjson.dumps(data)))
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (a generation move this process could not make)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
