"""Persisted queries: Apollo's APQ flow over POST and GET (in process, and shared
through Redis with a bound), the contract's documents registered by hash, and
trusted documents only for API keys."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from rules.enums import ApiKeyKind
from store.api_keys import create_api_key
from tests.gateway_client import Gateway, error_codes, gateway, operation, user_token
from tests.live_helpers import events, provision, record

METERS = operation("meters")


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def ad_hoc() -> str:
    """A document no test sent before (Redis is shared between runs)."""
    return f"query Adhoc{uuid.uuid4().hex} {{ viewer {{ kind }} }}"


async def post(
    api: Gateway, body: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await api.client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def get(api: Gateway, params: dict[str, str], token: str) -> httpx.Response:
    return await api.client.get(
        "/graphql",
        params=params,
        # curl's Accept: a hash-only GET is a query, not a visit to GraphiQL.
        headers={"Authorization": f"Bearer {token}", "Accept": "*/*"},
    )


async def api_key(api: Gateway, kind: ApiKeyKind, *orgs: str) -> str:
    assert api.app is not None
    async with api.app.state.sessions() as session:
        _, secret = await create_api_key(session, kind, "key", orgs, datetime.now(UTC))
        await session.commit()
    return secret


@asynccontextmanager
async def with_usage(
    database_url: str, **settings: Any
) -> AsyncIterator[tuple[Gateway, str, str]]:
    """A gateway, an operator key and an organization that used 7 emails."""
    async with gateway(database_url, **settings) as api:
        operator = await api_key(api, ApiKeyKind.OPERATOR)

        async def execute(
            document: str, variables: dict[str, Any], name: str | None = None
        ) -> dict[str, Any]:
            body = await api.execute(
                document, variables, token=operator, operation_name=name
            )
            assert "errors" not in body, body["errors"]
            return body

        org = f"apq_{uuid.uuid4().hex[:10]}"
        await provision(execute, org, limits=[{"meter": "email", "limit": "100"}])
        await record(execute, events(org, "email", "7"))
        yield api, operator, org


def email(body: dict[str, Any]) -> tuple[str, str, float]:
    assert "errors" not in body, body["errors"]
    [meter] = [m for m in body["data"]["organization"]["meters"] if m["key"] == "email"]
    return meter["used"], meter["limit"], meter["percent"]


async def test_apq_hash_first_then_the_document_then_the_hash_alone(
    sqlite_url: str,
) -> None:
    async with gateway(sqlite_url) as api:
        operator = await api_key(api, ApiKeyKind.OPERATOR)
        document = ad_hoc()
        digest = sha(document)

        first = await post(api, {"extensions": persisted(digest)}, operator)
        sent = await post(
            api, {"query": document, "extensions": persisted(digest)}, operator
        )
        again = await post(api, {"extensions": persisted(digest)}, operator)
        over_get = await get(
            api, {"extensions": json.dumps(persisted(digest))}, operator
        )
        wrong = await post(
            api, {"query": document, "extensions": persisted(sha("other"))}, operator
        )

    assert first["errors"][0]["message"] == "PersistedQueryNotFound"
    assert error_codes(first) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert sent["data"] == again["data"] == {"viewer": {"kind": "OPERATOR"}}
    assert over_get.status_code == 200, over_get.text
    assert over_get.json()["data"] == {"viewer": {"kind": "OPERATOR"}}
    assert error_codes(wrong) == ["BAD_USER_INPUT"]


async def test_the_contract_documents_are_registered_by_the_hash_of_their_text(
    sqlite_url: str,
) -> None:
    async with with_usage(sqlite_url) as (api, operator, org):
        body = {"extensions": persisted(sha(METERS)), "variables": {"org": org}}
        by_post = await post(api, body, operator)
        by_get = await get(
            api,
            {
                "extensions": json.dumps(persisted(sha(METERS))),
                "variables": json.dumps({"org": org}),
            },
            operator,
        )
        # A mutation is never run by GET, persisted or not.
        mutation = await get(
            api,
            {
                "extensions": json.dumps(persisted(sha(operation("record_usage")))),
                "variables": json.dumps({"events": events(org, "email", "1")}),
            },
            operator,
        )
        after = await post(api, body, operator)

    assert email(by_post) == ("7", "100", 7.0)
    assert by_get.status_code == 200, by_get.text
    assert email(by_get.json()) == ("7", "100", 7.0)
    assert mutation.status_code in (400, 405), mutation.text
    assert email(after) == ("7", "100", 7.0)


async def test_trusted_documents_only_holds_api_keys_to_the_registered_documents(
    sqlite_url: str,
) -> None:
    async with with_usage(sqlite_url, trusted_documents_only=True) as (
        api,
        _,
        org,
    ):
        service = await api_key(api, ApiKeyKind.SERVICE, org)
        by_hash = await post(
            api,
            {"extensions": persisted(sha(METERS)), "variables": {"org": org}},
            service,
        )
        in_full = await post(api, {"query": METERS, "variables": {"org": org}}, service)
        document = ad_hoc()
        unregistered = await post(api, {"query": document}, service)
        registering = await post(
            api, {"query": document, "extensions": persisted(sha(document))}, service
        )
        unknown_hash = await post(
            api, {"extensions": persisted(sha(document))}, service
        )
        # Users' tokens (the web app, GraphiQL) are not restricted.
        user = await post(api, {"query": "{ viewer { kind } }"}, user_token("ada"))

    assert email(by_hash) == email(in_full) == ("7", "100", 7.0)
    assert error_codes(unregistered) == ["QUERY_NOT_IN_LIST"]
    assert error_codes(registering) == ["QUERY_NOT_IN_LIST"]
    assert error_codes(unknown_hash) == ["PERSISTED_QUERY_NOT_IN_LIST"]
    assert user["data"] == {"viewer": {"kind": "USER"}}


@pytest.mark.redis
async def test_apq_in_redis_is_shared_by_gateways_and_bounded(
    sqlite_url: str, redis_url: str
) -> None:
    async with (
        gateway(sqlite_url, redis_url=redis_url, persisted_queries_entries=2) as one,
        gateway(
            sqlite_url,
            redis_url=redis_url,
            persisted_queries_entries=2,
            persisted_queries_ttl_seconds=600,
        ) as other,
    ):
        operator = await api_key(one, ApiKeyKind.OPERATOR)
        documents = [ad_hoc() for _ in range(3)]
        for document in documents:
            body = {"query": document, "extensions": persisted(sha(document))}
            assert "errors" not in await post(one, body, operator)
        found = [
            error_codes(await post(other, {"extensions": persisted(sha(d))}, operator))
            for d in documents
        ]
        client = Redis.from_url(redis_url)
        try:
            ttl = await client.ttl(f"ug:{{apq}}:doc:{sha(documents[2])}")
            kept = await client.zcard("ug:{apq}:index")
        finally:
            await client.aclose()

    # Two entries at most: the least recently used was dropped.
    assert found == [["PERSISTED_QUERY_NOT_FOUND"], [], []]
    assert kept == 2
    assert 0 < ttl <= 600  # read through `other`, whose TTL is 600 s
