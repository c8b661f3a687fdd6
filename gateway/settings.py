"""Settings from the environment (prefix `USAGE_GATEWAY_`), validated at start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.usage_page import parse_identities

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///usage-gateway.sqlite3"


class SettingsError(Exception):
    """A setting has a bad value; the message is one line naming it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="USAGE_GATEWAY_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    """Unset: hot counters, caches and pub/sub live in this process."""
    jwt_secret: str = Field(default="", repr=False)
    jwt_max_lifetime_seconds: int = Field(default=24 * 3600, ge=60)
    """The longest a user token may live: `exp` − `iat` (`exp` − now without
    `iat`). A token without `exp`, or living longer, is refused."""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    worker_interval_seconds: float = Field(default=300.0, gt=0)
    rate_limit_burst: int = Field(default=300, ge=1)
    """Requests a caller may make at once before the refill rate applies."""
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_service_burst: int = Field(default=20_000, ge=1)
    """A SERVICE key's burst: the hot path (usageCheck, recordUsage) of a metering
    service, not limited below what one gateway serves."""
    rate_limit_service_per_second: float = Field(default=10_000.0, gt=0)
    response_cache_seconds: float = Field(default=5.0, ge=0)
    """How long a cached answer may be served (with Redis; 0: never cached). Writes
    make answers stale at once (`store.generations`); this age bounds only what no
    write records: the clock of a live page's projections. See DEVELOPERS.md."""
    response_cache_entries: int = Field(default=512, ge=1)
    """Answers one process keeps at most."""
    persisted_queries_entries: int = Field(default=10_000, ge=1)
    """Automatic persisted queries kept at most (per process, or in Redis)."""
    persisted_queries_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=1)
    """With Redis: a persisted query unused this long is forgotten."""
    trusted_documents_only: bool = False
    """API keys may send only the registered documents (`operations/*.graphql`), by
    hash or in full; users' tokens are not restricted."""
    graphiql_headers: str = ""
    """The text GraphiQL's headers editor starts with (JSON); `serve --demo` puts the
    demo admin's Authorization header there."""
    usage_page_identities: str = Field(default="", repr=False)
    """The identities the /usage page lets a visitor switch between (a JSON list of
    {label, description, token, organizations}); `serve --demo` sets the demo's."""
    introspection: Literal["public", "authenticated", "off"] = "authenticated"
    """Who may introspect the schema (GraphiQL's schema fetch included); `serve
    --demo` makes it public unless set."""
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    """A recordUsage call of 1,000 events fits with room to spare."""
    log_format: Literal["text", "json"] = "text"
    """`json`: one JSON object per log line (for a log pipeline)."""
    access_log: bool = True
    """One line per HTTP request (request id, operation, caller kind, status)."""
    metrics: bool = True
    """`false`: no per-request metrics and no `/metrics` (see store.metrics)."""
    metrics_token: str | None = Field(default=None, repr=False)
    """Unset: `/metrics` answers loopback clients only; set: any client bearing it."""

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @field_validator("metrics_token")
    @classmethod
    def _token_or_unset(cls, value: str | None) -> str | None:
        return None if value in (None, "") else value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("usage_page_identities")
    @classmethod
    def _identities(cls, value: str) -> str:
        parse_identities(value)
        return value

    @field_validator("log_level", "log_format", "introspection", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


def load_settings(**overrides: object) -> Settings:
    """Read the environment; a bad value raises SettingsError naming it in one line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = "USAGE_GATEWAY_" + str(first["loc"][0]).upper() if first["loc"] else "?"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
