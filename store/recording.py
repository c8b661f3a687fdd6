"""The durable write path: decide each reported usage event, store the accepted ones.

One call takes up to 1,000 events and decides each on its own, in order; event N sees
what events 0..N-1 of the same call took. Decision order for one event (the first rule
that applies wins):

1. INVALID: empty or over-long idempotency key; unknown organization or meter; quantity
   not finite, with more than six decimal places, beyond what the database stores, or
   negative on a meter that resets (negative quantities are releases, allowed only on
   cumulative meters, and carry no AI usage); `occurred_at` without a time zone or
   more than 5 minutes after `now`; a user who is not a member of the organization;
   an unknown workspace; a bad `cost_usd`, token count or over-long text field.
2. DUPLICATE: the key is already recorded in the organization, earlier or in this
   call. Only accepted events claim their key, so a denied event may be retried.
3. INVALID: a release that would take the meter's usage below zero. Checked after
   DUPLICATE so that retrying an applied release says DUPLICATE.
4. Releases are never denied (they only make room).
5. No subscription: the organization has no plan, hence no limits and no credits; the
   event is accepted, free and unlimited (its AI cost is still priced and stored),
   unless it passes a personal allocation (8), which an admin set on the user, not
   on the plan. Its cycle is then the UTC calendar month, as the pages count it.
6. AI_ACCESS_PAUSED: an AI event while the subscription is PAST_DUE with payment
   retries exhausted.
7. NOT_ALLOWED_ON_PLAN: an OPERATIONS meter whose plan `free_units` is 0.
8. PERSONAL_ALLOCATION_EXCEEDED: the user's own usage in the cycle plus the event
   would pass the user's allocation on the meter (or on `ai_spend_usd`, for the cost).
9. LIMIT_REACHED / SOFT_LIMIT_REACHED: the event's meter, then the AI budget
   (`ai_spend_usd`, which an AI event's dollar cost also counts on).
10. SPEND_CAP_REACHED for BYOM organizations (billing model USD: no credits; their
    monthly spend cap is the plan's `ai_spend_usd` limit, enforced here instead of in
    9), or CREDITS_EXHAUSTED for credit organizations when the pools cannot pay.

An event belongs to the billing cycle of its `occurred_at` and is decided against that
cycle's usage, limits and MONTHLY pool (a late event is checked against last cycle).
Resetting meters count the cycle; cumulative meters count everything recorded, even
events stamped after this one: a late contact still exists now, so counting it against
the current total is what keeps usage from ever passing the limit.

Concurrency: the decisions for one organization serialize. On PostgreSQL the
transaction starts by locking the organization rows (SELECT ... FOR UPDATE); SQLite
has one writer at a time and the transaction starts with BEGIN IMMEDIATE. Accepted
events, their idempotency keys (unique per organization), rollups and credit draws are
committed in that one transaction before `record_usage` returns; if it fails nothing
is written and every key stays free for the retry. State is read in a constant number
of statements per call (not per event) and kept as running totals in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from rules.amounts import quantity_problem, quantize
from rules.credits import Draw, PoolState, draw_credits, event_credits, monthly_grant
from rules.cycles import UNSUBSCRIBED_ANCHOR, Cycle, cycle_for
from rules.enums import (
    AiFeature,
    BillingModel,
    CreditPoolKind,
    Enforcement,
    MeterCategory,
    Resets,
    SubscriptionStatus,
    UsageDecisionCode,
    UsageSource,
    UsageStatus,
)
from rules.meters import decide_cap, effective_limit, remaining
from rules.pricing import ModelRates, TokenCounts, price_tokens
from store.catalog import AI_METERS
from store.db import SessionFactory
from store.models import (
    CreditCycleSpend,
    CreditDraw,
    CreditGrant,
    Member,
    Meter,
    ModelPrice,
    Organization,
    PersonalAllocation,
    Plan,
    PlanLimit,
    Subscription,
    UsageEvent,
    Workspace,
)
from store.rollups import (
    AI_SPEND_METER,
    RollupRequest,
    Totals,
    add_to_rollups,
    meter_contributions,
    sum_rollups_many,
    unnested_rows,
)
from store.types import Amount

MAX_EVENTS_PER_CALL = 1000
FUTURE_TOLERANCE = timedelta(minutes=5)

_ZERO = Decimal(0)
_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)
_MONTHLY_POOL = ""
"""`credit_cycle_spend.grant_id` of the cycle's MONTHLY pool."""
_CHECK_KEY = "usage-check"
_EVENTS = cast(Table, UsageEvent.__table__)
_DRAWS = cast(Table, CreditDraw.__table__)
_GRANTS = cast(Table, CreditGrant.__table__)
_CYCLE_SPEND = cast(Table, CreditCycleSpend.__table__)
# What the amount columns hold: NUMERIC(38, 6), or 64-bit micro-units on SQLite.
_MAX_AMOUNT = {
    "postgresql": Decimal(10) ** 32 - Decimal("0.000001"),
    "sqlite": Decimal(2**63 - 1) / Decimal(10) ** 6,
}
_MAX_TOKENS = 2**63 - 1
_TEXT_LIMITS = {
    "idempotency key": 200,
    "model": 128,
    "definitionId": 64,
    "definitionName": 200,
}


@dataclass(frozen=True)
class UsageEventSpec:
    """One reported usage event. There is no field for prompts or payloads."""

    idempotency_key: str
    organization_id: str
    meter: str
    quantity: Decimal
    occurred_at: datetime | None = None
    user_id: str | None = None
    workspace_id: str | None = None
    source: UsageSource | None = None
    feature: AiFeature | None = None
    model: str | None = None
    tokens: TokenCounts | None = None
    cost_usd: Decimal | None = None
    definition_id: str | None = None
    definition_name: str | None = None

    @property
    def is_ai(self) -> bool:
        """An AI event carries a model, tokens or a cost, or is of an AI meter."""
        return (
            self.model is not None
            or self.tokens is not None
            or self.cost_usd is not None
            or self.meter in AI_METERS
        )


