"""GraphQL over HTTP (gateway/graphql_http.py): the media type a client accepts, the
status codes that come with it, rate limits as HTTP 429 with their headers, and
request bodies no GraphQL request can be (a bare JSON value, a chunked body over the
limit) refused with a 4xx and a JSON error, never a 500."""

from __future__ import annotations

import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.app import create_app
from gateway.settings import load_settings
from tests.gateway_client import JWT_SECRET, user_token
from tests.processes import serve_env, start_gateway

GRAPHQL_RESPONSE = "application/graphql-response+json"
TOKEN = user_token("u1")


@asynccontextmanager
async def client(
    database_url: str, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    settings.setdefault("response_cache_seconds", 0)
    app = create_app(
        load_settings(database_url=database_url, jwt_secret=JWT_SECRET, **settings)
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
        app.router.lifespan_context(app),
    ):
        yield http


async def _post(
    http: httpx.AsyncClient,
    body: dict[str, Any],
    accept: str | None = GRAPHQL_RESPONSE,
    token: str = TOKEN,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if accept is not None:
        headers["Accept"] = accept
    return await http.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0, */*", "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        (None, "application/json"),
        ("text/plain", "application/json"),
    ],
)
async def test_the_response_has_the_media_type_the_client_prefers(
    sqlite_url: str, accept: str | None, media_type: str
) -> None:
    async with client(sqlite_url) as http:
        response = await _post(http, {"query": "{ __typename }"}, accept)

    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["vary"] == "Accept"
    assert response.json()["data"] == {"__typename": "Query"}


REQUEST_ERRORS: dict[str, dict[str, Any]] = {
    "syntax": {"query": "{"},
    "validation": {"query": "{ nope }"},
    "variables": {
        "query": "query ($id: ID!) { organization(id: $id) { id } }",
        "variables": {"id": None},
    },
    "query limits": {
        "query": "{ " + " ".join(f"a{n}: viewer {{ id }}" for n in range(31)) + " }"
    },
}


@pytest.mark.parametrize("case", sorted(REQUEST_ERRORS))
async def test_request_errors_are_400_without_data_under_graphql_response_json(
    sqlite_url: str, case: str
) -> None:
    async with client(sqlite_url) as http:
        response = await _post(http, REQUEST_ERRORS[case])

    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] in (
        ["BAD_USER_INPUT"],
        ["QUERY_TOO_COMPLEX"],
    )


@pytest.mark.parametrize("case", sorted(REQUEST_ERRORS))
async def test_legacy_application_json_keeps_200_and_data_null(
    sqlite_url: str, case: str
) -> None:
    async with client(sqlite_url) as http:
        response = await _post(http, REQUEST_ERRORS[case], accept="application/json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["data"] is None
    assert body["errors"]


async def test_a_field_error_is_still_200_with_data(sqlite_url: str) -> None:
    """Execution started: the draft's 2xx, whatever the media type."""
    async with client(sqlite_url) as http:
        response = await _post(http, {"query": '{ organization(id: "nope") { id } }'})

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"organization": None}
    assert [error["extensions"]["code"] for error in body["errors"]] == ["NOT_FOUND"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_a_rate_limited_request_is_429_with_retry_after_and_ratelimit(
    sqlite_url: str, accept: str
) -> None:
    async with client(
        sqlite_url, rate_limit_burst=2, rate_limit_per_second=0.5
    ) as http:
        responses = [
            await _post(http, {"query": "{ viewer { id } }"}, accept) for _ in range(3)
        ]

    assert [response.status_code for response in responses] == [200, 200, 429]
    first, _, refused = responses
    assert first.headers["ratelimit-policy"] == '"caller";q=2;w=4'
    assert first.headers["ratelimit"] == '"caller";r=1;t=2'
    assert "retry-after" not in first.headers
    assert refused.headers["ratelimit-policy"] == '"caller";q=2;w=4'
    assert refused.headers["ratelimit"] == '"caller";r=0;t=4'
    assert refused.headers["retry-after"] == "2"
    body = refused.json()
    assert body["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 2}
    # graphql-response+json: nothing executed, no data; application/json keeps null.
    assert ("data" in body) is (accept == "application/json")


async def test_rate_limit_headers_come_from_the_shared_redis_bucket(
    sqlite_url: str, redis_url: str
) -> None:
    caller = user_token(f"u-{uuid.uuid4().hex}")
    settings = {"rate_limit_burst": 2, "rate_limit_per_second": 0.5}
    async with (
        client(sqlite_url, redis_url=redis_url, **settings) as first,
        client(sqlite_url, redis_url=redis_url, **settings) as second,
    ):
        a = await _post(first, {"query": "{ viewer { id } }"}, token=caller)
        b = await _post(second, {"query": "{ viewer { id } }"}, token=caller)
        c = await _post(first, {"query": "{ viewer { id } }"}, token=caller)

    assert [response.status_code for response in (a, b, c)] == [200, 200, 429]
    assert a.headers["ratelimit"] == '"caller";r=1;t=2'
    assert c.headers["ratelimit"] == '"caller";r=0;t=4'
    assert c.headers["ratelimit-policy"] == '"caller";q=2;w=4'
    assert c.headers["retry-after"] == "2"


@pytest.mark.parametrize("value", [b"null", b"42", b'"query"', b"true", b" \n 3.5"])
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_a_body_that_is_a_bare_json_value_is_400(
    sqlite_url: str, value: bytes, accept: str
) -> None:
    async with client(sqlite_url) as http:
        response = await http.post(
            "/graphql",
            content=value,
            headers={"Content-Type": "application/json", "Accept": accept},
        )

    assert response.status_code == 400
    assert response.headers["content-type"].split(";")[0] == accept
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "must be a JSON object" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("POST", {"content": b'{ "not a JSON'}, "Unable to parse request body as JSON"),
        (
            "GET",
            {"params": {"query": "mutation { __typename }"}},
            "mutations are not allowed when using GET",
        ),
        ("POST", {"content": b'{"notquery": "{ __typename }"}'}, "No GraphQL query"),
    ],
)
async def test_other_request_errors_are_json_too(
    sqlite_url: str, method: str, kwargs: dict[str, Any], message: str
) -> None:
    async with client(sqlite_url) as http:
        response = await http.request(
            method,
            "/graphql",
            headers={"Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE},
            **kwargs,
        )

    assert response.status_code in (400, 405)
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body
    assert message.lower() in body["errors"][0]["message"].lower()


@pytest.fixture
def small_body_gateway(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    """A real `serve` process (uvicorn decodes the chunked body), limit 2 KiB."""
    env = serve_env(sqlite_url) | {"USAGE_GATEWAY_MAX_BODY_BYTES": "2048"}
    process, base = start_gateway(env, tmp_path, "small-body")
    try:
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except Exception:
            process.kill()
            process.wait()


def _chunks(body: bytes, size: int = 512) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_body_over_the_limit_is_413(small_body_gateway: str) -> None:
    body = orjson.dumps({"query": "{ __typename }", "padding": "x" * 8192})
    with httpx.Client(base_url=small_body_gateway) as http:
        response = http.post(
            "/graphql",
            content=_chunks(body),
            headers={"Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE},
        )

    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "over 2048 bytes" in error["message"]


def test_a_chunked_body_within_the_limit_is_answered(small_body_gateway: str) -> None:
    body = orjson.dumps({"query": "{ __typename }", "padding": "x" * 1500})
    with httpx.Client(base_url=small_body_gateway) as http:
        response = http.post(
            "/graphql",
            content=_chunks(body, 100),
            headers={"Content-Type": "application/json"},
        )

    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}
