"""The typed request context every resolver receives as `info.context`."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from auth.identity import Identity
from auth.rate_limit import RateLimiter, Verdict
from auth.tokens import MAX_TOKEN_LIFETIME
from resolvers.loaders import organizations, reports, usage
from resolvers.loaders.reads import Reads, RequestSession, SessionPerBatch
from resolvers.loaders.shared import Shared
from store.api_keys import ActiveKeys
from store.catalog_cache import Catalog, CatalogCache
from store.counters import CounterStore
from store.db import SessionFactory
from store.generations import Generations
from store.live import LiveHub
from store.response_cache import ResponseCache

if TYPE_CHECKING:
    from resolvers.basis import Basis


class Loaders:
    """Every loader of one request, created on first use and shared by all resolvers.

    They read through `reads` (`resolvers.loaders.reads`): the request's one session
    over HTTP, a session per batch on a websocket.
    """

    def __init__(
        self,
        reads: Reads,
        sessions: SessionFactory,
        counters: CounterStore | None = None,
        catalog_cache: CatalogCache | None = None,
    ) -> None:
        self.reads = reads
        self.sessions = sessions
        self.counters = counters
        self.catalog_cache = catalog_cache or CatalogCache(None, ttl_seconds=0)
        self._catalog: Shared[Catalog] | None = None
        self.bases: dict[tuple[str, datetime, bool], Shared[Basis]] = {}
        """`resolvers.usage.basis` per organization, instant and liveness (awaited
        through `Shared`: a cancelled field does not cancel it for the others)."""

    async def catalog(self) -> Catalog:
        """Meters, prices and plans: the process's cached catalog when current
        (`store.catalog_cache`), read once per request at most; a miss reads
        through the request's session (no second connection, same snapshot)."""
        if self._catalog is None:
            # Not abandoned: cancelling it could stop a statement half-way on the
            # request's one session.
            self._catalog = Shared(
                lambda: self.reads.run(self._load_catalog), abandon=False
            )
        return await self._catalog.wait()

    async def _load_catalog(self, session: AsyncSession) -> Catalog:
        bound = async_sessionmaker(await session.connection(), expire_on_commit=False)
        return await self.catalog_cache.catalog(bound)

    @cached_property
    def organization(self) -> organizations.OrganizationById:
        return organizations.OrganizationById(self.reads)

    @cached_property
    def subscription(self) -> organizations.SubscriptionByOrganization:
        return organizations.SubscriptionByOrganization(self.reads)

    @cached_property
    def membership(self) -> organizations.MembershipByOrganizationUser:
        return organizations.MembershipByOrganizationUser(self.reads)

    @cached_property
    def memberships(self) -> organizations.MembershipsByUser:
        return organizations.MembershipsByUser(self.reads)

    @cached_property
    def user(self) -> organizations.UserById:
        return organizations.UserById(self.reads)

    @cached_property
    def allocated_seats(self) -> organizations.AllocatedSeatsByOrganization:
        return organizations.AllocatedSeatsByOrganization(self.reads)

    @cached_property
    def reconciliation(self) -> organizations.ReconciliationByOrganization:
        return organizations.ReconciliationByOrganization(self.reads)

    @cached_property
    def latest_snapshot(self) -> reports.LatestSnapshot:
        return reports.LatestSnapshot(self.reads)

    @cached_property
    def rollup_sums(self) -> usage.RollupSums:
        return usage.RollupSums(self.reads)

    @cached_property
    def hot_counters(self) -> usage.HotCounters | None:
        """None when the gateway keeps no counters (every read from SQL)."""
        if self.counters is None:
            return None
        return usage.HotCounters(self.sessions, self.counters)

    @cached_property
    def grants(self) -> usage.GrantsByOrganization:
        return usage.GrantsByOrganization(self.reads)

    @cached_property
    def cycle_spend(self) -> usage.CycleSpendByOrganization:
        return usage.CycleSpendByOrganization(self.reads)

    @cached_property
    def draws_from(self) -> usage.DrawsFromInstant:
        return usage.DrawsFromInstant(self.reads)

    @cached_property
    def allocations(self) -> usage.AllocationsByOrganization:
        return usage.AllocationsByOrganization(self.reads)

    @cached_property
    def workspaces(self) -> usage.WorkspacesByOrganization:
        return usage.WorkspacesByOrganization(self.reads)


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
    rate_limit: Verdict | None = None
    """This request's rate-limit verdict, once taken (the HTTP view turns it into
    `RateLimit` headers and, when refused, a 429)."""
    jwt_max_lifetime: timedelta = MAX_TOKEN_LIFETIME
    """The longest a user token may live (`auth.tokens`); a websocket re-checks."""
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
    generations: Generations | None = None
    """The write generations in Redis (None without Redis): moved after writes."""
    keys: ActiveKeys | None = None
    """API keys this process has looked up (None without Redis: always SQL)."""
    response_cache: ResponseCache | None = None
    """This process's cached answers (None: off, or no Redis)."""
    touched_organizations: set[str] = field(default_factory=set)
    """Every organization this request resolved fields of (what a cached answer
    depends on)."""
    introspection: str = "public"
    """Who may introspect: public, authenticated or off (`schema.introspection`)."""
    one_session: bool = False
    """Read through one session for the whole request (HTTP; the view closes it with
    `close`). False: a session per loader batch (a websocket, which lives on)."""
    reads: Reads = field(init=False)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.reads = (
            RequestSession(self.sessions)
            if self.one_session
            else SessionPerBatch(self.sessions)
        )
        self.loaders = self._new_loaders()

    def _new_loaders(self) -> Loaders:
        return Loaders(self.reads, self.sessions, self.counters, self.catalog_cache)

    @property
    def caller(self) -> str:
        """Whom rate limits count: the key or user, else the client's address."""
        if self.identity is not None:
            return f"{self.identity.kind.value}:{self.identity.id}"
        client = getattr(self.request, "client", None)
        return f"anonymous:{client.host if client else 'unknown'}"

    def forget_loaded(self) -> None:
        """After a mutation writes, later reads in the same request must see it: new
        loaders (nothing cached) over a new snapshot."""
        self.reads.renew()
        self.loaders = self._new_loaders()

    async def move_organizations(self, organization_ids: Collection[str]) -> None:
        """These organizations' usage changed (committed, not yet replied)."""
        if self.generations is not None and not await self.generations.move(
            organization_ids
        ):
            self._forget_answers()

    async def move_everything(self) -> None:
        """Something other than usage changed (committed, not yet replied)."""
        if (
            self.generations is not None
            and not await self.generations.move_everything()
        ):
            self._forget_answers()

    def _forget_answers(self) -> None:
        # Other processes' answers are bounded by their maximum age; this one's
        # go now.
        if self.response_cache is not None:
            self.response_cache.clear()

    async def release_reads(self) -> None:
        """Before writing through a session of its own: give the read connection
        back, so that a request never holds one connection while it waits for
        another."""
        await self.reads.release()

    async def close(self) -> None:
        """The request is over: its read session goes back to the pool."""
        await self.reads.release()


Info = StrawberryInfo[Context, None]