@dataclass(frozen=True)
class EventOutcome:
    index: int
    idempotency_key: str
    status: UsageStatus
    code: UsageDecisionCode | None
    message: str


@dataclass(frozen=True)
class UsageCheck:
    allowed: bool
    code: UsageDecisionCode
    used: Decimal
    limit: Decimal | None
    remaining: Decimal | None


async def record_usage(
    sessions: SessionFactory, events: Sequence[UsageEventSpec], now: datetime
) -> list[EventOutcome]:
    """Decide and store a batch of events; committed before returning.

    Raises ValueError for more than 1,000 events (nothing is decided then).
    """
    if len(events) > MAX_EVENTS_PER_CALL:
        raise ValueError(
            f"at most {MAX_EVENTS_PER_CALL} events per call, got {len(events)}"
        )
    now = _utc(now)
    if not events:
        return []
    async with sessions() as session, session.begin():
        dialect = (await session.connection()).dialect.name
        await _begin_deciding(session, dialect)
        books = await _Books.load(session, events, now, lock=True)
        outcomes = [books.decide(index, spec) for index, spec in enumerate(events)]
        await _store(session, books, dialect)
    return outcomes


async def check_usage(
    sessions: SessionFactory,
    organization_id: str,
    meter: str,
    quantity: Decimal,
    user_id: str | None,
    now: datetime,
) -> UsageCheck:
    """Whether an event of `quantity` on `meter` would be accepted now; writes nothing.

    `used` and `limit` are the user's own this cycle when the user has a personal
    allocation on the meter, else the organization's: the cycle's usage of a resetting
    meter (the calendar month without a subscription), everything recorded on a
    cumulative one, against the plan's effective limit (None: unlimited).
    """
    now = _utc(now)
    spec = UsageEventSpec(
        idempotency_key=_CHECK_KEY,
        organization_id=organization_id,
        meter=meter,
        quantity=quantity,
        occurred_at=now,
        user_id=user_id,
    )
    async with sessions() as session, session.begin():
        await _plan_per_call(session, (await session.connection()).dialect.name)
        books = await _Books.load(session, [spec], now, lock=False)
    outcome = books.decide(0, spec, claim=False)
    used, limit = books.standing(spec, now)
    allowed = outcome.status is UsageStatus.ACCEPTED
    return UsageCheck(
        allowed=allowed,
        code=UsageDecisionCode.ALLOWED if allowed else _code(outcome),
        used=used,
        limit=limit,
        remaining=remaining(used, limit),
    )


async def _begin_deciding(session: AsyncSession, dialect: str) -> None:
    """Start the transaction the way decisions need it.

    SQLite: take the database's write lock now (BEGIN IMMEDIATE), so that what is read
    next cannot change before the writes. PostgreSQL: the organization rows are locked
    by the first query that reads them (`_load_orgs`).
    """
    if dialect == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))
    await _plan_per_call(session, dialect)


async def _plan_per_call(session: AsyncSession, dialect: str) -> None:
    """PostgreSQL: plan this transaction's statements for their actual parameters.

    A connection otherwise reuses the plan it cached for a statement after five runs;
    cached while a table was nearly empty (a fresh install under load) that plan is a
    sequential scan, kept until statistics catch up: seconds per call instead of
    milliseconds. Planning these few statements each time costs well under one.
    """
    if dialect == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _code(outcome: EventOutcome) -> UsageDecisionCode:
    return outcome.code if outcome.code is not None else UsageDecisionCode.INVALID


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"`now` must be timezone-aware: {at!r}")
    return at.astimezone(UTC)


# --------------------------------------------------------------------------- state


@dataclass(frozen=True)
class _MeterInfo:
    category: MeterCategory
    resets: Resets


@dataclass(frozen=True)
class _Terms:
    """What an organization's subscription and plan say, as decisions need it."""

    anchor: datetime
    period_start: datetime | None
    period_end: datetime | None
    seats: int
    credits_per_usd: Decimal | None
    ai_paused: bool
    granted: Decimal
    """The MONTHLY pool of every cycle."""
    limits: dict[str, PlanLimit]

    def limit(self, meter: str) -> Decimal | None:
        row = self.limits.get(meter)
        if row is None:
            return None
        return effective_limit(row.limit, row.per_seat, self.seats)

    def enforcement(self, meter: str) -> Enforcement:
        row = self.limits.get(meter)
        return Enforcement.HARD if row is None else row.enforcement


@dataclass(frozen=True)
class _Org:
    id: str
    usd: bool
    """BYOM: dollars instead of credits, denied at the spend cap."""
    terms: _Terms | None
    known: list[Cycle] = field(default_factory=list, compare=False, repr=False)
    """Cycles already computed: a call's events mostly fall in one or two."""

    def cycle(self, at: datetime) -> Cycle:
        """The cycle `at` is in; UTC calendar months without a subscription, as the
        pages count them."""
        for cycle in self.known:
            if cycle.contains(at):
                return cycle
        if self.terms is None:
            cycle = cycle_for(UNSUBSCRIBED_ANCHOR, at)
        else:
            terms = self.terms
            cycle = cycle_for(terms.anchor, at, terms.period_start, terms.period_end)
        self.known.append(cycle)
        return cycle


@dataclass(frozen=True)
class _Grant:
    id: str
    kind: CreditPoolKind
    amount: Decimal
    expires_at: datetime | None


