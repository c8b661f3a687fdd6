"""Operators' provisioning and admins' seat changes: one transaction per mutation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.context import Info
from schema.types.common import UserError
from store.catalog_cache import announce_change, local_generation
from store.errors import Rejected

T = TypeVar("T")


async def apply_change(
    info: Info, change: Callable[[AsyncSession], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run `change` and commit, or return its user errors with nothing written."""
    generation = local_generation()
    # The write takes a connection of its own: the request's reads give theirs back.
    await info.context.release_reads()
    async with info.context.sessions() as session:
        try:
            result = await change(session)
        except Rejected as rejected:
            await session.rollback()
            return None, [
                UserError(field=error.field, code=error.code, message=error.message)
                for error in rejected.errors
            ]
        await session.commit()
    if local_generation() != generation:
        cache = info.context.catalog_cache
        await announce_change(None if cache is None else cache.redis)
    return result, []
