"""Work that several resolvers of one request await together.

graphql-core 3.3 cancels the other pending fields of an object when one of its
non-null fields fails (`graphql.pyutils.gather_with_cancel`): the object is null
anyway. A resolver that awaits a future shared with other fields would pass that
cancellation on to the shared future (`Task.cancel` cancels what the task awaits),
and every other field waiting on it, elsewhere in the document, would then fail
with `CancelledError`, which no field catches: the whole request failed (HTTP 500).

So nothing shared is awaited directly. A loader hands each caller its own
`asyncio.shield` of the cached future (`SharedLoader.load`), and per-request work
(`Shared`: the request's catalog, an organization's basis) is awaited through a
shield as well: cancelling one awaiter cancels only that awaiter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class SharedLoader(DataLoader[K, V], Generic[K, V]):
    """A DataLoader whose futures survive the cancellation of any one awaiter.

    aiodataloader caches one future per key and hands that same future to every
    `load`; here each caller gets a shield of it. The batch itself runs in a task
    of its own that no resolver awaits, so it is never cancelled by one."""

    def load(self, key: K) -> asyncio.Future[V]:
        return asyncio.shield(super().load(key))

    def do_resolve_reject(self, key: K, future: asyncio.Future[V]) -> None:
        # Once its outer future is cancelled, a shield stops reading the inner
        # one: a key whose every awaiter was cancelled would log "Future exception
        # was never retrieved" when its batch fails. Its awaiters get the error.
        future.add_done_callback(_retrieved)
        super().do_resolve_reject(key, future)


class Shared(Generic[T]):
    """One computation, started on first `wait`, that many resolvers await.

    Each awaiter waits through its own shield. `abandon=True`: when every awaiter
    has been cancelled the computation is cancelled too (nobody wants it, and it
    must not go on reading after the request ends), and a later `wait` starts it
    again. `abandon=False` lets it finish (for work that must not be interrupted
    half-way, such as a statement on the request's shared session)."""

    def __init__(self, start: Callable[[], Awaitable[T]], *, abandon: bool) -> None:
        self._start = start
        self._abandon = abandon
        self._task: asyncio.Future[T] | None = None
        self._waiting = 0

    async def wait(self) -> T:
        task = self._task
        if task is None or task.cancelled():
            task = self._task = asyncio.ensure_future(self._start())
            task.add_done_callback(_retrieved)  # as in `SharedLoader`
        self._waiting += 1
        try:
            return await asyncio.shield(task)
        finally:
            self._waiting -= 1
            if self._abandon and not self._waiting and not task.done():
                task.cancel()


async def run_to_end(work: Awaitable[T]) -> T:
    """`work` in a task of its own that goes on when the caller is cancelled (a
    statement on a shared session must not stop half-way); a failure nobody waits
    for any more is read here."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(_retrieved)
    return await asyncio.shield(task)


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Marks what `future` ended with as read (its awaiters read it themselves)."""
    if not future.cancelled():
        future.exception()
