"""The gateway's Prometheus instruments, defined once for every layer.

They sit in the lowest layer that does I/O so the write path, the resolvers, the
schema's extensions and the app can all count without importing upwards. Defining an
instrument costs nothing per request; incrementing one is a lock and an add
(~0.3 µs), cheap enough for the hot path.

With several worker processes (`WORKERS > 1`), `usage-gateway serve` points
`PROMETHEUS_MULTIPROC_DIR` at a fresh folder before any worker starts, so
prometheus-client writes each process's values to memory-mapped files there and
`/metrics` adds them up (gauges by `multiprocess_mode`).

Label values are bounded: operation names fold into the contract's own (see
`schema.metrics`), codes come from `schema.errors`, outcomes from `rules.enums`.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NAMESPACE = "usage_gateway"

_enabled = True


def set_enabled(enabled: bool) -> None:
    """`METRICS=false` turns off the per-request instruments (operation and HTTP
    counts and timings); the domain counters stay, at a fraction of a microsecond
    per call. One switch per process, set by the app at start-up."""
    global _enabled
    _enabled = enabled


def enabled() -> bool:
    return _enabled


LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

# ----------------------------------------------------------------- GraphQL

OPERATIONS = Counter(
    "graphql_operations",
    "GraphQL operations answered, by operation name and type.",
    ["operation", "type"],
    namespace=NAMESPACE,
)
OPERATION_SECONDS = Histogram(
    "graphql_operation_seconds",
    "Time from parsing to the result of one GraphQL operation.",
    ["operation"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)
OPERATION_ERRORS = Counter(
    "graphql_errors",
    "GraphQL errors in answers, by operation name and extensions.code.",
    ["operation", "code"],
    namespace=NAMESPACE,
)

# ----------------------------------------------------------------- HTTP

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route and status code.",
    ["route", "status"],
    namespace=NAMESPACE,
)
HTTP_SECONDS = Histogram(
    "http_request_seconds",
    "Time from the request's arrival to the end of its response.",
    ["route"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)

# ----------------------------------------------------------------- domain

USAGE_EVENTS = Counter(
    "usage_events",
    "Usage events recorded, by outcome (ACCEPTED, DUPLICATE, DENIED, INVALID) and "
    "decision code (empty when accepted).",
    ["status", "code"],
    namespace=NAMESPACE,
)
USAGE_CHECKS = Counter(
    "usage_checks",
    "usageCheck decisions, by whether allowed and decision code.",
    ["allowed", "code"],
    namespace=NAMESPACE,
)
COUNTER_DECISIONS = Counter(
    "counter_decisions",
    "Write and check decisions by where the counters were read: redis, "
    "sql-fallback (Redis unreachable) or in-process (no Redis configured).",
    ["source"],
    namespace=NAMESPACE,
)
LIVE_SUBSCRIBERS = Gauge(
    "live_subscribers",
    "Live usage subscriptions open now.",
    namespace=NAMESPACE,
    multiprocess_mode="livesum",
)
LIVE_TICKS = Counter(
    "live_ticks",
    "Live usage updates sent to subscribers.",
    namespace=NAMESPACE,
)
RESPONSE_CACHE = Counter(
    "response_cache_lookups",
    "Response cache lookups of repeated queries, by result (hit or miss).",
    ["result"],
    namespace=NAMESPACE,
)
RATE_LIMITED = Counter(
    "rate_limited_requests",
    "Requests refused by the per-caller rate limit, by caller kind.",
    ["caller"],
    namespace=NAMESPACE,
)

# ----------------------------------------------------------------- resources

REDIS_ROUND_TRIPS = Counter(
    "redis_round_trips",
    "Commands or pipelines sent to Redis (one write to the socket each).",
    namespace=NAMESPACE,
)
REDIS_ERRORS = Counter(
    "redis_errors",
    "Redis round trips that failed (connection lost, timeout, error reply).",
    namespace=NAMESPACE,
)
DB_POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections checked out of this process's pool.",
    namespace=NAMESPACE,
    multiprocess_mode="livesum",
)
DB_POOL_WAIT_SECONDS = Histogram(
    "db_pool_wait_seconds",
    "Time a request waited for its read session's pooled connection.",
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)
EVENT_LOOP_LAG = Gauge(
    "event_loop_lag_seconds",
    "How late the event loop ran a timer in the last sample (worst process).",
    namespace=NAMESPACE,
    multiprocess_mode="livemax",
)

# ----------------------------------------------------------------- readiness

SQL_FALLBACK = Gauge(
    "sql_fallback_active",
    "1 while Redis is unreachable and usage is decided from SQL (still exact, "
    "slower); 0 otherwise.",
    namespace=NAMESPACE,
    multiprocess_mode="livemax",
)
DATABASE_UP = Gauge(
    "database_up",
    "1 while the database answers (checked every 10 s and by /readyz); the "
    "gateway is not ready without it.",
    namespace=NAMESPACE,
    multiprocess_mode="livemin",
)