@dataclass(slots=True)
class _Accepted:
    """An accepted event: the stored row, and what rollups read (a RollupEvent).

    Built before its credits are known and completed in place by `_charged`.
    """

    organization_id: str
    idempotency_key: str
    meter_key: str
    quantity: Decimal
    occurred_at: datetime
    received_at: datetime
    cycle: Cycle
    """The cycle the event is decided in (a calendar month without subscription)."""
    cycle_start: datetime | None
    """What is stored: null without a subscription, which has no billing cycle."""
    user_id: str | None
    workspace_id: str | None
    source: UsageSource
    feature: AiFeature | None
    model: str | None
    tokens: TokenCounts
    cost_usd: Decimal | None
    unpriced: bool
    credits: Decimal
    free_units_used: Decimal
    definition_id: str | None
    definition_name: str | None

    def row(self) -> dict[str, Any]:
        return {
            "organization_id": self.organization_id,
            "idempotency_key": self.idempotency_key,
            "meter_key": self.meter_key,
            "quantity": self.quantity,
            "occurred_at": self.occurred_at,
            "received_at": self.received_at,
            "cycle_start": self.cycle_start,
            "user_id": self.user_id,
            "workspace_id": self.workspace_id,
            "source": self.source,
            "feature": self.feature,
            "model": self.model,
            "input_tokens": self.tokens.input,
            "output_tokens": self.tokens.output,
            "cache_read_tokens": self.tokens.cache_read,
            "cache_write_tokens": self.tokens.cache_write,
            "cost_usd": self.cost_usd,
            "unpriced": self.unpriced,
            "credits": self.credits,
            "free_units_used": self.free_units_used,
            "definition_id": self.definition_id,
            "definition_name": self.definition_name,
        }


