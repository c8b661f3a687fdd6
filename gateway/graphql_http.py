"""GraphQL over HTTP: media types, status codes and rate-limit headers.

Follows the GraphQL-over-HTTP draft. A client that accepts
`application/graphql-response+json` (at least as much as `application/json`) gets
that media type, and with it HTTP status codes that say what happened: 400 for a
request that never started executing (syntax, validation, variables, query
limits) with no `data` key, 500 when such a request failed on our side (INTERNAL),
429 when it was rate-limited. Everyone else (`application/json`, `*/*`, no Accept
header) gets `application/json` with 200 for every well-formed request, as the
draft asks during its watershed, except rate limits: 429 whatever the media type,
since HTTP clients and proxies back off on the status, not on the body.

Rate limits are told in the IETF draft's fields (draft-ietf-httpapi-ratelimit-
headers-10, Structured Fields): `RateLimit-Policy: "caller";q=<burst>;w=<seconds to
refill it>` and `RateLimit: "caller";r=<requests left>;t=<seconds until the bucket
is full>`, on every GraphQL response over HTTP that took a verdict, plus
`Retry-After` (seconds until one request is allowed) on a 429.

Request errors that Strawberry raises before any GraphQL (bad JSON, a body that is
not an object, a missing query, a mutation over GET, a body over the size limit)
answer with the negotiated media type and a JSON body `{"errors": [...]}` with
code BAD_USER_INPUT, never with a `data` key: nothing was executed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import orjson
from cross_web import HTTPException
from starlette.responses import Response
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from auth.rate_limit import Verdict
from rules.errors import BadUserInput, DomainError, RateLimited

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
CONTENT_TYPES = {
    GRAPHQL_RESPONSE_JSON: GRAPHQL_RESPONSE_JSON + "; charset=utf-8",
    APPLICATION_JSON: APPLICATION_JSON,
}
POLICY = "caller"
"""The name of our one quota policy: a token bucket per API key, user or address."""


@lru_cache(maxsize=256)
def negotiate(accept: str | None) -> str:
    """The response media type for an Accept header: graphql-response+json when it
    is accepted with a quality at least that of application/json (named, or through
    `application/*` or `*/*`), else application/json (also for an Accept naming
    neither: the draft lets the server disregard it rather than answer 406)."""
    if not accept:
        return APPLICATION_JSON
    graphql_response = 0.0
    exact_json: float | None = None
    wildcard_json = 0.0
    for media_type, quality in _ranges(accept):
        if media_type == GRAPHQL_RESPONSE_JSON:
            graphql_response = max(graphql_response, quality)
        elif media_type == APPLICATION_JSON:
            exact_json = max(exact_json or 0.0, quality)
        elif media_type in ("application/*", "*/*"):
            wildcard_json = max(wildcard_json, quality)
    json_quality = exact_json if exact_json is not None else wildcard_json
    if graphql_response > 0 and graphql_response >= json_quality:
        return GRAPHQL_RESPONSE_JSON
    return APPLICATION_JSON


def _ranges(accept: str) -> Iterable[tuple[str, float]]:
    for part in accept.split(","):
        media_type, *parameters = part.split(";")
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        yield media_type.strip().lower(), quality


def never_executed(result: ExecutionResult) -> bool:
    """True when the request stopped before execution: no data, and every error is
    about the request itself (no error has a path, which every field error has)."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def status_of(response: GraphQLHTTPResponse, media_type: str) -> int:
    """The HTTP status of a processed GraphQL result. Rate limits are 429 under
    every media type; other request errors change the status only under
    graphql-response+json, where `process_result` dropped their `data`."""
    errors = response.get("errors") or []
    if response.get("data") is not None or not errors:
        return 200
    formatted = [error for error in errors if isinstance(error, dict)]
    if any("path" in error for error in formatted):
        return 200  # execution started (a non-null root field failed)
    codes = {(error.get("extensions") or {}).get("code") for error in formatted}
    if RateLimited.code in codes:
        return 429
    if media_type != GRAPHQL_RESPONSE_JSON:
        return 200
    return 500 if DomainError.code in codes else 400


def shaped(
    response: GraphQLHTTPResponse, result: ExecutionResult, accept: str | None
) -> GraphQLHTTPResponse:
    """The draft, under graphql-response+json: no `data` entry when execution never
    started (application/json keeps its `"data": null`)."""
    if negotiate(accept) == GRAPHQL_RESPONSE_JSON and never_executed(result):
        response.pop("data", None)
    return response


def rate_limit_headers(verdict: Verdict) -> dict[str, str]:
    headers = {
        "RateLimit-Policy": (
            f'"{POLICY}";q={verdict.capacity};w={verdict.window_seconds}'
        ),
        "RateLimit": (f'"{POLICY}";r={verdict.remaining};t={verdict.reset_seconds}'),
    }
    if not verdict.allowed:
        headers["Retry-After"] = str(verdict.retry_after_seconds)
    return headers


def request_error_body(message: str) -> bytes:
    """What a request refused before GraphQL carries (nothing ran: no `data`)."""
    return orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": BadUserInput.code}}]}
    )


def request_error(status: int, message: str, accept: str | None) -> Response:
    return Response(
        request_error_body(message),
        status_code=status,
        headers={"Content-Type": CONTENT_TYPES[negotiate(accept)], "Vary": "Accept"},
    )


def refuse_non_object(body: bytes) -> None:
    """A JSON body must hold a request object (or a batch, which Strawberry refuses
    with its own 400): a bare `null`, number, string or boolean made Strawberry
    call `.get` on it (a 500). Invalid JSON is left to Strawberry's parser."""
    first = body.lstrip(b" \t\r\n")[:1]
    if first in (b"{", b"[") or not first:
        return
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return
    kind = (
        "null"
        if value is None
        else "a boolean"
        if isinstance(value, bool)
        else "a string"
        if isinstance(value, str)
        else "a number"
    )
    raise HTTPException(
        400, f"the request body must be a JSON object (a GraphQL request), not {kind}"
    )


def finish(response: Response, response_data: object, media_type: str) -> None:
    """A GraphQL response over HTTP: its status, content type and `Vary`."""
    if isinstance(response_data, dict):
        status = status_of(response_data, media_type)  # type: ignore[arg-type]
        if status != 200:
            response.status_code = status
    response.headers["content-type"] = CONTENT_TYPES[media_type]
    response.headers["vary"] = "Accept"
