"""Deciding usage events, up to the counters: validation, idempotency against SQL,
pricing, the rules that need no counter, and the rest as counter plans.

`Books.plan` turns a call's events into per-organization `EventPlan`s (caps,
allocations, releases, the charge, what an accepted event adds), a counter store
decides them (`store.counters`), and `Books.finish` turns its decisions into outcomes,
messages and the rows to store. The decision order is in `store.recording`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rules.amounts import (
    MAX_COST_USD,
    MAX_CREDITS,
    MAX_QUANTITY,
    MAX_TOKENS,
    MAX_TOTAL,
    amount_problem,
    quantize,
)
from rules.credits import Draw
from rules.cycles import Cycle
from rules.enums import (
    AiFeature,
    CreditPoolKind,
    Enforcement,
    MeterCategory,
    Resets,
    UsageDecisionCode,
    UsageSource,
    UsageStatus,
)
from rules.meters import decide_cap
from rules.pricing import ModelRates, TokenCounts, price_tokens
from store.catalog import AI_METERS
from store.counters import (
    Accepted,
    Batch,
    Cap,
    Charge,
    Check,
    Decision,
    Denied,
    Duplicate,
    EventPlan,
    Floor,
    Pool,
    grant_field,
    monthly_field,
    usage_field,
    user_field,
)
from store.rollups import AI_SPEND_METER, meter_contributions
from store.usage_loads import (
    FieldSource,
    Grant,
    Lock,
    MeterInfo,
    Org,
    Terms,
    load_allocations,
    load_grants,
    load_members,
    load_meters,
    load_orgs,
    load_prices,
    load_workspaces,
)
from store.usage_loads_pg import load_books_postgres

MAX_EVENTS_PER_CALL = 1000
FUTURE_TOLERANCE = timedelta(minutes=5)

_ZERO = Decimal(0)
_TEXT_LIMITS = {
    "idempotency key": 200,
    "model": 128,
    "definitionId": 64,
    "definitionName": 200,
}
_DUPLICATE_MESSAGE = "An event with this idempotency key was already recorded."
_NO_TOKENS = TokenCounts()


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


@dataclass(slots=True)
class StoredEvent:
    """An accepted event: the stored row, and what rollups read (a RollupEvent).

    Drafted before its credits are known and completed by `Books.finish`.
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
    draws: tuple[Draw, ...] = ()

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
    """One event's decision stops here; raised and caught inside `Books` only."""

    def __init__(
        self, status: UsageStatus, code: UsageDecisionCode | None, message: str
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _invalid(message: str) -> _Denied:
    return _Denied(UsageStatus.INVALID, UsageDecisionCode.INVALID, message)


@dataclass(slots=True)
class _Shape:
    """What events alike in everything but their key and time share within a call:
    their validation (up to and after the time's check), their stored amounts and
    their counter plans per cycle and set of live grants (`Books._shape`)."""

    before_time: str | None
    after_time: str | None
    org: Org | None
    """None when the events are invalid whatever their key and time."""
    quantity: Decimal
    source: UsageSource
    tokens: TokenCounts
    cost: Decimal | None = None
    unpriced: bool = False
    bodies: dict[tuple[datetime, tuple[str, ...]], tuple[EventPlan, str | None]] = (
        field(default_factory=dict)
    )

    def cycle_start(self, cycle: Cycle) -> datetime | None:
        """What is stored as the event's cycle: none without a subscription."""
        assert self.org is not None
        return None if self.org.terms is None else cycle.start


@dataclass
class Plan:
    """A call's events after everything decided without counters."""

    outcomes: list[EventOutcome | None]
    """Decided already (INVALID, or DUPLICATE of a recorded key); None: by counters."""
    drafts: list[StoredEvent | None]
    plans: list[EventPlan | None]
    denials: list[str | None]
    """The message of a plan's `denial`."""
    positions: dict[str, list[int]] = field(default_factory=dict)
    """Per organization, the indexes its counter batch decides, in order."""
    events: dict[str, list[EventPlan]] = field(default_factory=dict)
    """Per organization, the plans of those events."""
    sources: dict[str, dict[str, FieldSource]] = field(default_factory=dict)
    loads: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    """Counter values at hand already (what grants spent)."""
    watch: dict[str, str] = field(default_factory=dict)

    def batches(self, orgs: Mapping[str, Org], *, advance: bool) -> dict[str, Batch]:
        names = sorted(set(self.positions) | set(self.watch))
        return {
            org_id: Batch(
                organization_id=org_id,
                version=orgs[org_id].version,
                events=self.events.get(org_id, []),
                loads=self.loads.get(org_id, {}),
                watch=[self.watch[org_id]] if org_id in self.watch else [],
                advance=advance,
            )
            for org_id in names
        }


@dataclass
class Books:
    """What one call decides with, loaded up front in a constant number of queries."""

    now: datetime
    orgs: dict[str, Org]
    meters: dict[str, MeterInfo]
    members: set[tuple[str, str]]
    workspaces: set[tuple[str, str]]
    prices: dict[str, ModelRates]
    allocations: dict[tuple[str, str, str], Decimal]
    grants: dict[str, list[Grant]]
    grant_spent: dict[str, Decimal]
    sources: dict[str, dict[str, FieldSource]] = field(default_factory=dict)
    """Where every counter the call's plans name comes from in SQL."""
    _pools: dict[tuple[str, datetime], tuple[Pool, ...]] = field(default_factory=dict)
    _bodies: dict[tuple[Any, ...], tuple[EventPlan, str | None]] = field(
        default_factory=dict
    )
    _live: dict[tuple[str, datetime], tuple[str, ...]] = field(default_factory=dict)
    _every_grant: dict[str, tuple[datetime | None, tuple[str, ...]]] = field(
        default_factory=dict
    )
    _shapes: dict[tuple[Any, ...], _Shape] = field(default_factory=dict)

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        specs: Sequence[UsageEventSpec],
        now: datetime,
        lock: Lock | None,
    ) -> Books:
        dialect = (await session.connection()).dialect.name
        # A NUL makes the event INVALID (`_text_problem`); PostgreSQL refuses it in a
        # parameter, so such events name nothing to load.
        specs = [spec for spec in specs if not has_nul(spec)]
        org_ids = sorted({spec.organization_id for spec in specs})
        users = {spec.user_id for spec in specs if spec.user_id is not None}
        workspaces = {s.workspace_id for s in specs if s.workspace_id is not None}
        models = {spec.model for spec in specs if spec.model is not None}
        if dialect == "postgresql":
            # An AI event's cost also counts on the AI budget's meter.
            meters = {spec.meter for spec in specs} | {AI_SPEND_METER}
            loaded = await load_books_postgres(
                session, org_ids, meters, users, workspaces, models, lock
            )
            return cls(
                now=now,
                orgs=loaded.orgs,
                meters=loaded.meters,
                members=loaded.members,
                workspaces=loaded.workspaces,
                prices=loaded.prices,
                allocations=loaded.allocations,
                grants=loaded.grants,
                grant_spent=loaded.grant_spent,
            )
        orgs = await load_orgs(session, org_ids, lock)
        credit_orgs = [o.id for o in orgs.values() if not o.usd and o.terms]
        grants, grant_spent = await load_grants(session, credit_orgs)
        return cls(
            now=now,
            orgs=orgs,
            meters=await load_meters(session),
            members=await load_members(session, list(orgs), users, dialect),
            workspaces=await load_workspaces(session, list(orgs), workspaces, dialect),
            prices=await load_prices(session, models, dialect),
            allocations=await load_allocations(session, list(orgs), users, dialect),
            grants=grants,
            grant_spent=grant_spent,
        )

    # ------------------------------------------------------------------ planning

    def plan(
        self,
        specs: Sequence[UsageEventSpec],
        recorded: set[tuple[str, str]],
        *,
        claiming: bool = True,
    ) -> Plan:
        """Each event validated, priced and planned; `recorded`: keys already stored.

        `claiming` False (a usage check): events carry no key, so nothing in the
        batch is a duplicate of anything.
        """
        plan = Plan(
            sources=self.sources,
            outcomes=[None] * len(specs),
            drafts=[None] * len(specs),
            plans=[None] * len(specs),
            denials=[None] * len(specs),
        )
        outcomes, drafts, plans, denials = (
            plan.outcomes,
            plan.drafts,
            plan.plans,
            plan.denials,
        )
        now = self.now
        latest = now + FUTURE_TOLERANCE
        positions: list[int] | None = None
        events: list[EventPlan] | None = None
        last_org: str | None = None
        for index, spec in enumerate(specs):
            key = spec.idempotency_key
            shape = self._shape(spec)
            # The order of `_problem`: the key, the shape's checks before the time,
            # the time, the shape's checks after it.
            problem = _key_problem(key) or shape.before_time
            occurred = spec.occurred_at
            if problem is None and occurred is not None:
                problem = _time_problem(occurred, latest)
            problem = problem or shape.after_time
            if problem is not None:
                outcomes[index] = EventOutcome(
                    index, key, UsageStatus.INVALID, UsageDecisionCode.INVALID, problem
                )
                continue
            org = shape.org
            assert org is not None  # no problem: the organization is known
            if (org.id, key) in recorded:
                outcomes[index] = EventOutcome(
                    index, key, UsageStatus.DUPLICATE, None, _DUPLICATE_MESSAGE
                )
                continue
            occurred = now if occurred is None else occurred.astimezone(UTC)
            cycle = org.cycle(occurred)
            event = StoredEvent(
                org.id,
                key,
                spec.meter,
                shape.quantity,
                occurred,
                now,
                cycle,
                shape.cycle_start(cycle),
                spec.user_id,
                spec.workspace_id,
                shape.source,
                spec.feature,
                spec.model,
                shape.tokens,
                shape.cost,
                shape.unpriced,
                _ZERO,
                _ZERO,
                spec.definition_id,
                spec.definition_name,
            )
            body_key = (cycle.start, self._live_grants(org, occurred))
            body = shape.bodies.get(body_key)
            if body is None:
                body = shape.bodies[body_key] = self._shared_body(spec, event)
            shared, denials[index] = body
            drafts[index] = event
            plans[index] = planned = EventPlan(
                key if claiming else None,
                shared.checks,
                shared.charge,
                shared.adds,
                shared.denial,
            )
            if org.id != last_org:
                last_org = org.id
                positions = plan.positions.setdefault(org.id, [])
                events = plan.events.setdefault(org.id, [])
            assert positions is not None
            assert events is not None
            positions.append(index)
            events.append(planned)
        for org_id in plan.sources:
            plan.loads[org_id] = {
                name: self.grant_spent[source.grant]
                for name, source in plan.sources[org_id].items()
                if source.grant is not None
            }
        return plan

    def _shape(self, spec: UsageEventSpec) -> _Shape:
        """What `spec` shares with every event of the call alike in all but its key
        and time (most of a bulk batch): validated, priced and planned once.

        Keyed by the fields' values: equal amounts validate and price alike whatever
        their digits (`rules.amounts.quantity_problem` reads only digits that would
        be lost). Amounts that are not finite are not cached (not all are hashable).
        """
        cost = spec.cost_usd
        if not spec.quantity.is_finite() or (cost is not None and not cost.is_finite()):
            return self._new_shape(spec)
        key = (
            spec.organization_id,
            spec.meter,
            spec.quantity,
            spec.user_id,
            spec.workspace_id,
            spec.source,
            spec.feature,
            spec.model,
            spec.tokens,
            cost,
            spec.definition_id,
            spec.definition_name,
        )
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = self._new_shape(spec)
        return shape

    def _new_shape(self, spec: UsageEventSpec) -> _Shape:
        before = self._problem_before_time(spec)
        after = None if before is not None else self._problem_after_time(spec)
        org = self.orgs.get(spec.organization_id)
        if before is not None or after is not None or org is None:
            return _Shape(before, after, None, _ZERO, UsageSource.API, _NO_TOKENS)
        cost, unpriced = self._cost(spec)
        return _Shape(
            None,
            None,
            org,
            quantize(spec.quantity),
            spec.source or UsageSource.API,
            spec.tokens or _NO_TOKENS,
            cost,
            unpriced,
        )

    def _shared_body(
        self, spec: UsageEventSpec, event: StoredEvent
    ) -> tuple[EventPlan, str | None]:
        """The checks, charge and additions that every event of the same shape
        shares (computed once per call, and one object, which the Redis script is
        sent once); its key is the event's own."""
        org = self.orgs[event.organization_id]
        shape = (
            org.id,
            event.meter_key,
            event.cycle.start,
            event.user_id,
            event.quantity,
            event.cost_usd,
            spec.is_ai,
            self._live_grants(org, event.occurred_at),
        )
        body = self._bodies.get(shape)
        if body is None:
            body = self._bodies[shape] = self._body(spec, event)
        return body

    def _live_grants(self, org: Org, at: datetime) -> tuple[str, ...]:
        """The grants that may be drawn from at `at`: all the pools' draw order and
        balances depend on, so events of one shape share one `Charge` whatever their
        time (its `at` is the first one's). Before the first expiry that is every
        grant (one tuple per organization, not one per instant)."""
        grants = self.grants.get(org.id)
        if not grants:
            return ()
        every = self._every_grant.get(org.id)
        if every is None:
            expiries = [g.expires_at for g in grants if g.expires_at is not None]
            every = self._every_grant[org.id] = (
                min(expiries) if expiries else None,
                tuple(grant.id for grant in grants),
            )
        first_expiry, ids = every
        if first_expiry is None or at < first_expiry:
            return ids
        found = self._live.get((org.id, at))
        if found is None:
            found = self._live[(org.id, at)] = tuple(
                grant.id
                for grant in grants
                if grant.expires_at is None or grant.expires_at > at
            )
        return found

    def _body(
        self, spec: UsageEventSpec, event: StoredEvent
    ) -> tuple[EventPlan, str | None]:
        """The rules as counter checks, in the order of `store.recording`."""
        org = self.orgs[event.organization_id]
        key = None
        contributions = list(meter_contributions(event))
        adds = tuple(
            (name, totals.quantity)
            for meter, totals in contributions
            for name in self._counted_in(org, event, meter)
        )
        if event.quantity < 0:
            usage = self._usage_field(org, event.meter_key, event.cycle)
            floor = Floor(usage, event.meter_key, event.quantity)
            return EventPlan(key, (floor,), None, adds), None
        terms = org.terms
        checks: list[Check] = [
            # Past this a total (and every rollup within it) would not be storable.
            Cap(
                self._usage_field(org, meter, event.cycle),
                meter,
                totals.quantity,
                MAX_TOTAL,
                Enforcement.HARD,
                UsageDecisionCode.INVALID,
            )
            for meter, totals in contributions
            if totals.quantity > 0
        ]
        checks.extend(self._allocation_checks(org, event, contributions))
        if terms is None:
            return EventPlan(key, tuple(checks), None, adds), None
        denial = self._static_denial(spec, event, terms)
        if denial is not None:
            return EventPlan(key, denial=denial[0]), denial[1]
        caps: list[Check] = []
        spend_caps: list[Check] = []
        for meter, totals in contributions:
            limit = terms.limit(meter)
            if limit is None:
                continue
            # BYOM: the AI budget is the spend cap, decided after the limits with
            # its own code.
            spend_cap = org.usd and meter == AI_SPEND_METER
            (spend_caps if spend_cap else caps).append(
                Cap(
                    self._usage_field(org, meter, event.cycle),
                    meter,
                    totals.quantity,
                    limit,
                    terms.enforcement(meter),
                    UsageDecisionCode.SPEND_CAP_REACHED if spend_cap else None,
                )
            )
        checks.extend(caps + spend_caps)
        row = terms.limits.get(event.meter_key)
        charge = Charge(
            field=self._usage_field(org, event.meter_key, event.cycle),
            quantity=event.quantity,
            free_units=None if row is None else row.free_units,
            credits_per_unit=None if row is None else row.credits_per_unit,
            cost_usd=event.cost_usd,
            credits_per_usd=terms.credits_per_usd,
            pools=None if org.usd else self._pool_plan(org, event.cycle, terms),
            at=event.occurred_at,
        )
        return EventPlan(key, tuple(checks), charge, adds), None

    def _static_denial(
        self, spec: UsageEventSpec, event: StoredEvent, terms: Terms
    ) -> tuple[UsageDecisionCode, str] | None:
        """AI_ACCESS_PAUSED and NOT_ALLOWED_ON_PLAN: decided without counters (still
        after the in-call duplicate check, which the counters make)."""
        if terms.ai_paused and spec.is_ai:
            return (
                UsageDecisionCode.AI_ACCESS_PAUSED,
                "AI access is paused: the subscription is past due and payment "
                "retries are exhausted.",
            )
        row = terms.limits.get(event.meter_key)
        operations = self.meters[event.meter_key].category is MeterCategory.OPERATIONS
        if operations and row is not None and row.free_units == 0:
            return (
                UsageDecisionCode.NOT_ALLOWED_ON_PLAN,
                f"{event.meter_key} is not included in the plan.",
            )
        return None

    def _allocation_checks(
        self,
        org: Org,
        event: StoredEvent,
        contributions: list[tuple[str, Any]],
    ) -> list[Check]:
        if event.user_id is None:
            return []
        checks: list[Check] = []
        for meter, totals in contributions:
            allocation = self.allocations.get((org.id, event.user_id, meter))
            if allocation is None:
                continue
            checks.append(
                Cap(
                    self._user_field(org, meter, event.cycle, event.user_id),
                    meter,
                    totals.quantity,
                    allocation,
                    Enforcement.HARD,
                    UsageDecisionCode.PERSONAL_ALLOCATION_EXCEEDED,
                )
            )
        return checks

    def _counted_in(self, org: Org, event: StoredEvent, meter: str) -> list[str]:
        """The counters an accepted event adds to on `meter`: the usage decisions
        compare (the cycle's, or everything on a cumulative meter), and the user's
        where the user has an allocation on it."""
        names = [self._usage_field(org, meter, event.cycle)]
        user = event.user_id
        if user is not None and (org.id, user, meter) in self.allocations:
            names.append(self._user_field(org, meter, event.cycle, user))
        return names

    def _usage_field(self, org: Org, meter: str, cycle: Cycle) -> str:
        if self.meters[meter].resets is Resets.NEVER:
            name = usage_field(meter, None)
            source = FieldSource(meter=meter)
        else:
            name = usage_field(meter, cycle.start)
            source = FieldSource(meter=meter, cycle=cycle)
        self.sources.setdefault(org.id, {})[name] = source
        return name

    def _user_field(self, org: Org, meter: str, cycle: Cycle, user: str) -> str:
        name = user_field(meter, cycle.start, user)
        source = FieldSource(meter=meter, cycle=cycle, user=user)
        self.sources.setdefault(org.id, {})[name] = source
        return name

    def _pool_plan(self, org: Org, cycle: Cycle, terms: Terms) -> tuple[Pool, ...]:
        """The cycle's MONTHLY pool, then the organization's grants (one tuple per
        cycle, shared by its events)."""
        cached = self._pools.get((org.id, cycle.start))
        if cached is not None:
            return cached
        sources = self.sources.setdefault(org.id, {})
        monthly = monthly_field(cycle.start)
        sources[monthly] = FieldSource(monthly=cycle)
        pools = [Pool(monthly, CreditPoolKind.MONTHLY, None, terms.granted, None)]
        for grant in self.grants.get(org.id, []):
            name = grant_field(grant.id)
            sources[name] = FieldSource(grant=grant.id)
            pools.append(
                Pool(name, grant.kind, grant.id, grant.amount, grant.expires_at)
            )
        self._pools[(org.id, cycle.start)] = found = tuple(pools)
        return found

    # ------------------------------------------------------------------ validation

    def _problem(self, spec: UsageEventSpec) -> str | None:
        """Why an event cannot be recorded at all, whatever the usage so far."""
        problem = _key_problem(spec.idempotency_key) or self._problem_before_time(spec)
        if problem is None and spec.occurred_at is not None:
            problem = _time_problem(spec.occurred_at, self.now + FUTURE_TOLERANCE)
        return problem or self._problem_after_time(spec)

    def _problem_before_time(self, spec: UsageEventSpec) -> str | None:
        """The checks after the key's and before the time's, in `_problem`'s order:
        they read no key and no time, so a shape of events shares them."""
        if (problem := self._text_problem(spec)) is not None:
            return problem
        if spec.organization_id not in self.orgs:
            return f"Unknown organization {spec.organization_id!r}."
        meter = self.meters.get(spec.meter)
        if meter is None:
            return f"Unknown meter {spec.meter!r}."
        return self._quantity_problem(spec, meter)

    def _problem_after_time(self, spec: UsageEventSpec) -> str | None:
        """The checks after the time's (members, workspaces, AI fields)."""
        org = spec.organization_id
        if spec.user_id is not None and (org, spec.user_id) not in self.members:
            return f"Unknown user {spec.user_id!r}: not a member of the organization."
        if spec.workspace_id is not None and (org, spec.workspace_id) not in (
            self.workspaces
        ):
            return f"Unknown workspace {spec.workspace_id!r}."
        return self._ai_problem(spec) or self._credits_problem(spec)

    def _credits_problem(self, spec: UsageEventSpec) -> str | None:
        """An event may cost at most MAX_CREDITS credits (before its free units), so
        that one event's draw is storable however the plan prices it."""
        org = self.orgs[spec.organization_id]
        if org.terms is None or org.usd:
            return None
        row = org.terms.limits.get(spec.meter)
        credits = _ZERO
        if row is not None and row.credits_per_unit and spec.quantity > 0:
            credits += spec.quantity * row.credits_per_unit
        cost, _ = self._cost(spec)
        if cost and org.terms.credits_per_usd:
            credits += cost * org.terms.credits_per_usd
        if credits > MAX_CREDITS:
            return f"The event would cost more than {MAX_CREDITS:f} credits."
        return None

    @staticmethod
    def _text_problem(spec: UsageEventSpec) -> str | None:
        """Over-long model or definition fields (the key's length is `_key_problem`,
        checked before these)."""
        if has_nul(spec):
            return "Text fields must not contain a NUL character."
        texts = {
            "model": spec.model,
            "definitionId": spec.definition_id,
            "definitionName": spec.definition_name,
        }
        for name, value in texts.items():
            if value is not None and len(value) > _TEXT_LIMITS[name]:
                return f"The {name} is longer than {_TEXT_LIMITS[name]} characters."
        return None

    def _quantity_problem(self, spec: UsageEventSpec, meter: MeterInfo) -> str | None:
        problem = amount_problem(spec.quantity, MAX_QUANTITY)
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

    def _ai_problem(self, spec: UsageEventSpec) -> str | None:
        if spec.cost_usd is not None:
            problem = amount_problem(spec.cost_usd, MAX_COST_USD)
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
            if any(count < 0 or count > MAX_TOKENS for count in counts):
                return f"Token counts must be whole numbers from 0 to {MAX_TOKENS}."
            rates = None if spec.model is None else self.prices.get(spec.model)
            priced = spec.cost_usd is None and rates is not None
            if priced and rates and price_tokens(rates, spec.tokens) > MAX_COST_USD:
                return f"The tokens' cost is larger than {MAX_COST_USD:f} dollars."
        return None

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

    # ------------------------------------------------------------------ outcomes

    def finish(
        self,
        specs: Sequence[UsageEventSpec],
        plan: Plan,
        decided: Mapping[str, Sequence[Decision]],
    ) -> tuple[list[EventOutcome], list[StoredEvent]]:
        """Every event's outcome, in order, and the accepted events to store.

        Events of a bulk batch mostly share one decision object and one quantity
        object (`_Shape`): the message of the previous accepted event is reused
        while both are the same objects."""
        decisions: list[Decision | None] = [None] * len(specs)
        for org_id, positions in plan.positions.items():
            for position, found in zip(positions, decided[org_id], strict=True):
                decisions[position] = found
        outcomes: list[EventOutcome] = []
        accepted: list[StoredEvent] = []
        messages: dict[tuple[str, Decimal, Decimal], str] = {}
        known_outcomes, drafts = plan.outcomes, plan.drafts
        last: tuple[Decision, str, Decimal, str] | None = None
        accepted_status = UsageStatus.ACCEPTED
        for index, spec in enumerate(specs):
            known = known_outcomes[index]
            if known is not None:
                outcomes.append(known)
                continue
            event = drafts[index]
            assert event is not None
            decision = decisions[index]
            key = spec.idempotency_key
            if isinstance(decision, Accepted):
                event.credits = decision.credits
                event.free_units_used = decision.free_units_used
                event.draws = decision.draws
                accepted.append(event)
                if (
                    last is not None
                    and last[0] is decision
                    and last[1] == event.meter_key
                    and last[2] is event.quantity
                ):
                    message = last[3]
                else:
                    said = (event.meter_key, event.quantity, event.credits)
                    message = messages.get(said) or messages.setdefault(
                        said, _recorded(event)
                    )
                    last = (decision, event.meter_key, event.quantity, message)
                outcomes.append(
                    EventOutcome(index, key, accepted_status, None, message)
                )
            elif isinstance(decision, Duplicate):
                outcomes.append(
                    EventOutcome(
                        index, key, UsageStatus.DUPLICATE, None, _DUPLICATE_MESSAGE
                    )
                )
            else:
                assert isinstance(decision, Denied)
                planned = plan.plans[index]
                assert planned is not None
                status, code, message = _refusal(planned, decision, plan.denials[index])
                outcomes.append(EventOutcome(index, key, status, code, message))
        return outcomes, accepted

    def standing(
        self, spec: UsageEventSpec, now: datetime, plan: Plan
    ) -> Decimal | None:
        """The limit a usage check shows (the user's allocation where there is one),
        after noting in `plan.watch` the counter whose value it shows as used."""
        org = self.orgs.get(spec.organization_id)
        if org is None or spec.meter not in self.meters:
            return None
        cycle = org.cycle(now)
        if spec.user_id is not None:
            allocation = self.allocations.get((org.id, spec.user_id, spec.meter))
            if allocation is not None:
                plan.watch[org.id] = self._user_field(
                    org, spec.meter, cycle, spec.user_id
                )
                return allocation
        plan.watch[org.id] = self._usage_field(org, spec.meter, cycle)
        return None if org.terms is None else org.terms.limit(spec.meter)


