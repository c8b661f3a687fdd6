"""The Starlette application: GraphQL and GraphiQL at /graphql, health endpoints."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.unset import UnsetType

from auth.identity import identify
from auth.rate_limit import (
    MemoryRateLimiter,
    PerKindRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)
from auth.tokens import InvalidToken
from gateway import graphiql, graphql_http, usage_page
from gateway.access_log import AccessLog
from gateway.body_limit import BodySizeLimit
from gateway.http_subscriptions import refuse_plain_subscription
from gateway.metrics_endpoint import mark_process_dead, metrics_endpoint
from gateway.persisted_queries import PersistedQueries, open_persisted_queries
from gateway.resources import database_answers, sampling
from gateway.settings import Settings
from gateway.tracing import Tracing, provider_from_environment, tracing_requested
from gateway.websocket_text import TextWebSocketAdapter
from resolvers.context import Context
from resolvers.websocket import authenticate
from rules.enums import ViewerKind
from schema import engine as schema_engine
from schema import schema
from schema.masking import with_codes
from schema.metrics import ACCESS
from store.api_keys import ActiveKeys
from store.catalog_cache import CatalogCache
from store.counters import CounterStore, open_counters
from store.db import SessionFactory, create_engine, session_factory
from store.generations import Generations
from store.live import LiveHub, create_hub
from store.metrics import set_enabled as set_metrics_enabled
from store.redis_client import redis_client
from store.response_cache import ResponseCache

log = logging.getLogger("usage_gateway")

Clock = Callable[[], datetime]
SUBSCRIPTION_PROTOCOLS = (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our typed context: identity resolved per request."""

    websocket_adapter_class = TextWebSocketAdapter

    def __init__(
        self,
        sessions: SessionFactory,
        settings: Settings,
        clock: Clock,
        rate_limiter: RateLimiter,
        live_hub: LiveHub | None = None,
        counters: CounterStore | None = None,
        catalog_cache: CatalogCache | None = None,
        generations: Generations | None = None,
        response_cache: ResponseCache | None = None,
        persisted_queries: PersistedQueries | None = None,
    ) -> None:
        # Identity is never ambient (no cookies): a page on another origin must still
        # present a token, so any origin may open the websocket (an editor's webview
        # has an origin of its own).
        # Subscriptions: graphql-transport-ws (and the legacy graphql-ws) on the
        # websocket, Apollo's multipart/mixed over HTTP.
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allowed_origins=["*"],
            subscription_protocols=SUBSCRIPTION_PROTOCOLS,
        )
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.rate_limiter = rate_limiter
        self.live_hub = live_hub
        self.counters = counters
        self.catalog_cache = catalog_cache
        self.generations = generations
        self.response_cache = response_cache
        self.persisted_queries = persisted_queries
        self.keys = None if generations is None else ActiveKeys(generations)
        self.token_lifetime = timedelta(seconds=settings.jwt_max_lifetime_seconds)
        self.graphiql_page = graphiql.render_page(settings.graphiql_headers)

    @property
    def graphql_ide_html(self) -> str:
        """Our GraphiQL page (`gateway.graphiql`) instead of Strawberry's, which
        loads its assets from a CDN and so never renders offline."""
        return self.graphiql_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, with its request errors (HTTPException) as JSON in the
        negotiated media type instead of plain text (`gateway.graphql_http`)."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = graphql_http.request_error(
                error.status_code, error.reason, request.headers.get("accept")
            )
        await response(scope, receive, send)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """Carries the negotiated media type to `create_response`."""
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = graphql_http.negotiate(request.headers.get("accept"))
        return sub_response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if "application/json" in content_type:
                graphql_http.refuse_non_object(await request.get_body())
        return await super().parse_http_body(request)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        now = self.clock()
        identity, auth_error = None, None
        try:
            identity = await identify(
                request.headers.get("authorization"),
                self.sessions,
                self.settings.jwt_secret,
                now,
                self.keys,
                self.token_lifetime,
            )
        except InvalidToken as error:
            auth_error = str(error)
        record = ACCESS.get()
        if record is not None:
            record.caller = "anonymous" if identity is None else identity.kind.value
        return Context(
            request=request,
            response=response,
            sessions=self.sessions,
            jwt_secret=self.settings.jwt_secret,
            jwt_max_lifetime=self.token_lifetime,
            now=now,
            identity=identity,
            auth_error=auth_error,
            rate_limiter=self.rate_limiter,
            live=self.live_hub,
            clock=self.clock,
            counters=self.counters,
            catalog_cache=self.catalog_cache,
            generations=self.generations,
            keys=self.keys,
            response_cache=self.response_cache,
            introspection=self.settings.introspection,
            # One read session per HTTP request, closed in `execute_operation`; a
            # websocket outlives any one read and takes a session per batch.
            one_session=not isinstance(request, WebSocket),
        )

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """Runs the operation, then returns the request's read session to the pool
        (every field is resolved by then; encoding the result reads nothing; a
        subscription streamed over HTTP reads afresh and releases its own)."""
        try:
            if isinstance(request_data, GraphQLRequestData):
                if self.persisted_queries is not None:
                    resolved = await self.persisted_queries.resolve(
                        request_data, context.identity
                    )
                    if isinstance(resolved, GraphQLError):
                        return ExecutionResult(data=None, errors=[resolved])
                    request_data = resolved
                refuse_plain_subscription(request_data)
            return await super().execute_operation(
                request,
                request_adapter,
                request_data,
                context,
                root_value,
                sub_response,
            )
        finally:
            await context.close()
            if context.rate_limit is not None:
                sub_response.headers.update(
                    graphql_http.rate_limit_headers(context.rate_limit)
                )
            record = ACCESS.get()
            if record is not None and context.touched_organizations:
                record.organization = ",".join(sorted(context.touched_organizations))[
                    :200
                ]

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """A GET carrying only a persisted query's hash is a query, not a visit."""
        return (
            "extensions" not in request.query_params
            and super().should_render_graphql_ide(request)
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object]:
        """graphql-transport-ws connection_init: its payload carries the token. Bad
        credentials close the socket with 4403 (the protocol's refusal); no token
        at all is acknowledged, and each subscription then says UNAUTHENTICATED."""
        await authenticate(context)
        if context.auth_error is not None:
            raise ConnectionRejectionError()
        return UnsetType()  # acknowledged without a payload

    def encode_json(self, data: object) -> bytes:
        # orjson: ~13x faster than json.dumps on a usage page here (stack baseline).
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = with_codes(list(result.errors))
        response = await super().process_result(request, result)
        return graphql_http.shaped(response, result, request.headers.get("accept"))

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        graphql_http.finish(
            response,
            response_data,
            sub_response.media_type or graphql_http.APPLICATION_JSON,
        )
        return response


