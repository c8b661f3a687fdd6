"""OpenTelemetry traces, off unless the standard `OTEL_*` variables ask for them.

One request is one trace: the ASGI middleware opens the server span (continuing an
incoming `traceparent`), Strawberry's `OpenTelemetryExtension` adds the operation,
its parsing, validation and resolvers, and the maintained SQLAlchemy and Redis
instrumentations add each statement and each Redis call. The exporter is OTLP over
HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, ... as the SDK
reads them), or the console with `OTEL_TRACES_EXPORTER=console`.

Off, nothing is instrumented and no extension runs: the cost is zero, not a no-op
span per field.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware
from strawberry.extensions import SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension

from schema import schema

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_requested(environ: dict[str, str] | None = None) -> bool:
    """Whether the environment asks for traces (an exporter or an endpoint), the
    way the OpenTelemetry SDK's own configuration reads it."""
    environ = dict(os.environ) if environ is None else environ
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter) or any(environ.get(name) for name in _ENDPOINTS)


def provider_from_environment() -> TracerProvider:
    """The SDK's provider with the exporter the environment names, set globally."""
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": os.environ.get("OTEL_SERVICE_NAME", "usage-gateway")}
        )
    )
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        exporter: Any = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )

        exporter = OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


class Tracing:
    """What one app instruments with one provider, and undoes at shutdown."""

    def __init__(self, provider: trace.TracerProvider) -> None:
        self.provider = provider
        self._extension: Callable[[], SchemaExtension] | None = None
        self._engine: AsyncEngine | None = None

    def middleware(self) -> Middleware:
        """The outermost middleware: the server span of each request."""
        return Middleware(OpenTelemetryMiddleware, tracer_provider=self.provider)

    def instrument(self, engine: AsyncEngine) -> None:
        provider = self.provider
        # The instrumentation declares SQLAlchemy < 2.1; it hooks only the engine's
        # public cursor events, which 2.1 keeps (tests/gateway/test_tracing.py
        # checks the statement spans), so its version check is skipped.
        SQLAlchemyInstrumentor().instrument(
            engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True
        )
        self._engine = engine
        RedisInstrumentor().instrument(tracer_provider=provider)

        def extension() -> SchemaExtension:
            return OpenTelemetryExtension(tracer_provider=provider)

        self._extension = extension
        # The schema's extensions are a tuple Strawberry reads on every request:
        # tracing joins it only while configured.
        schema.extensions = (extension, *schema.extensions)

    def uninstrument(self) -> None:
        if self._extension is not None:
            schema.extensions = tuple(
                entry for entry in schema.extensions if entry is not self._extension
            )
            self._extension = None
        RedisInstrumentor().uninstrument()
        if self._engine is not None:
            SQLAlchemyInstrumentor().uninstrument()
            self._engine = None
