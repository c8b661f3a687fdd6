"""`/metrics` in Prometheus text format, and prometheus-client's multiprocess mode.

Who may scrape: with `METRICS_TOKEN` set, a request bearing it
(`Authorization: Bearer <token>`) from anywhere; without it, loopback clients only,
so a gateway listening on a public address does not publish its traffic by default.

With several worker processes each writes its values to files in
`PROMETHEUS_MULTIPROC_DIR` (prepared by `usage-gateway serve` before the workers
start) and a scrape reads them all: one process answers for every worker.
"""

from __future__ import annotations

import hmac
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def prepare_multiprocess(workers: int) -> Path | None:
    """Before uvicorn starts several workers: a fresh folder for their values (an
    operator's own `PROMETHEUS_MULTIPROC_DIR` is used, and emptied, if set)."""
    if workers <= 1 and MULTIPROC_ENV not in os.environ:
        return None
    folder = Path(
        os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="ug-metrics-")
    )
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def mark_process_dead() -> None:
    """A worker's live gauges stop counting when it exits."""
    if MULTIPROC_ENV in os.environ:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _registry() -> CollectorRegistry:
    if MULTIPROC_ENV not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def metrics_endpoint(token: str | None) -> Callable[[Request], Awaitable[Response]]:
    expected = None if token is None else f"Bearer {token}".encode()

    async def metrics(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return JSONResponse(
                    {"error": "a bearer token (METRICS_TOKEN) is required"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        elif request.client is None or request.client.host not in LOOPBACK:
            return JSONResponse(
                {"error": "metrics are served to loopback clients only"},
                status_code=403,
            )
        return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)

    return metrics
