"""The one DataLoader shape every loader shares."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.loaders.reads import Reads
from resolvers.loaders.shared import SharedLoader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")


class StoreLoader(SharedLoader[K, V], Generic[K, V]):
    """Loads a batch of keys through the request's reads (`reads.py`: its one
    session over HTTP); subclasses write `fetch`. Each `load` is shielded
    (`shared.py`): a cancelled field does not cancel the key for the others."""

    def __init__(self, reads: Reads) -> None:
        super().__init__()
        self.reads = reads

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V]:
        batch = list(keys)
        return await self.reads.run(lambda session: self.fetch(session, batch))

    async def fetch(self, session: AsyncSession, keys: list[K]) -> list[V]:
        raise NotImplementedError


def one_per_key(
    rows: Iterable[R], keys: Sequence[K], key_of: Callable[[R], K]
) -> list[R | None]:
    found = {key_of(row): row for row in rows}
    return [found.get(key) for key in keys]


def many_per_key(
    rows: Iterable[R], keys: Sequence[K], key_of: Callable[[R], K]
) -> list[list[R]]:
    grouped: dict[K, list[R]] = {key: [] for key in keys}
    for row in rows:
        grouped.setdefault(key_of(row), []).append(row)
    return [grouped[key] for key in keys]
