"""One UsagePage is one trace: the server span continues the caller's
`traceparent`, and Strawberry's, SQLAlchemy's and Redis's spans hang below it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app
from gateway.settings import load_settings
from gateway.tracing import Tracing, tracing_requested
from schema import schema
from tests import factories as f
from tests.gateway_client import JWT_SECRET, operation

NOW = datetime.now(UTC)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


async def _seed(url: str) -> str:
    return await f.subscribed_with_operator(url, "org_traced", "100")


def test_tracing_is_off_unless_the_environment_asks() -> None:
    assert not tracing_requested({})
    assert not tracing_requested({"OTEL_SERVICE_NAME": "usage-gateway"})
    assert not tracing_requested(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
            "OTEL_SDK_DISABLED": "true",
        }
    )
    assert tracing_requested({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert tracing_requested({"OTEL_TRACES_EXPORTER": "console"})
    assert not tracing_requested({"OTEL_TRACES_EXPORTER": "none"})


async def test_one_usage_page_is_one_trace_with_sql_and_redis_spans(
    postgres_url: str, redis_url: str, exporter: InMemorySpanExporter
) -> None:
    secret = await _seed(postgres_url)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    extensions_before = schema.extensions
    settings = load_settings(
        database_url=postgres_url,
        redis_url=redis_url,
        jwt_secret=JWT_SECRET,
        response_cache_seconds=0,
    )
    app = create_app(settings, tracing=Tracing(provider))
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        app.router.lifespan_context(app),
    ):
        response = await client.post(
            "/graphql",
            json={"query": operation("usage_page"), "variables": {"org": "org_traced"}},
            headers={
                "Authorization": f"Bearer {secret}",
                "traceparent": TRACEPARENT,
                "X-Request-Id": "page-1",
            },
        )
    assert response.status_code == 200
    assert "errors" not in response.json()
    assert schema.extensions == extensions_before  # uninstrumented at shutdown

    # Background work (the resource sampler's `SELECT 1`, Redis pings) makes
    # traces of its own; everything of the request is in the caller's trace.
    finished = exporter.get_finished_spans()
    spans = [s for s in finished if format(s.context.trace_id, "032x") == TRACE_ID]
    others = [s for s in finished if s not in spans]
    names = [span.name for span in spans]
    sql = [s for s in spans if (s.attributes or {}).get("db.system") == "postgresql"]
    redis = [s for s in spans if (s.attributes or {}).get("db.system") == "redis"]
    server = [s for s in spans if s.name == "POST /graphql"]

    assert "GraphQL Query: UsagePage" in names
    assert "GraphQL Resolving: organization" in names
    assert len(server) == 1
    assert (server[0].attributes or {}).get("http.request_id") == "page-1"
    assert sql, names
    assert redis, names
    assert [s.name for s in others if s.name.startswith(("GraphQL", "POST"))] == []
