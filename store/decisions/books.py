"""Deciding usage events, up to the counters: what one call decides with (loaded up
front in a constant number of queries), each event validated
(`store.decisions.checks`), priced and planned (`store.decisions.counter_plans`), and
the counter store's decisions turned into outcomes (`store.decisions.outcomes`).

`Books.plan` groups events alike in all but their key and time (`_Shape`), so a bulk
batch is validated, priced and planned once per shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rules.amounts import quantize
from rules.cycles import Cycle
from rules.enums import UsageDecisionCode, UsageSource, UsageStatus
from rules.pricing import ModelRates, TokenCounts
from store.counters import Decision, EventPlan
from store.decisions.checks import (
    ai_problem,
    credits_problem,
    event_cost,
    key_problem,
    quantity_problem,
    text_problem,
    time_problem,
)
from store.decisions.counter_plans import CounterPlans, Plan
from store.decisions.events import (
    FUTURE_TOLERANCE,
    EventOutcome,
    StoredEvent,
    UsageEventSpec,
    has_nul,
)
from store.decisions.outcomes import DUPLICATE_MESSAGE, outcomes_of
from store.rollups import AI_SPEND_METER
from store.usage_loads import (
    FieldSource,
    load_allocations,
    load_grants,
    load_members,
    load_meters,
    load_orgs,
    load_prices,
    load_workspaces,
)
from store.usage_loads_pg import load_books_postgres
from store.usage_terms import Grant, Lock, MeterInfo, Org

_ZERO = Decimal(0)
_NO_TOKENS = TokenCounts()


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
    _shapes: dict[tuple[Any, ...], _Shape] = field(default_factory=dict)
    _counters: CounterPlans = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._counters = CounterPlans(
            self.orgs, self.meters, self.allocations, self.grants, self.sources
        )

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        specs: Sequence[UsageEventSpec],
        now: datetime,
        lock: Lock | None,
    ) -> Books:
        dialect = (await session.connection()).dialect.name
        # A NUL makes the event INVALID (`text_problem`); PostgreSQL refuses it in a
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
        counters = self._counters
        latest = now + FUTURE_TOLERANCE
        positions: list[int] | None = None
        events: list[EventPlan] | None = None
        last_org: str | None = None
        for index, spec in enumerate(specs):
            key = spec.idempotency_key
            shape = self._shape(spec)
            # The order of `store.recording`: the key, the shape's checks before the
            # time, the time, the shape's checks after it.
            problem = key_problem(key) or shape.before_time
            occurred = spec.occurred_at
            if problem is None and occurred is not None:
                problem = time_problem(occurred, latest)
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
                    index, key, UsageStatus.DUPLICATE, None, DUPLICATE_MESSAGE
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
            body_key = (cycle.start, counters.live_grants(org, occurred))
            body = shape.bodies.get(body_key)
            if body is None:
                body = shape.bodies[body_key] = counters.shared_body(spec, event)
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
        cost, unpriced = event_cost(spec, self.prices)
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

    # ------------------------------------------------------------------ validation

    def _problem_before_time(self, spec: UsageEventSpec) -> str | None:
        """The checks after the key's and before the time's (`plan`'s order):
        they read no key and no time, so a shape of events shares them."""
        if (problem := text_problem(spec)) is not None:
            return problem
        if spec.organization_id not in self.orgs:
            return f"Unknown organization {spec.organization_id!r}."
        meter = self.meters.get(spec.meter)
        if meter is None:
            return f"Unknown meter {spec.meter!r}."
        return quantity_problem(spec, meter)

    def _problem_after_time(self, spec: UsageEventSpec) -> str | None:
        """The checks after the time's (members, workspaces, AI fields)."""
        org = spec.organization_id
        if spec.user_id is not None and (org, spec.user_id) not in self.members:
            return f"Unknown user {spec.user_id!r}: not a member of the organization."
        if spec.workspace_id is not None and (org, spec.workspace_id) not in (
            self.workspaces
        ):
            return f"Unknown workspace {spec.workspace_id!r}."
        return ai_problem(spec, self.prices) or credits_problem(
            spec, self.orgs[org], self.prices
        )

    # ------------------------------------------------------------------ outcomes

    def finish(
        self,
        specs: Sequence[UsageEventSpec],
        plan: Plan,
        decided: Mapping[str, Sequence[Decision]],
    ) -> tuple[list[EventOutcome], list[StoredEvent]]:
        """Every event's outcome, in order, and the accepted events to store
        (`store.decisions.outcomes`)."""
        return outcomes_of(specs, plan, decided)

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
                plan.watch[org.id] = self._counters.user_counter(
                    org, spec.meter, cycle, spec.user_id
                )
                return allocation
        plan.watch[org.id] = self._counters.usage_counter(org, spec.meter, cycle)
        return None if org.terms is None else org.terms.limit(spec.meter)
