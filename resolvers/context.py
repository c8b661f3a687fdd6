"""The typed request context every resolver receives as `info.context`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from strawberry.types import Info as StrawberryInfo

from auth.identity import Identity
from auth.rate_limit import RateLimiter
from resolvers.loaders import organizations, reports, usage
from store.catalog_cache import Catalog, CatalogCache
from store.counters import CounterStore
from store.db import SessionFactory
from store.live import LiveHub


class Loaders:
    """Every loader of one request, created on first use and shared by all resolvers."""

    def __init__(
        self,
        sessions: SessionFactory,
        counters: CounterStore | None = None,
        catalog_cache: CatalogCache | None = None,
    ) -> None:
        self.sessions = sessions
        self.counters = counters
        self.catalog_cache = catalog_cache or CatalogCache(None, ttl_seconds=0)
        self._catalog: asyncio.Future[Catalog] | None = None

    async def catalog(self) -> Catalog:
        """Meters, prices and plans: the process's cached catalog when current
        (`store.catalog_cache`), read once per request at most."""
        if self._catalog is None:
            self._catalog = asyncio.ensure_future(
                self.catalog_cache.catalog(self.sessions)
            )
        return await self._catalog

    @cached_property
    def organization(self) -> organizations.OrganizationById:
        return organizations.OrganizationById(self.sessions)

    @cached_property
    def subscription(self) -> organizations.SubscriptionByOrganization:
        return organizations.SubscriptionByOrganization(self.sessions)

    @cached_property
    def membership(self) -> organizations.MembershipByOrganizationUser:
        return organizations.MembershipByOrganizationUser(self.sessions)

    @cached_property
    def memberships(self) -> organizations.MembershipsByUser:
        return organizations.MembershipsByUser(self.sessions)

    @cached_property
    def user(self) -> organizations.UserById:
        return organizations.UserById(self.sessions)

    @cached_property
    def allocated_seats(self) -> organizations.AllocatedSeatsByOrganization:
        return organizations.AllocatedSeatsByOrganization(self.sessions)

    @cached_property
    def reconciliation(self) -> organizations.ReconciliationByOrganization:
        return organizations.ReconciliationByOrganization(self.sessions)

    @cached_property
    def latest_snapshot(self) -> reports.LatestSnapshot:
        return reports.LatestSnapshot(self.sessions)

    @cached_property
    def rollup_sums(self) -> usage.RollupSums:
        return usage.RollupSums(self.sessions)

    @cached_property
    def hot_counters(self) -> usage.HotCounters | None:
        """None when the gateway keeps no counters (every read from SQL)."""
        if self.counters is None:
            return None
        return usage.HotCounters(self.sessions, self.counters)

    @cached_property
    def grants(self) -> usage.GrantsByOrganization:
        return usage.GrantsByOrganization(self.sessions)

    @cached_property
    def cycle_spend(self) -> usage.CycleSpendByOrganization:
        return usage.CycleSpendByOrganization(self.sessions)

    @cached_property
    def draws_from(self) -> usage.DrawsFromInstant:
        return usage.DrawsFromInstant(self.sessions)

    @cached_property
    def allocations(self) -> usage.AllocationsByOrganization:
        return usage.AllocationsByOrganization(self.sessions)

    @cached_property
    def workspaces(self) -> usage.WorkspacesByOrganization:
        return usage.WorkspacesByOrganization(self.sessions)


@dataclass
class Context:
    request: Any
    response: Any
    sessions: SessionFactory
    jwt_secret: str
    now: datetime
    identity: Identity | None
    auth_error: str | None = None
    rate_limiter: RateLimiter | None = None
    live: LiveHub | None = None
    """Where accepted usage is published and usageUpdated subscribes."""
    clock: Callable[[], datetime] | None = None
    """The app's clock, for what happens after `now` (a websocket lives on)."""
    connection_params: dict[str, object] | None = None
    """A websocket's connection_init payload (strawberry sets it)."""
    counters: CounterStore | None = None
    """The hot usage counters decisions use (None: decided from SQL)."""
    catalog_cache: CatalogCache | None = None
    """The process's catalog (None: read once per request)."""
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.sessions, self.counters, self.catalog_cache)

    @property
    def caller(self) -> str:
        """Whom rate limits count: the key or user, else the client's address."""
        if self.identity is not None:
            return f"{self.identity.kind.value}:{self.identity.id}"
        client = getattr(self.request, "client", None)
        return f"anonymous:{client.host if client else 'unknown'}"

    def forget_loaded(self) -> None:
        """After a mutation writes, later reads in the same request must see it."""
        self.loaders = Loaders(self.sessions, self.counters, self.catalog_cache)


Info = StrawberryInfo[Context, None]