class _Denied(Exception):
    """One event's decision stops here; raised and caught inside `decide` only."""

    def __init__(
        self, status: UsageStatus, code: UsageDecisionCode | None, message: str
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _invalid(message: str) -> _Denied:
    return _Denied(UsageStatus.INVALID, UsageDecisionCode.INVALID, message)


def _denied(code: UsageDecisionCode, message: str) -> _Denied:
    return _Denied(UsageStatus.DENIED, code, message)


@dataclass
class _Books:
    """Everything one call decides with, loaded up front, then kept as running totals.

    Usage is keyed by organization and meter, and by cycle start for the cycle totals,
    so event N of a call sees what events 0..N-1 took without asking the database.
    """

    now: datetime
    max_amount: Decimal
    orgs: dict[str, _Org]
    meters: dict[str, _MeterInfo]
    members: set[tuple[str, str]]
    workspaces: set[tuple[str, str]]
    prices: dict[str, ModelRates]
    allocations: dict[tuple[str, str, str], Decimal]
    grants: dict[str, list[_Grant]]
    grant_spent: dict[str, Decimal]
    recorded: set[tuple[str, str]]
    cycle_usage: dict[tuple[str, datetime, str], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    lifetime_usage: dict[tuple[str, str], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    user_usage: dict[tuple[str, datetime, str, str], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    monthly_spent: dict[tuple[str, datetime], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    accepted: list[_Accepted] = field(default_factory=list)
    draws: dict[tuple[str, str], list[Draw]] = field(default_factory=dict)

    # ------------------------------------------------------------------ loading

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        specs: Sequence[UsageEventSpec],
        now: datetime,
        *,
        lock: bool,
    ) -> _Books:
        dialect = (await session.connection()).dialect.name
        org_ids = sorted({spec.organization_id for spec in specs})
        orgs = await _load_orgs(session, org_ids, lock=lock)
        users = {spec.user_id for spec in specs if spec.user_id is not None}
        workspaces = {s.workspace_id for s in specs if s.workspace_id is not None}
        models = {spec.model for spec in specs if spec.model is not None}
        credit_orgs = [o.id for o in orgs.values() if not o.usd and o.terms]
        grants, grant_spent = await _load_grants(session, credit_orgs)
        books = cls(
            now=now,
            max_amount=_MAX_AMOUNT.get(dialect, _MAX_AMOUNT["sqlite"]),
            orgs=orgs,
            meters=await _load_meters(session),
            members=await _load_members(session, list(orgs), users, dialect),
            workspaces=await _load_workspaces(session, list(orgs), workspaces, dialect),
            prices=await _load_prices(session, models, dialect),
            allocations=await _load_allocations(session, list(orgs), users, dialect),
            grants=grants,
            grant_spent=grant_spent,
            recorded=(
                await _load_recorded(session, specs, orgs, dialect) if lock else set()
            ),
        )
        await books._load_usage(session, specs)
        return books

    async def _load_usage(
        self, session: AsyncSession, specs: Sequence[UsageEventSpec]
    ) -> None:
        """The usage totals the call needs, all in one statement: per organization,
        everything on its cumulative meters, and per cycle the resetting meters (and
        each user's usage of the meters some user has an allocation on)."""
        cycles: dict[str, dict[datetime, Cycle]] = defaultdict(dict)
        meters: dict[str, set[str]] = defaultdict(set)
        for spec in specs:
            org = self.orgs.get(spec.organization_id)
            occurred = self._occurred_at(spec)
            if org is None or spec.meter not in self.meters or occurred is None:
                continue
            meters[org.id].update((spec.meter, AI_SPEND_METER))
            cycle = org.cycle(occurred)
            cycles[org.id][cycle.start] = cycle
        requests = [
            request
            for org_id, used in meters.items()
            for request in self._usage_requests(org_id, used, cycles[org_id].values())
        ]
        sums = await sum_rollups_many(session, requests)
        for request, found in zip(requests, sums, strict=True):
            self._note_usage(request, found)
        await self._load_monthly_spent(session, cycles)

    def _usage_requests(
        self, org_id: str, used: set[str], cycles: Iterable[Cycle]
    ) -> list[RollupRequest]:
        resetting = {m for m in used if self.meters[m].resets is Resets.CYCLE}
        allocated = {m for (o, _, m) in self.allocations if o == org_id} & used
        requests = []
        if cumulative := used - resetting:
            requests.append(
                RollupRequest(org_id, "total", None, _END_OF_TIME, _keys(cumulative))
            )
        for cycle in cycles:
            start, end = cycle.start, cycle.end
            if resetting:
                requests.append(
                    RollupRequest(org_id, "total", start, end, _keys(resetting))
                )
            if allocated:
                requests.append(
                    RollupRequest(org_id, "user", start, end, _keys(allocated))
                )
        return requests

    def _note_usage(
        self, request: RollupRequest, found: dict[tuple[str, str], Totals]
    ) -> None:
        org_id, start = request.organization_id, request.start
        for (meter, key), totals in found.items():
            if start is None:
                self.lifetime_usage[(org_id, meter)] = totals.quantity
            elif request.dimension == "user":
                self.user_usage[(org_id, start, meter, key)] = totals.quantity
            else:
                self.cycle_usage[(org_id, start, meter)] = totals.quantity

    async def _load_monthly_spent(
        self, session: AsyncSession, cycles: dict[str, dict[datetime, Cycle]]
    ) -> None:
        starts = {start for by_start in cycles.values() for start in by_start}
        if not starts:
            return
        rows = await session.execute(
            select(
                CreditCycleSpend.organization_id,
                CreditCycleSpend.cycle_start,
                CreditCycleSpend.spent,
            ).where(
                CreditCycleSpend.organization_id.in_(list(cycles)),
                CreditCycleSpend.cycle_start.in_(sorted(starts)),
                CreditCycleSpend.grant_id == _MONTHLY_POOL,
            )
        )
        for org_id, cycle_start, spent in rows:
            self.monthly_spent[(org_id, cycle_start)] = spent

    # ------------------------------------------------------------------ deciding

    def decide(
        self, index: int, spec: UsageEventSpec, *, claim: bool = True
    ) -> EventOutcome:
        """One event's outcome; an accepted event is applied to the running totals."""
        try:
            event = self._accept(spec)
        except _Denied as denial:
            return EventOutcome(
                index, spec.idempotency_key, denial.status, denial.code, denial.message
            )
        if claim:
            self._apply(event)
        message = f"Recorded {_show(event.quantity)} {event.meter_key}"
        if event.credits:
            message += f" for {_show(event.credits)} credits"
        return EventOutcome(
            index, spec.idempotency_key, UsageStatus.ACCEPTED, None, message + "."
        )

    def _accept(self, spec: UsageEventSpec) -> _Accepted:
        """The event as it would be stored, or _Denied with the first rule it breaks."""
        self._check_valid(spec)
        org = self.orgs[spec.organization_id]
        if (org.id, spec.idempotency_key) in self.recorded:
            raise _Denied(
                UsageStatus.DUPLICATE,
                None,
                "An event with this idempotency key was already recorded.",
            )
        event = self._priced(spec, org)
        if event.quantity < 0:
            self._check_release(event)
            return event
        terms = org.terms
        if terms is None:
            self._check_allocations(event)
            return event
        self._check_ai_paused(spec, terms)
        self._check_on_plan(event, terms)
        self._check_allocations(event)
        self._check_caps(event, terms, skip_spend=org.usd)
        if org.usd:
            self._check_spend_cap(event, terms)
            return self._with_free_units(event, terms)
        return self._charged(event, terms)

    def _check_valid(self, spec: UsageEventSpec) -> None:
        problem = self._problem(spec)
        if problem is not None:
            raise _invalid(problem)

    def _problem(self, spec: UsageEventSpec) -> str | None:
        """Why an event cannot be recorded at all, whatever the usage so far."""
        if not spec.idempotency_key.strip():
            return "The idempotency key must not be empty."
        if (problem := self._text_problem(spec)) is not None:
            return problem
        if spec.organization_id not in self.orgs:
            return f"Unknown organization {spec.organization_id!r}."
        meter = self.meters.get(spec.meter)
        if meter is None:
            return f"Unknown meter {spec.meter!r}."
        if (problem := self._quantity_problem(spec, meter)) is not None:
            return problem
        if (problem := self._time_problem(spec)) is not None:
            return problem
        org = spec.organization_id
        if spec.user_id is not None and (org, spec.user_id) not in self.members:
            return f"Unknown user {spec.user_id!r}: not a member of the organization."
        if spec.workspace_id is not None and (org, spec.workspace_id) not in (
            self.workspaces
        ):
            return f"Unknown workspace {spec.workspace_id!r}."
        return self._ai_problem(spec)

    @staticmethod
    def _text_problem(spec: UsageEventSpec) -> str | None:
        texts = {
            "idempotency key": spec.idempotency_key,
            "model": spec.model,
            "definitionId": spec.definition_id,
            "definitionName": spec.definition_name,
        }
        for name, value in texts.items():
            if value is not None and len(value) > _TEXT_LIMITS[name]:
                return f"The {name} is longer than {_TEXT_LIMITS[name]} characters."
        return None

    def _quantity_problem(self, spec: UsageEventSpec, meter: _MeterInfo) -> str | None:
        problem = _amount_problem(spec.quantity, self.max_amount)
        if problem is not None:
            return f"The {problem}."
        if spec.quantity < 0:
            if meter.resets is not Resets.NEVER:
                return (
                    "A negative quantity is only allowed on cumulative meters "
                    f"(a release); {spec.meter} resets every cycle."
                )
            if spec.is_ai:
                return "A release (negative quantity) cannot carry AI usage."
        return None

    def _time_problem(self, spec: UsageEventSpec) -> str | None:
        occurred = spec.occurred_at
        if occurred is None:
            return None
        if occurred.tzinfo is None or occurred.utcoffset() is None:
            return "occurredAt must carry a time zone."
        if occurred > self.now + FUTURE_TOLERANCE:
            return "occurredAt is more than 5 minutes in the future."
        return None

    def _ai_problem(self, spec: UsageEventSpec) -> str | None:
        if spec.cost_usd is not None:
            problem = _amount_problem(spec.cost_usd, self.max_amount)
            if problem is not None:
                return f"The cost {problem.removeprefix('quantity ')}."
            if spec.cost_usd < 0:
                return "The cost must not be negative."
        if spec.tokens is not None:
            counts = (
                spec.tokens.input,
                spec.tokens.output,
                spec.tokens.cache_read,
                spec.tokens.cache_write,
            )
            if any(count < 0 or count > _MAX_TOKENS for count in counts):
                return "Token counts must be whole numbers from 0."
        return None

    def _occurred_at(self, spec: UsageEventSpec) -> datetime | None:
        """When the event happened (`now` when not said); None when unusable."""
        if spec.occurred_at is None:
            return self.now
        if spec.occurred_at.tzinfo is None or spec.occurred_at.utcoffset() is None:
            return None
        return spec.occurred_at.astimezone(UTC)

    def _priced(self, spec: UsageEventSpec, org: _Org) -> _Accepted:
        """The event with its cycle and dollar cost, not yet charged any credits."""
        occurred = self._occurred_at(spec)
        assert occurred is not None  # refused as INVALID before
        cost, unpriced = self._cost(spec)
        cycle = org.cycle(occurred)
        return _Accepted(
            organization_id=org.id,
            idempotency_key=spec.idempotency_key,
            meter_key=spec.meter,
            quantity=quantize(spec.quantity),
            occurred_at=occurred,
            received_at=self.now,
            cycle=cycle,
            cycle_start=None if org.terms is None else cycle.start,
            user_id=spec.user_id,
            workspace_id=spec.workspace_id,
            source=spec.source or UsageSource.API,
            feature=spec.feature,
            model=spec.model,
            tokens=spec.tokens or TokenCounts(),
            cost_usd=cost,
            unpriced=unpriced,
            credits=_ZERO,
            free_units_used=_ZERO,
            definition_id=spec.definition_id,
            definition_name=spec.definition_name,
        )

    def _cost(self, spec: UsageEventSpec) -> tuple[Decimal | None, bool]:
        """(dollar cost, unpriced): the given cost, else priced from the model table.

        A model (or token counts) that cannot be priced makes the event unpriced: it
        costs nothing yet. An AI event of an AI meter without model, tokens or cost has
        no dollar cost to price, so it is neither priced nor unpriced.
        """
        if spec.cost_usd is not None:
            return quantize(spec.cost_usd), False
        rates = None if spec.model is None else self.prices.get(spec.model)
        if rates is not None:
            return price_tokens(rates, spec.tokens or TokenCounts()), False
        return None, spec.model is not None or spec.tokens is not None

    def _check_release(self, event: _Accepted) -> None:
        used = self.lifetime_usage[(event.organization_id, event.meter_key)]
        if used + event.quantity < 0:
            raise _invalid(
                f"Releasing {_show(-event.quantity)} would take {event.meter_key} "
                f"below zero ({_show(used)} used)."
            )

    @staticmethod
    def _check_ai_paused(spec: UsageEventSpec, terms: _Terms) -> None:
        if terms.ai_paused and spec.is_ai:
            raise _denied(
                UsageDecisionCode.AI_ACCESS_PAUSED,
                "AI access is paused: the subscription is past due and payment "
                "retries are exhausted.",
            )

    def _check_on_plan(self, event: _Accepted, terms: _Terms) -> None:
        row = terms.limits.get(event.meter_key)
        operations = self.meters[event.meter_key].category is MeterCategory.OPERATIONS
        if operations and row is not None and row.free_units == 0:
            raise _denied(
                UsageDecisionCode.NOT_ALLOWED_ON_PLAN,
                f"{event.meter_key} is not included in the plan.",
            )

    def _check_allocations(self, event: _Accepted) -> None:
        if event.user_id is None:
            return
        org_id, user_id = event.organization_id, event.user_id
        for meter, totals in meter_contributions(event):
            allocation = self.allocations.get((org_id, user_id, meter))
            if allocation is None:
                continue
            used = self.user_usage[(org_id, event.cycle.start, meter, user_id)]
            if used + totals.quantity > allocation:
                raise _denied(
                    UsageDecisionCode.PERSONAL_ALLOCATION_EXCEEDED,
                    f"The user's allocation of {_show(allocation)} on {meter} would "
                    f"be exceeded ({_show(used)} used this cycle).",
                )

    def _check_caps(self, event: _Accepted, terms: _Terms, *, skip_spend: bool) -> None:
        """The plan's limit on each meter the event counts on.

        BYOM organizations skip the AI budget here: for them it is the spend cap,
        decided after the limits with its own code.
        """
        for meter, totals in meter_contributions(event):
            if skip_spend and meter == AI_SPEND_METER:
                continue
            limit = terms.limit(meter)
            used = self._used(event, meter)
            code = decide_cap(used, totals.quantity, limit, terms.enforcement(meter))
            if code is not UsageDecisionCode.ALLOWED:
                assert limit is not None  # only a limit denies
                raise _denied(code, _cap_message(meter, used, limit, code))

    def _check_spend_cap(self, event: _Accepted, terms: _Terms) -> None:
        for meter, totals in meter_contributions(event):
            if meter != AI_SPEND_METER:
                continue
            limit = terms.limit(meter)
            used = self._used(event, meter)
            code = decide_cap(used, totals.quantity, limit, terms.enforcement(meter))
            if code is not UsageDecisionCode.ALLOWED:
                assert limit is not None  # only a limit denies
                raise _denied(
                    UsageDecisionCode.SPEND_CAP_REACHED,
                    f"The monthly AI spend cap of ${_show(limit)} is reached "
                    f"(${_show(used)} spent this cycle).",
                )

    def _credits(self, event: _Accepted, terms: _Terms) -> tuple[Decimal, Decimal]:
        """(credits, free units used): the allowance left in the cycle goes first."""
        row = terms.limits.get(event.meter_key)
        return event_credits(
            event.quantity,
            self._used(event, event.meter_key),
            None if row is None else row.free_units,
            None if row is None else row.credits_per_unit,
            event.cost_usd,
            terms.credits_per_usd,
        )

    def _with_free_units(self, event: _Accepted, terms: _Terms) -> _Accepted:
        """A BYOM event: no credits, but the free allowance is still used up."""
        _, event.free_units_used = self._credits(event, terms)
        return event

    def _charged(self, event: _Accepted, terms: _Terms) -> _Accepted:
        """The event with its credits and draws; CREDITS_EXHAUSTED when unpaid."""
        credits, free_used = self._credits(event, terms)
        if credits > 0:
            pools = self._pools(event, terms)
            draws = draw_credits(pools, credits, event.occurred_at)
            if draws is None:
                live = [p for p in pools if not p.expired(event.occurred_at)]
                held = sum((p.balance for p in live), _ZERO)
                raise _denied(
                    UsageDecisionCode.CREDITS_EXHAUSTED,
                    f"Not enough credits: the event costs {_show(credits)}, the pools "
                    f"hold {_show(held)}.",
                )
            self.draws[(event.organization_id, event.idempotency_key)] = draws
        event.credits, event.free_units_used = credits, free_used
        return event

    def _used(self, event: _Accepted, meter: str) -> Decimal:
        return self._usage(event.organization_id, meter, event.cycle)

    def _usage(self, org_id: str, meter: str, cycle: Cycle) -> Decimal:
        """The usage a cap compares against: the cycle, or everything if cumulative."""
        if self.meters[meter].resets is Resets.NEVER:
            return self.lifetime_usage[(org_id, meter)]
        return self.cycle_usage[(org_id, cycle.start, meter)]

    def _pools(self, event: _Accepted, terms: _Terms) -> list[PoolState]:
        """The event's cycle's MONTHLY pool, then the organization's grants."""
        org_id = event.organization_id
        monthly = PoolState(
            CreditPoolKind.MONTHLY,
            None,
            terms.granted,
            self.monthly_spent[(org_id, event.cycle.start)],
            None,
        )
        return [monthly] + [
            PoolState(g.kind, g.id, g.amount, self.grant_spent[g.id], g.expires_at)
            for g in self.grants.get(org_id, [])
        ]

    def _apply(self, event: _Accepted) -> None:
        """Count an accepted event in the running totals, so the next one sees it."""
        org_id, cycle_start = event.organization_id, event.cycle.start
        self.recorded.add((org_id, event.idempotency_key))
        self.accepted.append(event)
        for meter, totals in meter_contributions(event):
            self.lifetime_usage[(org_id, meter)] += totals.quantity
            self.cycle_usage[(org_id, cycle_start, meter)] += totals.quantity
            if event.user_id is not None:
                key = (org_id, cycle_start, meter, event.user_id)
                self.user_usage[key] += totals.quantity
        for draw in self.draws.get((org_id, event.idempotency_key), []):
            if draw.kind is CreditPoolKind.MONTHLY:
                self.monthly_spent[(org_id, cycle_start)] += draw.amount
            else:
                assert draw.grant_id is not None  # every other pool is a grant
                self.grant_spent[draw.grant_id] += draw.amount

    # ------------------------------------------------------------------ checking

    def standing(
        self, spec: UsageEventSpec, now: datetime
    ) -> tuple[Decimal, Decimal | None]:
        """(used, limit) shown by a usage check: the user's with an allocation."""
        org = self.orgs.get(spec.organization_id)
        if org is None or spec.meter not in self.meters:
            return _ZERO, None
        cycle = org.cycle(now)
        if spec.user_id is not None:
            allocation = self.allocations.get((org.id, spec.user_id, spec.meter))
            if allocation is not None:
                used = self.user_usage[(org.id, cycle.start, spec.meter, spec.user_id)]
                return used, allocation
        limit = None if org.terms is None else org.terms.limit(spec.meter)
        return self._usage(org.id, spec.meter, cycle), limit


def _keys(meters: set[str]) -> tuple[str, ...]:
    return tuple(sorted(meters))


def _amount_problem(value: Decimal, max_amount: Decimal) -> str | None:
    problem = quantity_problem(value)
    if problem is not None:
        return problem
    if abs(value) > max_amount:
        return "quantity is too large to store"
    return None


def _cap_message(
    meter: str, used: Decimal, limit: Decimal, code: UsageDecisionCode
) -> str:
    if code is UsageDecisionCode.SOFT_LIMIT_REACHED:
        return (
            f"{meter} would pass 110 % of its limit of {_show(limit)} "
            f"({_show(used)} used)."
        )
    return f"{meter} would pass its limit of {_show(limit)} ({_show(used)} used)."


def _show(amount: Decimal) -> str:
    """An amount as people write it: 12.5, not 12.500000."""
    return f"{amount.normalize():f}" if amount else "0"


# --------------------------------------------------------------------------- loads


def _among(
    column: QueryableAttribute[str], values: Collection[str], dialect: str
) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)` instead.

    One array parameter keeps the statement the same whatever the number of values,
    so the plan PostgreSQL caches for it after five runs still probes the index; with
    a thousand separate parameters the cached generic plan scans the table.
    """
    ordered = sorted(values)
    if dialect == "postgresql":
        array = bindparam(None, ordered, type_=postgresql.ARRAY(String()))
        return column == any_(array)
    return column.in_(ordered)


async def _load_orgs(
    session: AsyncSession, org_ids: list[str], *, lock: bool
) -> dict[str, _Org]:
    """The organizations, locked first when deciding: decisions per org serialize."""
    query = (
        select(Organization.id, Organization.billing_model)
        .where(Organization.id.in_(org_ids))
        .order_by(Organization.id)
    )
    if lock:
        query = query.with_for_update()
    billing = {row.id: row.billing_model for row in await session.execute(query)}
    terms = await _load_terms(session, list(billing))
    return {
        org_id: _Org(org_id, model is BillingModel.USD, terms.get(org_id))
        for org_id, model in billing.items()
    }


async def _load_terms(session: AsyncSession, org_ids: list[str]) -> dict[str, _Terms]:
    if not org_ids:
        return {}
    rows = (
        await session.execute(
            select(Subscription, Plan)
            .join(Plan, Plan.key == Subscription.plan_key)
            .where(Subscription.organization_id.in_(org_ids))
        )
    ).all()
    plan_keys = sorted({plan.key for _, plan in rows})
    limits: dict[str, dict[str, PlanLimit]] = defaultdict(dict)
    if plan_keys:
        for limit in await session.scalars(
            select(PlanLimit).where(PlanLimit.plan_key.in_(plan_keys))
        ):
            limits[limit.plan_key][limit.meter_key] = limit
    return {
        sub.organization_id: _Terms(
            anchor=sub.anchor,
            period_start=sub.current_period_start,
            period_end=sub.current_period_end,
            seats=sub.seats,
            credits_per_usd=plan.credits_per_usd,
            ai_paused=sub.status is SubscriptionStatus.PAST_DUE
            and sub.payment_retries_exhausted,
            granted=monthly_grant(
                plan.tier, plan.monthly_credits, plan.credits_per_seat, sub.seats
            ),
            limits=limits[plan.key],
        )
        for sub, plan in rows
    }


async def _load_meters(session: AsyncSession) -> dict[str, _MeterInfo]:
    rows = await session.execute(select(Meter.key, Meter.category, Meter.resets))
    return {key: _MeterInfo(category, resets) for key, category, resets in rows}


async def _load_members(
    session: AsyncSession, org_ids: list[str], users: set[str], dialect: str
) -> set[tuple[str, str]]:
    if not org_ids or not users:
        return set()
    rows = await session.execute(
        select(Member.organization_id, Member.user_id).where(
            Member.organization_id.in_(org_ids),
            _among(Member.user_id, users, dialect),
        )
    )
    return {(org_id, user_id) for org_id, user_id in rows}


async def _load_workspaces(
    session: AsyncSession, org_ids: list[str], workspaces: set[str], dialect: str
) -> set[tuple[str, str]]:
    if not org_ids or not workspaces:
        return set()
    rows = await session.execute(
        select(Workspace.organization_id, Workspace.id).where(
            Workspace.organization_id.in_(org_ids),
            _among(Workspace.id, workspaces, dialect),
        )
    )
    return {(org_id, workspace_id) for org_id, workspace_id in rows}


async def _load_prices(
    session: AsyncSession, models: set[str], dialect: str
) -> dict[str, ModelRates]:
    if not models:
        return {}
    prices = await session.scalars(
        select(ModelPrice).where(_among(ModelPrice.model, models, dialect))
    )
    return {
        price.model: ModelRates(
            price.input_per_million_usd,
            price.output_per_million_usd,
            price.cache_read_per_million_usd,
            price.cache_write_per_million_usd,
        )
        for price in prices
    }


async def _load_allocations(
    session: AsyncSession, org_ids: list[str], users: set[str], dialect: str
) -> dict[tuple[str, str, str], Decimal]:
    if not org_ids or not users:
        return {}
    rows = await session.execute(
        select(
            PersonalAllocation.organization_id,
            PersonalAllocation.user_id,
            PersonalAllocation.meter_key,
            PersonalAllocation.limit,
        ).where(
            PersonalAllocation.organization_id.in_(org_ids),
            _among(PersonalAllocation.user_id, users, dialect),
        )
    )
    return {(org, user, meter): limit for org, user, meter, limit in rows}


async def _load_grants(
    session: AsyncSession, org_ids: list[str]
) -> tuple[dict[str, list[_Grant]], dict[str, Decimal]]:
    """BONUS and PURCHASED grants that still hold credits, and what each has spent."""
    grants: dict[str, list[_Grant]] = defaultdict(list)
    spent: dict[str, Decimal] = {}
    if not org_ids:
        return grants, spent
    rows = await session.execute(
        select(
            CreditGrant.organization_id,
            CreditGrant.id,
            CreditGrant.kind,
            CreditGrant.amount,
            CreditGrant.spent,
            CreditGrant.expires_at,
        )
        .where(
            CreditGrant.organization_id.in_(org_ids),
            CreditGrant.spent < CreditGrant.amount,
        )
        .order_by(CreditGrant.id)
    )
    for org_id, grant_id, kind, amount, grant_spent, expires_at in rows:
        grants[org_id].append(_Grant(grant_id, kind, amount, expires_at))
        spent[grant_id] = grant_spent
    return grants, spent


async def _load_recorded(
    session: AsyncSession,
    specs: Sequence[UsageEventSpec],
    orgs: dict[str, _Org],
    dialect: str,
) -> set[tuple[str, str]]:
    """The call's idempotency keys already recorded (exact: the orgs are locked)."""
    pairs = sorted(
        {
            (s.organization_id, s.idempotency_key)
            for s in specs
            if s.organization_id in orgs
        }
    )
    if not pairs:
        return set()
    query = _recorded_pg(pairs) if dialect == "postgresql" else _recorded(pairs)
    return {(org_id, key) for org_id, key in await session.execute(query)}


def _recorded(pairs: list[tuple[str, str]]) -> Select[str, str]:
    keys: dict[str, list[str]] = defaultdict(list)
    for org_id, key in pairs:
        keys[org_id].append(key)
    return select(UsageEvent.organization_id, UsageEvent.idempotency_key).where(
        or_(
            *(
                and_(
                    UsageEvent.organization_id == org_id,
                    UsageEvent.idempotency_key.in_(org_keys),
                )
                for org_id, org_keys in keys.items()
            )
        )
    )


def _recorded_pg(pairs: list[tuple[str, str]]) -> Select[str, str]:
    """The keys as a joined `unnest` of two arrays: one probe of the unique index per
    key (a long IN list may be planned as a scan of the organization's events, each
    compared with every key)."""
    array = postgresql.ARRAY(String())
    probe = (
        func.unnest(
            bindparam("probe_orgs", [org_id for org_id, _ in pairs], type_=array),
            bindparam("probe_keys", [key for _, key in pairs], type_=array),
        )
        .table_valued("organization_id", "idempotency_key")
        .render_derived("probe")
    )
    return select(UsageEvent.organization_id, UsageEvent.idempotency_key).join_from(
        probe,
        UsageEvent,
        and_(
            UsageEvent.organization_id == probe.c.organization_id,
            UsageEvent.idempotency_key == probe.c.idempotency_key,
        ),
    )


# --------------------------------------------------------------------------- writes


async def _store(session: AsyncSession, books: _Books, dialect: str) -> None:
    """Write the accepted events, their draws and rollups: a few bulk statements."""
    if not books.accepted:
        return
    ids = await _insert_events(session, books.accepted, dialect)
    draws = [
        (event, draw)
        for event in books.accepted
        for draw in books.draws.get((event.organization_id, event.idempotency_key), [])
    ]
    if draws:
        await _insert_draws(session, draws, ids, dialect)
        await _add_grant_spending(session, draws)
        await _add_cycle_spending(session, draws, dialect)
    await add_to_rollups(session, books.accepted)


async def _insert_events(
    session: AsyncSession, accepted: list[_Accepted], dialect: str
) -> dict[tuple[str, str], int]:
    """Insert the events; their ids by (organization, idempotency key)."""
    rows = [event.row() for event in accepted]
    returning = (_EVENTS.c.id, _EVENTS.c.organization_id, _EVENTS.c.idempotency_key)
    if dialect == "postgresql":
        statement = _EVENTS.insert().from_select(
            list(rows[0]), unnested_rows(_EVENTS, rows)
        )
        result = await session.execute(statement.returning(*returning))
    else:
        result = await session.execute(_EVENTS.insert().returning(*returning), rows)
    return {(org_id, key): event_id for event_id, org_id, key in result}


async def _insert_draws(
    session: AsyncSession,
    draws: list[tuple[_Accepted, Draw]],
    ids: dict[tuple[str, str], int],
    dialect: str,
) -> None:
    rows = [
        {
            "organization_id": event.organization_id,
            "event_id": ids[(event.organization_id, event.idempotency_key)],
            "cycle_start": event.cycle.start,
            "kind": draw.kind,
            "grant_id": draw.grant_id,
            "amount": draw.amount,
        }
        for event, draw in draws
    ]
    if dialect == "postgresql":
        source = unnested_rows(_DRAWS, rows)
        await session.execute(_DRAWS.insert().from_select(list(rows[0]), source))
    else:
        await session.execute(_DRAWS.insert(), rows)


async def _add_grant_spending(
    session: AsyncSession, draws: list[tuple[_Accepted, Draw]]
) -> None:
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for _, draw in draws:
        if draw.grant_id is not None:
            spent[draw.grant_id] += draw.amount
    if not spent:
        return
    await session.execute(
        update(_GRANTS)
        .where(_GRANTS.c.id == bindparam("grant"))
        .values(spent=_GRANTS.c.spent + bindparam("delta", type_=Amount())),
        [{"grant": grant, "delta": delta} for grant, delta in sorted(spent.items())],
    )


async def _add_cycle_spending(
    session: AsyncSession, draws: list[tuple[_Accepted, Draw]], dialect: str
) -> None:
    spent: dict[tuple[str, datetime, str, CreditPoolKind], Decimal] = defaultdict(
        Decimal
    )
    for event, draw in draws:
        assert event.cycle_start is not None
        pool = draw.grant_id if draw.grant_id is not None else _MONTHLY_POOL
        spent[(event.organization_id, event.cycle_start, pool, draw.kind)] += (
            draw.amount
        )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_CYCLE_SPEND).values(
        [
            {
                "organization_id": org_id,
                "cycle_start": cycle_start,
                "grant_id": pool,
                "kind": kind,
                "spent": amount,
            }
            for (org_id, cycle_start, pool, kind), amount in sorted(spent.items())
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["organization_id", "cycle_start", "grant_id"],
            set_={"spent": _CYCLE_SPEND.c.spent + statement.excluded.spent},
        )
    )
