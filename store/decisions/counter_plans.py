"""The rules of one event as counter checks: per call, which counters each event is
checked against (caps, allocations, the largest total, releases' floor), what it is
charged from (the MONTHLY pool, then grants) and what it adds once accepted; and the
`Plan` of a call that the counter store (`store.counters`) decides in batches.

Apart from validation and outcomes because this is the one place that names counters:
every name planned here is noted in `sources` with where SQL keeps it, so a counter
store can load what it lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from rules.amounts import MAX_TOTAL
from rules.cycles import Cycle
from rules.enums import (
    CreditPoolKind,
    Enforcement,
    MeterCategory,
    Resets,
    UsageDecisionCode,
)
from store.counters import (
    Batch,
    Cap,
    Charge,
    Check,
    EventPlan,
    Floor,
    Pool,
    grant_field,
    monthly_field,
    usage_field,
    user_field,
)
from store.decisions.events import EventOutcome, StoredEvent, UsageEventSpec
from store.rollups import AI_SPEND_METER, meter_contributions
from store.usage_loads import FieldSource
from store.usage_terms import Grant, MeterInfo, Org, Terms


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
class CounterPlans:
    """The counter plans of one call's events, shared by events alike (one object per
    shape, which the Redis script is sent once)."""

    orgs: dict[str, Org]
    meters: dict[str, MeterInfo]
    allocations: dict[tuple[str, str, str], Decimal]
    grants: dict[str, list[Grant]]
    sources: dict[str, dict[str, FieldSource]]
    """Where every counter the call's plans name comes from in SQL."""
    _pools: dict[tuple[str, datetime], tuple[Pool, ...]] = field(default_factory=dict)
    _bodies: dict[tuple[Any, ...], tuple[EventPlan, str | None]] = field(
        default_factory=dict
    )
    _live: dict[tuple[str, datetime], tuple[str, ...]] = field(default_factory=dict)
    _every_grant: dict[str, tuple[datetime | None, tuple[str, ...]]] = field(
        default_factory=dict
    )

    def shared_body(
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
            self.live_grants(org, event.occurred_at),
        )
        body = self._bodies.get(shape)
        if body is None:
            body = self._bodies[shape] = self._body(spec, event)
        return body

    def live_grants(self, org: Org, at: datetime) -> tuple[str, ...]:
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
            usage = self.usage_counter(org, event.meter_key, event.cycle)
            floor = Floor(usage, event.meter_key, event.quantity)
            return EventPlan(key, (floor,), None, adds), None
        terms = org.terms
        checks: list[Check] = [
            # Past this a total (and every rollup within it) would not be storable.
            Cap(
                self.usage_counter(org, meter, event.cycle),
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
                    self.usage_counter(org, meter, event.cycle),
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
            field=self.usage_counter(org, event.meter_key, event.cycle),
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
                    self.user_counter(org, meter, event.cycle, event.user_id),
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
        names = [self.usage_counter(org, meter, event.cycle)]
        user = event.user_id
        if user is not None and (org.id, user, meter) in self.allocations:
            names.append(self.user_counter(org, meter, event.cycle, user))
        return names

    def usage_counter(self, org: Org, meter: str, cycle: Cycle) -> str:
        if self.meters[meter].resets is Resets.NEVER:
            name = usage_field(meter, None)
            source = FieldSource(meter=meter)
        else:
            name = usage_field(meter, cycle.start)
            source = FieldSource(meter=meter, cycle=cycle)
        self.sources.setdefault(org.id, {})[name] = source
        return name

    def user_counter(self, org: Org, meter: str, cycle: Cycle, user: str) -> str:
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