def _recorded(event: StoredEvent) -> str:
    message = f"Recorded {_show(event.quantity)} {event.meter_key}"
    if event.credits:
        message += f" for {_show(event.credits)} credits"
    return message + "."


def _refusal(
    planned: EventPlan, denied: Denied, denial_message: str | None
) -> tuple[UsageStatus, UsageDecisionCode, str]:
    """(status, code, message) of a denied event, from the check that failed."""
    if denied.check < 0:
        assert planned.denial is not None
        assert denial_message is not None
        return UsageStatus.DENIED, planned.denial, denial_message
    if denied.check == len(planned.checks):
        return (
            UsageStatus.DENIED,
            UsageDecisionCode.CREDITS_EXHAUSTED,
            f"Not enough credits: the event costs {_show(denied.credits)}, the pools "
            f"hold {_show(denied.used)}.",
        )
    check = planned.checks[denied.check]
    used = denied.used
    if isinstance(check, Floor):
        return (
            UsageStatus.INVALID,
            UsageDecisionCode.INVALID,
            f"Releasing {_show(-check.amount)} would take {check.meter} below zero "
            f"({_show(used)} used).",
        )
    limit = _show(check.limit)
    if check.code is UsageDecisionCode.INVALID:
        return (
            UsageStatus.INVALID,
            check.code,
            f"{check.meter} would pass the largest total the gateway keeps, {limit} "
            f"({_show(used)} counted).",
        )
    if check.code is UsageDecisionCode.PERSONAL_ALLOCATION_EXCEEDED:
        message = (
            f"The user's allocation of {limit} on {check.meter} would be exceeded "
            f"({_show(used)} used this cycle)."
        )
        return UsageStatus.DENIED, check.code, message
    if check.code is UsageDecisionCode.SPEND_CAP_REACHED:
        message = (
            f"The monthly AI spend cap of ${limit} is reached "
            f"(${_show(used)} spent this cycle)."
        )
        return UsageStatus.DENIED, check.code, message
    code = decide_cap(used, check.amount, check.limit, check.enforcement)
    if code is UsageDecisionCode.SOFT_LIMIT_REACHED:
        message = (
            f"{check.meter} would pass 110 % of its limit of {limit} "
            f"({_show(used)} used)."
        )
    else:
        message = f"{check.meter} would pass its limit of {limit} ({_show(used)} used)."
    return UsageStatus.DENIED, code, message


