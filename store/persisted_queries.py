"""Automatic persisted queries: documents kept by their sha256, with a bound.

Apollo's APQ flow sends a hash first; a miss answers PERSISTED_QUERY_NOT_FOUND and
the client sends the document with the hash, which is kept here. Anyone may
register a document (the hash proves only that the text matches it), so both
stores are bounded: at most `max_entries` documents, each at most
`MAX_DOCUMENT_BYTES`.

- In process (no Redis): an LRU of `max_entries` documents.
- Redis (shared by every gateway): one key per document, expiring `ttl_seconds`
  after it was last used, plus a sorted set by last use; a registration that
  takes the set past `max_entries` drops the least recently used documents in the
  same script. Keys carry one hash tag so the script runs on one cluster slot.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

from redis.asyncio import Redis

MAX_DOCUMENT_BYTES = 64 * 1024
"""Far above the contract's largest document (the UsagePage, about 4 KB)."""

_DOCUMENT = "ug:{apq}:doc:"
_INDEX = "ug:{apq}:index"

_PUT = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if excess > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[2], excess)
  for i = 1, #oldest, 2 do
    redis.call('DEL', ARGV[6] .. oldest[i])
  end
end
return 1
"""


class DocumentStore(Protocol):
    """Where registered documents are kept, by sha256 hex."""

    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, document: str) -> None: ...


class MemoryDocuments:
    """One process's documents: an LRU of `max_entries`."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def get(self, sha256: str) -> str | None:
        document = self._documents.get(sha256)
        if document is not None:
            self._documents.move_to_end(sha256)
        return document

    async def put(self, sha256: str, document: str) -> None:
        if len(document.encode()) > MAX_DOCUMENT_BYTES:
            return
        self._documents[sha256] = document
        self._documents.move_to_end(sha256)
        while len(self._documents) > self.max_entries:
            self._documents.popitem(last=False)


class RedisDocuments:
    """Documents shared by every gateway on the Redis (see the module docstring)."""

    def __init__(self, redis: Redis, max_entries: int, ttl_seconds: int) -> None:
        self.redis = redis
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._put = redis.register_script(_PUT)

    async def get(self, sha256: str) -> str | None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.getex(_DOCUMENT + sha256, ex=self.ttl_seconds)
            pipe.zadd(_INDEX, {sha256: time.time()}, xx=True)
            document, _ = await pipe.execute()
        if document is None:
            return None
        return document.decode() if isinstance(document, bytes) else str(document)

    async def put(self, sha256: str, document: str) -> None:
        if len(document.encode()) > MAX_DOCUMENT_BYTES:
            return
        await self._put(
            keys=[_DOCUMENT + sha256, _INDEX],
            args=[
                document,
                self.ttl_seconds,
                time.time(),
                sha256,
                self.max_entries,
                _DOCUMENT,
            ],
        )
