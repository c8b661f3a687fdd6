"""Request ids, the access log and HTTP metrics: one pure-ASGI middleware.

A client's `X-Request-Id` is kept when it is short and plain (1–128 characters of
letters, digits and `._:-`), so a caller can follow its own id through our logs;
anything else is replaced by a new id, never echoed. The id goes back in the
response's `X-Request-Id`, onto every log line of the request (`gateway.logs`) and
onto its trace span. After the response, one access line: method, path, status,
duration, and what the GraphQL layer filled in (operation, caller kind,
organization, error codes). No token, key or user id is ever part of it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.metrics import ACCESS, AccessRecord
from store.metrics import HTTP_REQUESTS, HTTP_SECONDS
from store.metrics import enabled as metrics_enabled

log = logging.getLogger("usage_gateway.access")

REQUEST_ID_HEADER = b"x-request-id"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})
"""Paths counted under their own label; every other path is `other`."""


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's id when acceptable, else a new one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            try:
                given = value.decode("ascii")
            except UnicodeDecodeError:
                break
            if _ACCEPTED_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


class AccessLog:
    def __init__(self, app: ASGIApp, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        record = AccessRecord(request_id=request_id(scope.get("headers", [])))
        token = ACCESS.set(record)
        trace.get_current_span().set_attribute("http.request_id", record.request_id)
        if scope["type"] == "websocket":
            try:
                await self.app(scope, receive, send)
            finally:
                ACCESS.reset(token)
            return

        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, record.request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            path = str(scope.get("path", ""))
            route = path if path in ROUTES else "other"
            if metrics_enabled():
                HTTP_REQUESTS.labels(route, str(status)).inc()
                HTTP_SECONDS.labels(route).observe(elapsed)
            if (
                self.log_requests
                and route not in ("/healthz", "/metrics")
                and log.isEnabledFor(logging.INFO)
            ):
                log.info(
                    "%s %s %s",
                    scope.get("method", "GET"),
                    path[:200],
                    status,
                    extra={
                        "method": scope.get("method", "GET"),
                        "path": path[:200],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                        "operation": record.operation,
                        "caller": record.caller,
                        "organization": record.organization,
                        "codes": record.codes,
                    },
                )
            ACCESS.reset(token)