def create_app(
    settings: Settings, clock: Clock = utc_now, tracing: Tracing | None = None
) -> Starlette:
    """The gateway's app. `tracing`: instrument with this provider (tests); by
    default, the one the `OTEL_*` environment asks for, if any."""
    # A fast path switched on that no longer applies stops start-up here.
    schema_engine.check()
    engine = create_engine(settings.database_url)
    set_metrics_enabled(settings.metrics)
    if tracing is None and tracing_requested():
        tracing = Tracing(provider_from_environment())
    if tracing is not None:
        tracing.instrument(engine)
    sessions = session_factory(engine)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks: dict[str, Any] = {}
        checks["database"] = "ok" if await database_answers(engine) else "unreachable"
        checks["redis"] = await _redis_status(settings.redis_url)
        # What decides usage now: redis, sql-fallback (Redis unreachable) or in-process.
        mode = await counters.probe()
        # SQL is the truth and the fallback: without the database nothing can be
        # answered, so not ready; without Redis every request is still answered
        # exactly (decisions from SQL, no response cache, live ticks within this
        # process), so ready but degraded: taking such a process out of the load
        # balancer would only move its traffic onto others with the same outage.
        ready = checks["database"] == "ok"
        degraded = checks["redis"] == "unreachable"
        status = "not ready" if not ready else "degraded" if degraded else "ready"
        return JSONResponse(
            {"status": status, **checks, "counters": mode},
            status_code=200 if ready else 503,
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with sampling(engine, counters):
            yield
        mark_process_dead()
        if tracing is not None:
            tracing.uninstrument()
        await live_hub.close()
        await counters.aclose()
        await engine.dispose()
        if redis is not None:
            await redis.aclose()

    redis = None if settings.redis_url is None else redis_client(settings.redis_url)
    live_hub = create_hub(redis)
    counters = open_counters(settings.redis_url)
    generations = None if redis is None else Generations(redis)
    response_cache = (
        None
        if generations is None or settings.response_cache_seconds == 0
        else ResponseCache(
            generations,
            settings.response_cache_seconds,
            settings.response_cache_entries,
        )
    )
    graphql = GatewayGraphQL(
        sessions,
        settings,
        clock,
        _rate_limiter(settings, redis),
        live_hub,
        counters,
        CatalogCache(redis),
        generations,
        response_cache,
        open_persisted_queries(settings, redis),
    )
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *(
                [Route("/metrics", metrics_endpoint(settings.metrics_token))]
                if settings.metrics
                else []
            ),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Mount(
                graphiql.STATIC_PATH,
                StaticFiles(directory=graphiql.STATIC_DIRECTORY),
                name="graphiql",
            ),
            Route("/usage", usage_page.endpoint(settings.usage_page_identities)),
            Mount(
                usage_page.STATIC_PATH,
                StaticFiles(directory=usage_page.STATIC_DIRECTORY),
                name="usage",
            ),
        ],
        lifespan=lifespan,
        middleware=[
            *([] if tracing is None else [tracing.middleware()]),
            Middleware(AccessLog, log_requests=settings.access_log),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        ],
    )
    app.state.engine = engine
    app.state.redis = redis
    app.state.live = live_hub
    app.state.counters = counters
    app.state.sessions = sessions
    app.state.response_cache = response_cache
    return app


def _rate_limiter(settings: Settings, redis: Redis | None) -> RateLimiter:
    def bucket(burst: int, per_second: float) -> RateLimiter:
        if redis is None:
            return MemoryRateLimiter(burst, per_second)
        return RedisRateLimiter(redis, burst, per_second)

    return PerKindRateLimiter(
        bucket(settings.rate_limit_burst, settings.rate_limit_per_second),
        {
            ViewerKind.SERVICE.value: bucket(
                settings.rate_limit_service_burst,
                settings.rate_limit_service_per_second,
            )
        },
    )


async def _redis_status(url: str | None) -> str:
    if url is None:
        return "not configured"
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        await client.ping()
        return "ok"
    except Exception:
        return "unreachable"
    finally:
        await client.aclose()
