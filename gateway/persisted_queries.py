"""Persisted queries: Apollo's automatic persisted queries and trusted documents.

A request may carry `extensions.persistedQuery = {version: 1, sha256Hash}` (the
sha256 hex of the exact query text, Apollo's convention), over POST or GET:

- hash only: the document is the registered one (`operations/*.graphql`, the
  contract's, by the hash of each file's text) or one an earlier request persisted
  (`store.persisted_queries`); else PERSISTED_QUERY_NOT_FOUND, and Apollo's
  PersistedQueryLink sends the document with the hash;
- hash and document: the hash must be the document's (BAD_USER_INPUT otherwise);
  the document is persisted for the next hash-only request.

With `USAGE_GATEWAY_TRUSTED_DOCUMENTS_ONLY`, API keys (mobile builds, partners,
services) may send only the registered documents, by hash or in full: an unknown
hash is PERSISTED_QUERY_NOT_IN_LIST, any other document QUERY_NOT_IN_LIST, and
nothing they send is persisted. Users' tokens are not restricted (web and GraphiQL).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from graphql import GraphQLError
from redis.asyncio import Redis
from strawberry.http import GraphQLRequestData

from auth.identity import Identity
from gateway.settings import Settings
from schema.errors import (
    BadPersistedQuery,
    PersistedQueryNotFound,
    PersistedQueryNotInList,
    QueryNotInList,
)
from store.persisted_queries import DocumentStore, MemoryDocuments, RedisDocuments

OPERATIONS = Path(__file__).resolve().parents[1] / "operations"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def registered_documents(folder: Path = OPERATIONS) -> dict[str, str]:
    """The trusted documents by hash: each `*.graphql` file's exact text."""
    documents: dict[str, str] = {}
    for path in sorted(folder.glob("*.graphql")):
        # Bytes, not text mode: a file's hash is of what a client bundles, `\r\n`
        # and all.
        text = path.read_bytes().decode()
        documents[sha256_hex(text)] = text
    return documents


class PersistedQueries:
    """Resolves a request's persisted query before it executes."""

    def __init__(
        self,
        store: DocumentStore,
        registry: Mapping[str, str],
        trusted_documents_only: bool,
    ) -> None:
        self.store = store
        self.registry = registry
        self.trusted_documents_only = trusted_documents_only

    async def resolve(
        self, data: GraphQLRequestData, identity: Identity | None
    ) -> GraphQLRequestData | GraphQLError:
        """The request with its document, or the error that answers it."""
        restricted = (
            self.trusted_documents_only
            and identity is not None
            and not identity.is_user
        )
        extension = (data.extensions or {}).get("persistedQuery")
        if extension is None:
            if (
                restricted
                and data.query is not None
                and sha256_hex(data.query) not in self.registry
            ):
                return QueryNotInList(
                    "this API key may send only the registered documents"
                )
            return data
        digest = _hash_of(extension)
        if digest is None:
            return BadPersistedQuery(
                "extensions.persistedQuery needs version 1 and a sha256Hash "
                "(64 hex digits)"
            )
        if data.query is None:
            document = self.registry.get(digest)
            if document is None and not restricted:
                document = await self.store.get(digest)
            if document is not None:
                return replace(data, query=document)
            if restricted:
                return PersistedQueryNotInList(
                    "this API key may send only the registered documents"
                )
            return PersistedQueryNotFound()
        if sha256_hex(data.query) != digest:
            return BadPersistedQuery("provided sha does not match query")
        if digest not in self.registry:
            if restricted:
                return QueryNotInList(
                    "this API key may send only the registered documents"
                )
            await self.store.put(digest, data.query)
        return data


def _hash_of(extension: object) -> str | None:
    if not isinstance(extension, dict) or extension.get("version") != 1:
        return None
    digest = extension.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest.lower()):
        return None
    return digest.lower()


def open_persisted_queries(settings: Settings, redis: Redis | None) -> PersistedQueries:
    """The registry of `operations/`, and persisted queries in Redis when it is
    configured (shared by every gateway), else in this process."""
    store: DocumentStore = (
        MemoryDocuments(settings.persisted_queries_entries)
        if redis is None
        else RedisDocuments(
            redis,
            settings.persisted_queries_entries,
            settings.persisted_queries_ttl_seconds,
        )
    )
    return PersistedQueries(
        store, registered_documents(), settings.trusted_documents_only
    )
