"""Redis clients that count their round trips and failures for `/metrics`.

redis-py lets a pool make connections of a class of ours (`connection_class`, a
documented argument); ours counts each write to the socket, which is one round trip
for a command or a whole pipeline, and each failed one. Nothing is patched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import Connection, SSLConnection

from store.metrics import REDIS_ERRORS, REDIS_ROUND_TRIPS


class _Counting:
    """Counts round trips and their failures around the connection's own I/O."""

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        REDIS_ROUND_TRIPS.inc()
        try:
            await super().send_packed_command(command, check_health)  # type: ignore[misc]
        except BaseException:
            REDIS_ERRORS.inc()
            raise

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().read_response(*args, **kwargs)  # type: ignore[misc]
        except BaseException:
            REDIS_ERRORS.inc()
            raise


class CountingConnection(_Counting, Connection):
    """A TCP connection that counts (redis://)."""


class CountingSSLConnection(_Counting, SSLConnection):
    """A TLS connection that counts (rediss://)."""


def redis_client(url: str, **options: Any) -> Redis:
    """`Redis.from_url(url, **options)` whose connections count for `/metrics`
    (unix sockets keep redis-py's own class)."""
    if url.startswith("redis://"):
        options.setdefault("connection_class", CountingConnection)
    elif url.startswith("rediss://"):
        options.setdefault("connection_class", CountingSSLConnection)
    return Redis.from_url(url, **options)