def has_nul(spec: UsageEventSpec) -> bool:
    """Whether any of the event's text holds a NUL, which no database column keeps
    (PostgreSQL refuses it): such an event is INVALID and is never looked up."""
    texts = (
        spec.idempotency_key,
        spec.organization_id,
        spec.meter,
        spec.user_id,
        spec.workspace_id,
        spec.model,
        spec.definition_id,
        spec.definition_name,
    )
    return any(text is not None and "\x00" in text for text in texts)


def _key_problem(key: str) -> str | None:
    """The idempotency key's checks, the first of `Books._problem`'s."""
    if not key.strip():
        return "The idempotency key must not be empty."
    if "\x00" in key:
        return "The idempotency key must not contain a NUL character."
    limit = _TEXT_LIMITS["idempotency key"]
    if len(key) > limit:
        return f"The idempotency key is longer than {limit} characters."
    return None


def _time_problem(occurred: datetime, latest: datetime) -> str | None:
    """`occurred_at` without a zone, or after `latest` (now + the tolerance)."""
    if occurred.tzinfo is None or occurred.utcoffset() is None:
        return "occurredAt must carry a time zone."
    if occurred > latest:
        return "occurredAt is more than 5 minutes in the future."
    return None


def _show(amount: Decimal) -> str:
    """An amount as people write it: 12.5, not 12.500000."""
    return f"{amount.normalize():f}" if amount else "0"
